"""Located import problems: which file, row and column, and why."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None
    column: str | None
    reason: str
    table: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.table:
            where.append(f"table {self.table}")
        if self.row is not None:
            where.append(f"row {self.row}")
        location = ", ".join(where)
        if self.column:
            return f"{location}, {self.column}: {self.reason}"
        return f"{location}: {self.reason}"


@dataclass
class ImportFailed(Exception):
    """Raised when a file cannot be imported; nothing was written."""

    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def single(cls, file: str, reason: str) -> ImportFailed:
        return cls([Problem(file, None, None, reason)])

    def __str__(self) -> str:
        shown = "\n".join(str(p) for p in self.problems[:50])
        more = len(self.problems) - 50
        return shown + (f"\n... and {more} more problems" if more > 0 else "")


class RowError(Exception):
    """Problems found in one row, each as (column, reason)."""

    def __init__(self, problems: list[tuple[str | None, str]]):
        super().__init__("; ".join(f"{c}: {r}" if c else r for c, r in problems))
        self.problems = problems
