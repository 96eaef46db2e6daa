"""Load raw/ YAML into typed rows, reporting every structural and type problem.

Rows keep their provenance (`_file`, `_path`, `_label`) so that later checks can
say exactly which entry and field is wrong.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ryaml  # YAML 1.2 in Rust: ~7x faster than PyYAML's C loader, and refuses duplicate keys
import yaml

from . import spec
from .errors import Problem

Row = dict[str, Any]
ENTITIES = (
    "sources",
    "families",
    "backbones",
    "checkpoints",
    "classification",
    "detection",
    "segmentation",
    "throughput",
)


@dataclass
class RawData:
    """Typed rows of every raw entity, plus the problems found while reading them."""

    rows: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    problems: list[Problem] = field(default_factory=list)

    def extend(self, other: RawData) -> None:
        for name, rows in other.rows.items():
            self.rows[name].extend(rows)
        self.problems.extend(other.problems)


def _kind_ok(value: Any, kind: str) -> tuple[bool, Any]:
    if kind == "str":
        return isinstance(value, str), value
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if kind == "bool":
        return isinstance(value, bool), value
    if kind == "date":
        if isinstance(value, dt.date):
            return True, value
        if isinstance(value, str):
            try:
                return True, dt.date.fromisoformat(value)
            except ValueError:
                return False, value
        return False, value
    if kind == "strlist":
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        return ok, value
    raise AssertionError(kind)


_EXPECTED = {
    "str": "text",
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "date": "a date written YYYY-MM-DD",
    "strlist": "a list of text values, e.g. [a, b]",
    "stages": "a list of stages, e.g. [{dataset: imagenet_1k, epochs: 30}]",
}


def _type_hint(value: Any, kind: str) -> str:
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    hint = f"expected {_EXPECTED[kind]}, got {shown}"
    if kind == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
        hint += "; put it in quotes so YAML keeps it as text"
    if kind in ("int", "float") and isinstance(value, str):
        hint += "; write the number without quotes or units"
    return hint


class _EntryReader:
    """Checks one file's entries against their field specs."""

    def __init__(self, file: str, out: RawData):
        self.file = file
        self.out = out

    def problem(self, path: tuple[str | int, ...], entry: str, fld: str, message: str) -> None:
        self.out.problems.append(Problem(self.file, entry, fld, message, path))

    def read(
        self,
        entity: str,
        raw: Any,
        fields: dict[str, spec.Field],
        path: tuple[str | int, ...],
        label: Callable[[Any], str],
        extra: Row | None = None,
    ) -> Row | None:
        entry = label(raw)
        if not isinstance(raw, dict):
            self.problem(path, entry, "-", "expected a mapping of field: value pairs")
            return None
        row: Row = {"_file": self.file, "_path": path, "_label": entry, **(extra or {})}
        for key in raw:
            if key not in fields:
                close = difflib.get_close_matches(str(key), list(fields), n=1)
                fix = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(fields)}"
                self.problem(path + (key,), entry, str(key), f"unknown field; {fix}")
        for name, fspec in fields.items():
            value = raw.get(name)
            column = fspec.column or name
            if value is None:
                if fspec.required:
                    self.problem(path, entry, name, "is required; add it (see raw/README.md)")
                row[column] = [] if fspec.kind == "stages" else None
                continue
            if fspec.kind == "stages":
                row[column] = self._stages(value, path + (name,), entry)
                continue
            ok, typed = _kind_ok(value, fspec.kind)
            if not ok:
                self.problem(path + (name,), entry, name, _type_hint(value, fspec.kind))
                typed = None
            row[column] = typed
        if entity:
            self.out.rows[entity].append(row)
        return row

    def _stages(self, value: Any, path: tuple[str | int, ...], entry: str) -> list[Row]:
        if not isinstance(value, list):
            self.problem(path, entry, "chain", _type_hint(value, "stages"))
            return []
        stages = []
        for i, stage in enumerate(value):
            row = self.read("", stage, spec.STAGE, path + (i,), lambda _r: entry)
            if row is not None:
                stages.append({k: v for k, v in row.items() if not k.startswith("_")})
                stages[-1]["_stage_field"] = f"chain[{i}]"
        return stages


