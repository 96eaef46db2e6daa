"""Problems found in raw/, reported to people: file, entry, field, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with raw/, located as precisely as the input allows."""

    file: str
    entry: str
    field: str
    message: str
    path: tuple[str | int, ...] = ()
    line: int | None = dataclass_field(default=None, compare=False)

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.file, self.line or 0, self.entry, self.field)

    def __str__(self) -> str:
        parts = [f"{self.file}:{self.line}" if self.line else self.file]
        parts += [p for p in (self.entry, self.field) if p != "-"]
        return ": ".join([*parts, self.message])


MAX_REPORTED = 200  # problems printed in full; a report stays readable and its size bounded


class ValidationFailed(Exception):
    """Raised when raw/ has problems; nothing is written."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=Problem.sort_key)
        super().__init__(f"{len(self.problems)} problem(s) in raw/")

    def report(self, limit: int | None = None) -> str:
        """The problems, one a line, in file order; past `limit` (default MAX_REPORTED) only their count."""
        limit = MAX_REPORTED if limit is None else limit
        lines = [str(p) for p in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"... and {len(self.problems) - limit} more problem(s) not shown: fix the ones above "
                         "(often one cause) and run check again")
        lines.append(f"{len(self.problems)} problem(s) found; no release was written.")
        return "\n".join(lines)


class ReleaseError(Exception):
    """A release command that cannot proceed (existing version, bad SemVer, ...)."""
