"""The material-assistance check of an uploaded bill of materials, read by the same reader
as the CLI (all or nothing, every problem located by file, row and column), and the sample
bill offered for download in each format the reader takes."""

from __future__ import annotations

import csv
import io
import json
import re
from importlib.resources import files
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from bmtc.compliance.audit import macr_audit
from bmtc.compliance.bom import COMPONENT_FIELDS, PRODUCT_FIELDS, Bom, read_bom
from bmtc.compliance.macr import load_macr
from bmtc.compliance_service import check_macr
from bmtc.domain.dataset import Dataset
from bmtc.io.problems import ImportFailed, Problem

ACCEPTED = (".json", ".csv", ".xlsx")
# The years after the last step of the schedule keep its final threshold; a few of them are
# offered so a bill can be checked against the rule it will meet.
YEARS_AFTER_SCHEDULE = 5
_UNSAFE = re.compile(r"[^\w.\- ()]+")

# The sample module bill: the JSON template of docs/templates/compliance, shipped with the
# package (the docs folder is not installed); a test holds the two equal.
SAMPLE_BILL: dict[str, Any] = json.loads(
    (files("bmtc.data.compliance") / "samples" / "module-45x.json").read_text(encoding="utf-8"))
SAMPLE_YEAR = 2026


def macr_years() -> list[int]:
    starts = sorted({t.effective_from.year for t in load_macr().threshold})
    return list(range(starts[0], starts[-1] + YEARS_AFTER_SCHEDULE + 1))


def safe_file_name(name: str) -> str:
    """The uploaded file's own name (it labels every problem), reduced to its last part and
    to plain characters, since it becomes a path on this machine."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = _UNSAFE.sub("_", base).strip(" .")[-100:]
    suffix = Path(cleaned).suffix
    return cleaned if cleaned and Path(cleaned).stem else f"bill{suffix}"


def read_upload(name: str, content: bytes) -> Bom:
    """A bill from uploaded bytes; every failure is an ImportFailed naming the file."""
    file = safe_file_name(name)
    if Path(file).suffix.lower() not in ACCEPTED:
        raise ImportFailed([Problem(file, None, None,
                                    "is not a bill of materials (.json, .csv or .xlsx)")])
    with TemporaryDirectory(prefix="bmtc-bill-") as folder:
        path = Path(folder) / file
        path.write_bytes(content)
        try:
            return read_bom(path)
        except ValueError as exc:
            raise ImportFailed([Problem(file, None, None, f"could not be read: {exc}")],
                               ) from None


def macr_audit_of(dataset: Dataset, bom: Bom, year: int,
                  verdicts: dict[str, str]) -> dict[str, Any]:
    """The CLI's audit trail of the ratio (ValueError when the rule does not reach the bill
    or the year)."""
    result, suppliers = check_macr(dataset, bom, year, verdicts)
    return macr_audit(result, bom, suppliers.resolved)


def sample_json() -> bytes:
    return (json.dumps(SAMPLE_BILL, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _columns() -> tuple[list[str], list[str]]:
    product = [f for f in PRODUCT_FIELDS if f in SAMPLE_BILL["product"]]
    used = {key for line in SAMPLE_BILL["components"] for key in line}
    return product, [f for f in COMPONENT_FIELDS if f in used]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def sample_csv() -> bytes:
    """One table: a `kind` column, the product row, then one row per component."""
    product, component = _columns()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["kind", *product, *component])
    writer.writerow(["product", *(_text(SAMPLE_BILL["product"][f]) for f in product),
                     *([""] * len(component))])
    for line in SAMPLE_BILL["components"]:
        writer.writerow(["component", *([""] * len(product)),
                         *(_text(line.get(f)) for f in component)])
    return out.getvalue().encode("utf-8")


def sample_xlsx() -> bytes:
    """Sheets `product` and `components`, each a header row and rows."""
    from openpyxl import Workbook

    product, component = _columns()
    book = Workbook()
    sheet = book.active
    sheet.title = "product"
    sheet.append(product)
    sheet.append([SAMPLE_BILL["product"][f] for f in product])
    lines = book.create_sheet("components")
    lines.append(component)
    for line in SAMPLE_BILL["components"]:
        lines.append([line.get(f) for f in component])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