def _read_yaml(path: Path, file: str, out: RawData) -> Any:
    try:
        return ryaml.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        out.problems.append(Problem(file, "-", "-", f"is not UTF-8 text: {exc}"))
    except ValueError as exc:  # ryaml.InvalidYamlError
        out.problems.append(_yaml_problem(path, file, str(exc)))
    return None


def _yaml_problem(path: Path, file: str, fallback: str) -> Problem:
    """Explain a YAML error with PyYAML's line and column, which are the most precise."""
    try:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        column = f", column {mark.column + 1}" if mark else ""
        msg = f"is not valid YAML: {exc.problem or exc.context} (line {line}{column}); fix the syntax"
        return Problem(file, "-", "-", msg, (), line)
    except yaml.YAMLError:
        pass
    return Problem(file, "-", "-", f"is not valid YAML: {fallback}; fix it")


def _top(data: Any, file: str, out: RawData, keys: Iterable[str]) -> dict[str, Any] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        out.problems.append(Problem(file, "-", "-", "expected a mapping at the top of the file"))
        return None
    allowed = set(keys)
    for key in data:
        if key not in allowed:
            msg = f"unknown top-level key; allowed: {', '.join(sorted(allowed))}"
            out.problems.append(Problem(file, "-", str(key), msg, (key,)))
    return data


def _list_of(data: dict[str, Any], key: str, file: str, out: RawData) -> list[Any]:
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        out.problems.append(Problem(file, key, key, "expected a list of entries", (key,)))
        return []
    return items


def _result_label(section: str, i: int) -> Callable[[Any], str]:
    def label(raw: Any) -> str:
        ref = "backbone" if section == "throughput" else "checkpoint"
        name = raw.get(ref) if isinstance(raw, dict) else None
        return f"{section}[{i}]" + (f" ({ref} {name})" if name else "")

    return label


def _id_label(prefix: str) -> Callable[[Any], str]:
    def label(raw: Any) -> str:
        ident = raw.get("id") if isinstance(raw, dict) else None
        return f"{prefix} {ident}" if ident else prefix

    return label


def load_file(kind: str, path: str, file: str) -> RawData:
    """Read one raw/ file of the given kind (sources, families, results, vocab/<name>)."""
    out = RawData()
    data = _read_yaml(Path(path), file, out)
    reader = _EntryReader(file, out)
    if kind == "sources":
        if data is not None:
            row = reader.read("sources", data, spec.SOURCE, (), _id_label("source"))
            if row is not None and row.get("source_id") and Path(path).stem != row["source_id"]:
                reader.problem(("id",), row["_label"], "id", f"must match the file name '{Path(path).stem}'; rename one of them")
    elif kind == "families":
        top = _top(data, file, out, ("family", "backbones", "checkpoints"))
        if top is not None:
            # a file may hold only checkpoints (or backbones naming their family) of another
            # family's architectures, e.g. MAE-pretrained ViTs
            fam_id = None
            if "family" in top:
                fam = reader.read("families", top.get("family"), spec.FAMILY, ("family",), _id_label("family"))
                fam_id = fam.get("family_id") if fam else None
            for i, raw in enumerate(_list_of(top, "backbones", file, out)):
                row = reader.read("backbones", raw, spec.BACKBONE, ("backbones", i), _id_label(f"backbones[{i}]"))
                if row is not None:
                    _backbone_family(reader, row, fam_id, "family" in top)
            for i, raw in enumerate(_list_of(top, "checkpoints", file, out)):
                reader.read("checkpoints", raw, spec.CHECKPOINT, ("checkpoints", i), _id_label(f"checkpoints[{i}]"))
    elif kind == "results":
        top = _top(data, file, out, ("source", *spec.RESULT_SECTIONS))
        if top is not None:
            source = top.get("source")
            if not isinstance(source, str):
                out.problems.append(Problem(file, "-", "source", "is required: the sources/ id every number in this file comes from", ("source",)))
                source = None
            elif Path(path).stem != source:
                out.problems.append(Problem(file, "-", "source", f"must match the file name '{Path(path).stem}': one file per source document", ("source",)))
            for section, fields in spec.RESULT_SECTIONS.items():
                for i, raw in enumerate(_list_of(top, section, file, out)):
                    reader.read(section, raw, fields, (section, i), _result_label(section, i), {"source_id": source})
    elif kind.startswith("vocab/"):
        name = kind.split("/", 1)[1]
        fields = spec.VOCAB[name]
        if data is not None and not isinstance(data, list):
            out.problems.append(Problem(file, "-", "-", "expected a list of entries"))
        elif data:
            for i, raw in enumerate(data):
                reader.read(f"vocab_{name}", raw, fields, (i,), _id_label(f"[{i}]"))
    return out


