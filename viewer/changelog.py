"""The releases' CHANGELOG.md, read into versions, sections and items, with a one-line summary each.

The changelog is written by the pipeline: `## vX.Y.Z` (optionally followed by a date), a paragraph, then
`### Added`, `### Changed` and `### Removed` with `- item` lines and indented `  - detail` lines, possibly
folded in `<details>` markup (dropped here: the page folds them itself). Lines of any other shape are
kept as text, so a change of format never loses anything; it only loses the summary counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ROWS = re.compile(r"^(?P<table>[a-z_]+): (?P<n>\d[\d,]*) row\(s\)$")
VALUES = re.compile(r"^(?P<table>[a-z_]+): (?P<n>\d[\d,]*) value\(s\)$")
HTML_LINE = re.compile(r"^</?(details|summary)\b.*>$")


@dataclass
class Item:
    text: str
    details: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Version:
    version: str
    heading: str = ""  # the whole heading, e.g. 'v0.5.0 (2026-12-03)'
    intro: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    def blocks(self) -> list[tuple[str, list]]:
        """The intro as blocks: ('p', [text]), ('list', [items]) and ('table', [header cells, *row cells]),
        the way the pipeline writes a release's summary (a paragraph, a counts table, a corrections list)."""
        out: list[tuple[str, list]] = []
        for line in self.intro:
            kind = "list" if line.startswith("- ") else "table" if line.startswith("|") else "p"
            if kind == "table" and set(line) <= set("|-: "):
                continue  # the table's header rule
            value = line[2:] if kind == "list" else [c.strip() for c in line.strip("|").split("|")] if kind == "table" else line
            if out and out[-1][0] == kind and kind != "p":
                out[-1][1].append(value)
            else:
                out.append((kind, [value]))
        return out

    def lead(self) -> str:
        """One paragraph saying what the release is: the pipeline's own first paragraph, else counts from the diff."""
        first = self.blocks()[:1]
        return first[0][1][0] if first and first[0][0] == "p" else self.summary()

    def summary(self) -> str:
        """'Added 8 tables, 21 columns and 2,929 rows; changed 240 values; removed 534 rows.'"""
        parts = []
        for section in self.sections:
            counts = {"table": 0, "column": 0, "row": 0, "value": 0, "other": 0}
            for item in section.items:
                text = item.text
                if item.text.startswith("table `"):
                    counts["table"] += 1
                elif item.text.startswith("column `"):
                    counts["column"] += 1
                elif m := ROWS.match(text):
                    counts["row"] += int(m["n"].replace(",", ""))
                elif m := VALUES.match(text):
                    counts["value"] += int(m["n"].replace(",", ""))
                else:
                    counts["other"] += 1
            words = [f"{n:,} {kind}{'' if n == 1 else 's'}" for kind, n in counts.items() if n and kind != "other"]
            if counts["other"]:
                words.append(f"{counts['other']} other change{'' if counts['other'] == 1 else 's'}")
            if words:
                listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
                parts.append(f"{section.title.lower()} {listed}")
        if not parts:
            return " ".join(self.intro) or "No changes listed."
        text = "; ".join(parts)
        return text[0].upper() + text[1:] + "."


def parse_changelog(text: str) -> list[Version]:
    """Versions in the order the file lists them (newest first)."""
    versions: list[Version] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("## "):
            heading = line[3:].strip()
            versions.append(Version(heading.split()[0] if heading else heading, heading))
            continue
        if not versions or not line.strip() or HTML_LINE.match(line.strip()):
            continue  # folding markup around a full diff carries no content
        current = versions[-1]
        if line.startswith("### "):
            current.sections.append(Section(line[4:].strip()))
        elif line.startswith("- ") and current.sections:
            current.sections[-1].items.append(Item(line[2:].strip()))
        elif line.startswith("  ") and line.strip().startswith("- ") and current.sections and current.sections[-1].items:
            current.sections[-1].items[-1].details.append(line.strip()[2:])
        elif current.sections and current.sections[-1].items:
            current.sections[-1].items[-1].details.append(line.strip())
        else:
            current.intro.append(line.strip())
    return versions
