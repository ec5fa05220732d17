"""Use cases shared by the CLI and the Python API: import, export, initialise."""

from __future__ import annotations

import gc
import getpass
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path

from bmtc.io.importer import Progress, Rejected, parse_tables, write_rejects
from bmtc.io.naatbatt import read_naatbatt
from bmtc.io.ownership_files import (
    OWNERSHIP_FORMATS,
    detect_ownership_format,
    read_ownership_file,
)
from bmtc.io.problems import ImportFailed
from bmtc.io.readers import detect_format, read_file
from bmtc.io.writers import write_dataset
from bmtc.store.queries import FacilityFilter
from bmtc.store.store import Store
from bmtc.store.writer import ImportSummary


@dataclass
class ImportOutcome:
    file: str
    format: str
    summary: ImportSummary
    rejected: list[Rejected] = field(default_factory=list)
    rejects_path: Path | None = None
    out_of_scope: int = 0


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    paths = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for item in paths:
        digest.update(item.name.encode())
        digest.update(item.read_bytes())
    return digest.hexdigest()


def system_actor() -> str:
    """Who runs a command on this machine, as the audit log names them."""
    try:
        return f"system:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (e.g. in some containers)
        return f"system:uid-{os.getuid()}"


def import_path(
    store: Store, path: Path, fmt: str | None = None, *, skip_invalid: bool = False,
    rejects_path: Path | None = None, as_of: str | None = None,
    progress: Progress | None = None, actor: str | None = None,
) -> ImportOutcome:
    """Validate a file and write it to the store in one transaction, recorded in the audit
    log under `actor` (by default the operating-system user running the import).

    Raises ImportFailed (nothing written) on any problem, unless `skip_invalid`, in which
    case the good rows are written and the rejected ones go to a reject file.
    """
    if not path.exists():
        raise ImportFailed.single(path.name, "does not exist")
    # Hundreds of thousands of long-lived validated objects make the cyclic collector run
    # over and over for nothing; nothing built here forms reference cycles worth collecting.
    gc.disable()
    try:
        ownership = fmt if fmt in OWNERSHIP_FORMATS else (
            detect_ownership_format(path) if fmt is None and path.is_file() else None)
        who = actor or system_actor()
        if ownership is not None:
            return _import_ownership(store, path, ownership, who)
        return _import(store, path, detect_format(path, fmt), skip_invalid, rejects_path,
                       as_of, progress, who)
    finally:
        gc.enable()


def _import(
    store: Store, path: Path, fmt: str, skip_invalid: bool, rejects_path: Path | None,
    as_of: str | None, progress: Progress | None, actor: str,
) -> ImportOutcome:
    early_rejects: list[Rejected] = []
    out_of_scope = 0
    if fmt == "naatbatt":
        workbook = read_naatbatt(path, as_of)
        raw, early_rejects, out_of_scope = workbook.raw, workbook.rejected, workbook.out_of_scope
    else:
        raw = read_file(path, fmt)
    report = progress or (lambda _what, _done, _total: None)
    report(f"Read {path.name}", 0, 1)
    parsed = parse_tables(raw, store.existing_ids, report)
    rejected = early_rejects + parsed.rejected
    if rejected and not skip_invalid:
        raise ImportFailed([p for r in rejected for p in r.problems])
    written_rejects = None
    if rejected:
        written_rejects = rejects_path or path.with_name(path.name + ".rejects.csv")
        write_rejects(written_rejects, rejected)
    report("Writing to the store", 0, 1)
    summary = store.apply(parsed.dataset, file_name=path.name, file_sha256=file_digest(path),
                          fmt=fmt, actor=actor, rejected=len(rejected))
    report("Written", 1, 1)
    return ImportOutcome(path.name, fmt, summary, rejected, written_rejects, out_of_scope)


def _import_ownership(store: Store, path: Path, fmt: str, actor: str) -> ImportOutcome:
    """BODS, GLEIF or FollowTheMoney: read whole (all or nothing), then stored like any
    other dataset; parties the file names are upserted, their statements added."""
    dataset = read_ownership_file(path, fmt)
    summary = store.apply(dataset, file_name=path.name, file_sha256=file_digest(path), fmt=fmt,
                          actor=actor)
    return ImportOutcome(path.name, fmt, summary)


def export_path(
    store: Store, path: Path, fmt: str, flt: FacilityFilter | None = None,
    table: str = "facilities",
) -> int:
    """Write the store (or the facilities a filter selects) to a file; return the row count."""
    dataset = store.load(flt)
    write_dataset(dataset, path, fmt, table)
    return len(dataset.facilities)


@contextmanager
def bundled_atlas() -> Iterator[Path]:
    with as_file(files("bmtc") / "data" / "atlas") as folder:
        yield Path(folder)


def initialise(store: Store) -> ImportOutcome:
    """Load the bundled atlas; running it again changes nothing."""
    with bundled_atlas() as folder:
        return import_path(store, folder, "folder", actor="system:bundled-atlas")