def _backbone_family(reader: _EntryReader, row: Row, fam_id: str | None, has_block: bool) -> None:
    own = row.pop("_family", None)
    if has_block and own is not None and own != fam_id:
        reader.problem(row["_path"] + ("family",), row["_label"], "family", f"is '{own}' but this file's family is '{fam_id}'; remove the field or move the backbone")
    if not has_block and own is None:
        reader.problem(row["_path"], row["_label"], "family", "is required in a file without a family block: name the family this backbone belongs to")
    row["family_id"] = fam_id if has_block else own


def _raw_files(raw_dir: Path) -> tuple[list[tuple[str, str, str]], list[Problem]]:
    jobs: list[tuple[str, str, str]] = []
    problems: list[Problem] = []
    for kind in ("sources", "families", "results"):
        for path in sorted((raw_dir / kind).glob("*.y*ml")):
            jobs.append((kind, str(path), f"{kind}/{path.name}"))
    for name in spec.VOCAB:
        path = raw_dir / "vocab" / f"{name}.yaml"
        if path.exists():
            jobs.append((f"vocab/{name}", str(path), f"vocab/{name}.yaml"))
        else:
            problems.append(Problem(f"vocab/{name}.yaml", "-", "-", "is missing; every vocabulary file is required"))
    return jobs, problems


def _load_many(jobs: list[tuple[str, str, str]]) -> RawData:
    out = RawData()
    for job in jobs:
        out.extend(load_file(*job))
    return out


def load_raw(raw_dir: Path, workers: int | None = None, progress: Callable[[int], None] | None = None) -> RawData:
    """Load every raw/ file. Large sets are read in parallel, in file order."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder '{raw_dir}' does not exist")
    jobs, problems = _raw_files(raw_dir)
    out = RawData(problems=problems)
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    size = sum(os.path.getsize(j[1]) for j in jobs)
    chunks = [jobs[i : i + 64] for i in range(0, len(jobs), 64)]
    if workers > 1 and size > 4_000_000:
        with ProcessPoolExecutor(workers) as pool:
            for chunk, part in zip(chunks, pool.map(_load_many, chunks), strict=True):
                out.extend(part)
                if progress:
                    progress(len(chunk))
    else:
        for chunk in chunks:
            out.extend(_load_many(chunk))
            if progress:
                progress(len(chunk))
    return out


def count_files(raw_dir: Path) -> int:
    """How many files load_raw will read (for progress bars)."""
    return len(_raw_files(raw_dir)[0])


def locate(problems: list[Problem], raw_dir: Path) -> list[Problem]:
    """Fill in line numbers by re-reading only the files that have problems."""
    by_file: dict[str, list[Problem]] = defaultdict(list)
    for p in problems:
        by_file[p.file].append(p)
    located: list[Problem] = []
    for file, probs in by_file.items():
        root = None
        path = raw_dir / file
        if path.exists() and any(p.line is None for p in probs):
            try:
                root = yaml.compose(path.read_text(encoding="utf-8"))
            except yaml.YAMLError:
                root = None
        for p in probs:
            line = p.line if p.line is not None else _line_of(root, p.path)
            located.append(Problem(p.file, p.entry, p.field, p.message, p.path, line))
    return located


def _line_of(node: Any, path: tuple[str | int, ...]) -> int | None:
    if node is None:
        return None
    line = node.start_mark.line + 1
    for step in path:
        child = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == step:
                    child = value if not isinstance(value, yaml.ScalarNode) else key
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line
