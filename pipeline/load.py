"""Load raw/ YAML into typed rows, reporting every structural and type problem.

Rows keep their provenance (`_file`, `_path`, `_label`) so that later checks can
say exactly which entry and field is wrong.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import difflib
import gc
import hashlib
import math
import os
import pickle  # noqa: S403 - the parse cache is a local build artefact
import re
import signal
import stat
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import spec
from .errors import Problem, shown

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


INT_LIMIT = 2**53  # beyond this no raw/ count or size is real, and release columns are 64-bit


def _kind_ok(value: Any, kind: str) -> tuple[bool, Any]:
    if kind == "str":
        return isinstance(value, str), value
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool) and abs(value) < INT_LIMIT, value
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
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


MULTILINE_FIELDS = {"notes", "description"}  # free prose; every other text is one line
# C0 controls but tab and line feed, DEL, C1 controls, line and paragraph separators, and the bidirectional
# embedding, override and isolate controls that make text display other than it reads
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _text_problem(value: str | list[str], multiline: bool) -> str | None:
    for text in value if isinstance(value, list) else [value]:
        bad = _CONTROL.search(text)
        if bad:
            return (f"contains the control character U+{ord(bad.group()):04X} at position {bad.start() + 1}: "
                    "remove it (invisible characters change what the text means)")
        if "\n" in text and not multiline:
            return "contains a line break: write it on one line (only notes and descriptions may span lines)"
    return None


def _type_hint(value: Any, kind: str) -> str:
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    shown = shown if len(shown) <= 40 else f"{shown[:30]}... ({len(shown)} characters)"
    if isinstance(value, float) and not math.isfinite(value):
        shown = ".nan" if math.isnan(value) else ".inf" if value > 0 else "-.inf"
        return f"is {shown}, not a finite number: write the number the source prints"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= INT_LIMIT:
        return f"is {shown}: far too large for a count or size; check the source"
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
            elif fspec.kind in ("str", "strlist"):
                bad = _text_problem(typed, multiline=name in MULTILINE_FIELDS)
                if bad:
                    self.problem(path + (name,), entry, name, bad)
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


# --- reading one raw/ file: only regular files inside raw/, of bounded size, depth and syntax --------------

MAX_FILE_BYTES = 16 * 1024 * 1024  # the largest real file is under 0.1 MB
MAX_DEPTH = 16  # raw/ entries nest at most 6 levels (a results file: section, entry, chain, stage, value)
# libyaml's composer recurses in C for every nesting level: a bound well below what overflows its stack
_COMPOSE_SAFE_DEPTH = 2000
_TAG = "tag:yaml.org,2002:"


class _RawLoader(yaml.CSafeLoader):
    """PyYAML's C parser with the YAML 1.2 core schema: `yes`, `no`, `on` and dates stay text, `1e3` is a number."""

    yaml_implicit_resolvers: dict = {}  # noqa: RUF012

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        """The base resolver, less its path resolvers and with a shortcut for plain text (most of raw/)."""
        if kind is yaml.ScalarNode:
            if implicit[0] and value[:1] in _TYPED_FIRST:
                for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                    if regexp.match(value):
                        return tag
            return _TAG + "str"
        return _TAG + ("seq" if kind is yaml.SequenceNode else "map")

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        """No path resolvers: nothing to track while composing."""

    def ascend_resolver(self) -> None:
        """No path resolvers: nothing to track while composing."""


_TYPED_FIRST = set("~nNtTfF-+.0123456789") | {""}  # first characters of null, bool, int and float
for _tag, _regex, _first in (
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
):
    _RawLoader.add_implicit_resolver(_TAG + _tag, re.compile(_regex), _first)


class _Refused(Exception):
    """A file that cannot be read as raw/ YAML: its one problem."""

    def __init__(self, message: str, line: int | None = None, path: tuple[str | int, ...] = ()):
        super().__init__(message)
        self.message, self.line, self.path = message, line, path


def _read_bytes(path: Path, raw_root: Path | None) -> bytes:
    """The file's bytes, refusing links out of raw/, folders, devices, pipes and oversized files."""
    try:
        if path.is_symlink():
            target = os.path.realpath(path)
            root = os.path.realpath(raw_root) if raw_root is not None else None
            if root is not None and os.path.commonpath([root, target]) != root:
                raise _Refused(f"is a link to '{target}', outside raw/: put the file itself in raw/ instead of a link")
        # O_NONBLOCK: opening a named pipe must not wait for a writer
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror or exc}): fix its permissions or remove it") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise _Refused("is a folder, not a file: rename it so it does not end in .yaml, or move it out of raw/")
        if not stat.S_ISREG(info.st_mode):
            raise _Refused("is not a regular file (a device, pipe or socket): replace it with a YAML file")
        chunks, size = [], 0
        while size <= MAX_FILE_BYTES:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > MAX_FILE_BYTES:
            raise _Refused(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB: split it into smaller files")
        return b"".join(chunks)
    except OSError as exc:
        raise _Refused(f"cannot be read ({exc.strerror or exc}): fix its permissions or remove it") from None
    finally:
        os.close(fd)


def _decode(data: bytes) -> tuple[str, list[_Refused]]:
    """UTF-8 text; a byte-order mark is reported and dropped, anything else that is not UTF-8 is refused."""
    notes = []
    if data.startswith(b"\xef\xbb\xbf"):
        notes.append(_Refused("starts with a byte-order mark (BOM): save the file as UTF-8 without BOM", 1))
        data = data[3:]
    try:
        return data.decode("utf-8"), notes
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _Refused(
            f"is not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}, column {column} cannot be decoded; "
            "save the file as UTF-8 (a binary or other file does not belong in raw/)",
            line,
        ) from None


def _compose(text: str) -> yaml.Node | None:
    """The file's YAML node tree, or _Refused with the line of the first syntax error."""
    # Nesting depth is at most the number of flow brackets plus the longest line (block levels need
    # increasing columns); only when that bound is large is the exact depth measured from the event stream.
    bound = text.count("[") + text.count("{") + max(map(len, text.splitlines()), default=0)
    try:
        if bound > _COMPOSE_SAFE_DEPTH:
            _check_depth(text)
        return yaml.compose(text, Loader=_RawLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        where = f" (line {line}, column {mark.column + 1})" if mark else ""
        what = exc.problem or exc.context
        fix = "fix the syntax"
        if exc.context == "expected a single document in the stream":
            what, fix = "more than one YAML document", "a raw/ file holds one document: remove the '---' line and what follows or merge it"
        raise _Refused(f"is not valid YAML: {what}{where}; {fix}", line) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        raise _Refused(f"is not valid YAML: {exc.reason} (line {line}); remove the character", line) from None
    except yaml.YAMLError as exc:
        raise _Refused(f"is not valid YAML: {exc}; fix the syntax") from None


def _check_depth(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_RawLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _TooDeep(event.start_mark.line + 1 if event.start_mark else 0)
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _TooDeep(_Refused):
    def __init__(self, line: int, path: tuple[str | int, ...] = ()):
        super().__init__(
            f"nests more than {MAX_DEPTH} levels deep (line {line}): raw/ entries are a few levels deep; "
            "check the brackets and indentation",
            line,
            path,
        )


_STR, _SEQ, _MAP = _TAG + "str", _TAG + "seq", _TAG + "map"
_SCALARS: dict[str, Callable[[str], Any]] = {
    _TAG + "str": str,
    _TAG + "null": lambda _v: None,
    _TAG + "bool": lambda v: v.lower() == "true",
    _TAG + "int": lambda v: int(v[2:], 8) if v.startswith("0o") else int(v[2:], 16) if v.startswith("0x") else int(v),
    _TAG + "float": lambda v: float(v.lower().replace(".inf", "inf").replace(".nan", "nan")),
}


class _Builder:
    """Python values from a node tree: duplicate keys, unknown tags and excessive depth become problems."""

    def __init__(self) -> None:
        self.problems: list[_Refused] = []
        self.done: dict[int, Any] = {}  # aliases share one value, so alias bombs stay linear
        self.open: set[int] = set()

    def value(self, node: yaml.Node, path: tuple[str | int, ...], depth: int = 0) -> Any:
        key = id(node)
        if key in self.open:  # a value containing itself has no finite form: refuse the file
            line = node.start_mark.line + 1
            raise _Refused(f"an alias refers to a value that contains it (line {line}): write the value out", line, path)
        if key in self.done:
            return self.done[key]
        kind = type(node)
        if kind is yaml.ScalarNode:
            return self._scalar(node, path)  # type: ignore[arg-type]
        if depth > MAX_DEPTH:
            self.problems.append(_TooDeep(node.start_mark.line + 1, path))
            return None
        if node.tag not in (_MAP, _SEQ):
            self.problems.append(_Refused(f"uses the YAML tag '{node.tag}', which raw/ does not accept: remove it",
                                          node.start_mark.line + 1, path))
        self.open.add(key)
        out: Any
        # plain text, most of raw/, is taken directly; everything else goes through value()
        if kind is yaml.SequenceNode:
            out = self.done[key] = []
            for i, item in enumerate(node.value):
                text = type(item) is yaml.ScalarNode and item.tag == _STR
                out.append(item.value if text else self.value(item, (*path, i), depth + 1))
        else:
            out = self.done[key] = {}
            for knode, vnode in node.value:
                if type(knode) is not yaml.ScalarNode:
                    self.problems.append(_Refused("a key must be a plain name, not a list or mapping: fix the indentation",
                                                  knode.start_mark.line + 1, path))
                    continue
                name = knode.value
                if name in out:
                    first = next(k for k, _v in node.value if type(k) is yaml.ScalarNode and k.value == name)
                    self.problems.append(_Refused(
                        f"duplicate key '{name}' (first at line {first.start_mark.line + 1}): keep one of the two",
                        knode.start_mark.line + 1, (*path, name)))
                    continue
                text = type(vnode) is yaml.ScalarNode and vnode.tag == _STR
                out[name] = vnode.value if text else self.value(vnode, (*path, name), depth + 1)
        self.open.discard(key)
        return out

    def _scalar(self, node: yaml.ScalarNode, path: tuple[str | int, ...]) -> Any:
        convert = _SCALARS.get(node.tag)
        if convert is None:
            line = node.start_mark.line + 1
            self.problems.append(_Refused(f"uses the YAML tag '{node.tag}', which raw/ does not accept: remove it", line, path))
            tag = _RawLoader.resolve(_RawLoader, yaml.ScalarNode, node.value, (True, False))  # type: ignore[arg-type]
            convert = _SCALARS[tag]
        try:
            return convert(node.value)
        except ValueError:  # e.g. `!!int abc`, or more digits than Python converts: the field's check explains
            return node.value


@contextmanager
def _no_gc() -> Iterator[None]:
    """Node trees are many small objects without cycles: the cyclic collector only slows their making,
    more the more the process already holds."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_yaml(path: Path, raw_root: Path | None = None) -> tuple[Any, list[_Refused]]:
    """One raw/ file's data and the problems found reading it (data is None when it cannot be read)."""
    text, problems = _decode(_read_bytes(path, raw_root))
    with _no_gc():
        node = _compose(text)
        if node is None:
            return None, problems
        builder = _Builder()
        data = builder.value(node, ())
    return data, problems + builder.problems


def _read_yaml(path: Path, file: str, out: RawData, raw_root: Path | None) -> Any:
    try:
        data, refusals = read_yaml(path, raw_root)
    except _Refused as exc:
        data, refusals = None, [exc]
    for r in refusals:
        entry, fld = _entry_of(file, data, r.path)
        out.problems.append(Problem(file, entry, fld, r.message, r.path, r.line))
    return data


def _entry_of(file: str, data: Any, path: tuple[str | int, ...]) -> tuple[str, str]:
    """The entry label and field a YAML path points into, in the words the entry checks use."""
    if not path:
        return "-", "-"
    kind = file.split("/", 1)[0]
    if kind == "results" and len(path) >= 2 and isinstance(path[1], int):
        raw = _get(data, path[:2])
        fld = path[2] if len(path) > 2 else "-"
        return _result_label(str(path[0]), path[1])(raw), str(fld)
    if kind == "families" and len(path) >= 2 and isinstance(path[1], int):
        return _id_label(f"{path[0]}[{path[1]}]")(_get(data, path[:2])), str(path[2]) if len(path) > 2 else "-"
    if kind == "families" and path[0] == "family":
        return _id_label("family")(_get(data, path[:1])), str(path[1]) if len(path) > 1 else "-"
    if kind == "vocab" and isinstance(path[0], int):
        return _id_label(f"[{path[0]}]")(_get(data, path[:1])), str(path[1]) if len(path) > 1 else "-"
    if kind == "sources":
        return _id_label("source")(data), str(path[0])
    return "-", str(path[0])


def _get(data: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(data, dict) and step in data:
            data = data[step]
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            data = data[step]
        else:
            return None
    return data


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
        return f"{section}[{i}]" + (f" ({ref} {shown(str(name))})" if name else "")

    return label


def _id_label(prefix: str) -> Callable[[Any], str]:
    def label(raw: Any) -> str:
        ident = raw.get("id") if isinstance(raw, dict) else None
        return f"{prefix} {shown(str(ident))}" if ident else prefix

    return label


# an empty file would silently drop what it held (a source's numbers, a family): say what belongs in it
EMPTY_FIX = {
    "sources": "describe the document (raw/README.md, sources/) or delete the file",
    "families": "add the family, its backbones and checkpoints, or delete the file",
    "results": "add the document's numbers (every result of a source lives in its file), or say why it has none "
               "in `no_results: <reason>`",
    "vocab": "a vocabulary lists its entries; restore them",
}


def load_file(kind: str, path: str, file: str, raw_root: str | None = None) -> RawData:
    """Read one raw/ file of the given kind (sources, families, results, vocab/<name>)."""
    out = RawData()
    data = _read_yaml(Path(path), file, out, Path(raw_root) if raw_root is not None else None)
    reader = _EntryReader(file, out)
    if data is None and not out.problems:
        out.problems.append(Problem(file, "-", "-", f"is empty: {EMPTY_FIX[kind.split('/')[0]]}"))
    if kind == "sources":
        if data is not None:
            row = reader.read("sources", data, spec.SOURCE, (), _id_label("source"))
            if row is not None and row.get("source_id") and Path(path).stem != row["source_id"]:
                reader.problem(("id",), row["_label"], "id", f"must match the file name '{_shown(Path(path).stem)}'; rename one of them")
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
        top = _top(data, file, out, ("source", "no_results", *spec.RESULT_SECTIONS))
        if top is not None:
            source = top.get("source")
            if not isinstance(source, str):
                out.problems.append(Problem(file, "-", "source", "is required: the sources/ id every number in this file comes from", ("source",)))
                source = None
            elif Path(path).stem != source:
                out.problems.append(Problem(file, "-", "source", f"must match the file name '{_shown(Path(path).stem)}': one file per source document", ("source",)))
            entries = 0
            for section, fields in spec.RESULT_SECTIONS.items():
                for i, raw in enumerate(_list_of(top, section, file, out)):
                    entries += 1
                    reader.read(section, raw, fields, (section, i), _result_label(section, i), {"source_id": source})
            _no_results(top, entries, file, out)
    elif kind.startswith("vocab/"):
        name = kind.split("/", 1)[1]
        fields = spec.VOCAB[name]
        if data is not None and not isinstance(data, list):
            out.problems.append(Problem(file, "-", "-", "expected a list of entries"))
        elif data == []:
            out.problems.append(Problem(file, "-", "-", f"has no entries: {EMPTY_FIX['vocab']}"))
        elif data:
            for i, raw in enumerate(data):
                reader.read(f"vocab_{name}", raw, fields, (i,), _id_label(f"[{i}]"))
    return out


def _no_results(top: dict[str, Any], entries: int, file: str, out: RawData) -> None:
    """A results file without results says why (a document that could not be read), so none vanish unnoticed."""
    why = top.get("no_results")
    if why is not None and (not isinstance(why, str) or not why.strip()):
        out.problems.append(Problem(file, "-", "no_results", "expected text: why this document's numbers are not recorded", ("no_results",)))
    elif why is not None and entries:
        out.problems.append(Problem(file, "-", "no_results", "the file has results: remove no_results", ("no_results",)))
    elif why is None and not entries:
        out.problems.append(Problem(file, "-", "-", f"has no results: {EMPTY_FIX['results']}"))


def _backbone_family(reader: _EntryReader, row: Row, fam_id: str | None, has_block: bool) -> None:
    own = row.pop("_family", None)
    if has_block and own is not None and own != fam_id:
        reader.problem(row["_path"] + ("family",), row["_label"], "family", f"is '{own}' but this file's family is '{fam_id}'; remove the field or move the backbone")
    if not has_block and own is None:
        reader.problem(row["_path"], row["_label"], "family", "is required in a file without a family block: name the family this backbone belongs to")
    row["family_id"] = fam_id if has_block else own


def _shown(name: str) -> str:
    """A file name as a report can print it: control characters and undecodable bytes escaped."""
    return name if name.isprintable() else ascii(name)[1:-1]


def _raw_files(raw_dir: Path) -> tuple[list[tuple[str, str, str, str]], list[Problem]]:
    jobs: list[tuple[str, str, str, str]] = []
    problems: list[Problem] = []
    root = str(raw_dir)
    for kind in ("sources", "families", "results"):
        for path in sorted((raw_dir / kind).glob("*.y*ml")):
            jobs.append((kind, str(path), f"{kind}/{_shown(path.name)}", root))
    for name in spec.VOCAB:
        path = raw_dir / "vocab" / f"{name}.yaml"
        if path.exists() or path.is_symlink():
            jobs.append((f"vocab/{name}", str(path), f"vocab/{name}.yaml", root))
        else:
            problems.append(Problem(f"vocab/{name}.yaml", "-", "-", "is missing; every vocabulary file is required"))
    return jobs, problems


def _size(path: str) -> int:
    try:
        return os.lstat(path).st_size
    except OSError:
        return 0


def _die_with_parent(parent: int) -> None:
    """Loader processes end with the command that started them, however it ends (even killed outright)."""
    if sys.platform.startswith("linux"):
        try:  # the kernel sends SIGKILL to this process when its parent dies
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before this process was set up
        os._exit(1)

    def watch() -> None:  # elsewhere (and as a second guard): notice being orphaned
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="orphan-watch").start()


def load_raw(raw_dir: Path, workers: int | None = None, progress: Callable[[int], None] | None = None,
             cache: Path | None = None) -> RawData:
    """Load every raw/ file. Large sets are read in parallel, in file order. With `cache`, files whose bytes
    (and the pipeline's code) are unchanged since the last run are taken from it instead of being parsed."""
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"raw folder '{raw_dir}' does not exist")
    jobs, problems = _raw_files(raw_dir)
    out = RawData(problems=problems)
    store = ParseCache(cache) if cache is not None else None
    keys = [store.key(job) for job in jobs] if store is not None else []
    cached = store.entries if store is not None else {}
    parsed = {i: cached[key] for i, key in enumerate(keys) if key in cached}
    todo = [i for i in range(len(jobs)) if i not in parsed]
    workers = workers if workers is not None else min(os.cpu_count() or 1, 4)
    size = sum(_size(jobs[i][1]) for i in todo)
    chunks = [todo[i : i + 64] for i in range(0, len(todo), 64)]
    if progress and len(parsed):
        progress(len(parsed))
    if workers > 1 and size > 4_000_000:
        pool = ProcessPoolExecutor(workers, initializer=_die_with_parent, initargs=(os.getpid(),))
        try:
            for chunk, parts in zip(chunks, pool.map(_load_each, [[jobs[i] for i in c] for c in chunks]), strict=True):
                parsed.update(zip(chunk, parts, strict=True))
                if progress:
                    progress(len(chunk))
        finally:  # interrupted or failed: drop the queued chunks instead of finishing them
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        for chunk in chunks:
            parsed.update(zip(chunk, _load_each([jobs[i] for i in chunk]), strict=True))
            if progress:
                progress(len(chunk))
    for i in range(len(jobs)):  # in file order, whichever way each file was read
        out.extend(parsed[i])
    if store is not None:
        store.save({key: parsed[i] for i, key in enumerate(keys) if key is not None}, fresh=bool(todo))
    return out


def _load_each(jobs: list[tuple[str, str, str, str]]) -> list[RawData]:
    return [load_file(*job) for job in jobs]


class ParseCache:
    """What load_file made of each raw/ file, keyed by the file's bytes, its place and the pipeline's code, so an
    edit re-reads only the edited file. Only plain files are cached (links, FIFOs and the like are read afresh);
    a cache that cannot be read or written is ignored, never an error."""

    VERSION = 1

    def __init__(self, path: Path):
        self.path = path
        self.salt = _code_hash()
        self.entries: dict[str, RawData] = {}
        try:
            with path.open("rb") as fh:
                stored = pickle.load(fh)  # noqa: S301 - a local build artefact this code wrote
            if isinstance(stored, dict) and stored.get("salt") == (self.VERSION, self.salt):
                self.entries = stored["entries"]
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, KeyError):
            self.entries = {}

    def key(self, job: tuple[str, str, str, str]) -> str | None:
        kind, path, file, root = job
        try:
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
                return None
            with open(path, "rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError:
            return None
        return hashlib.sha256(f"{kind}\0{file}\0{root}\0".encode() + data).hexdigest()

    def save(self, entries: dict[str, RawData], fresh: bool) -> None:
        """Keep exactly the files of this run (so deleted files drop out); written only when something changed."""
        if not fresh and entries.keys() == self.entries.keys():
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump({"salt": (self.VERSION, self.salt), "entries": entries}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self.path)
        except OSError:
            pass


def _code_hash() -> str:
    """The pipeline's own code: a change to how files are read invalidates every cached file."""
    digest = hashlib.sha256(yaml.__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


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
        if any(p.line is None for p in probs) and (path.exists() or path.is_symlink()):
            try:
                text = _decode(_read_bytes(path, raw_dir))[0]
                with _no_gc():
                    root = _compose(text)
            except _Refused:
                root = None  # already reported when the file was loaded
        lines = _Lines(root)
        for p in probs:
            line = p.line if p.line is not None else lines.of(p.path)
            located.append(Problem(p.file, p.entry, p.field, p.message, p.path, line))
    return located


class _Lines:
    """Line numbers of YAML paths in one node tree; each mapping is indexed once, however many problems it has."""

    def __init__(self, root: yaml.Node | None):
        self.root = root
        self.keys: dict[int, dict[str, yaml.Node]] = {}

    def _child(self, node: yaml.Node, step: str | int) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            index = self.keys.get(id(node))
            if index is None:
                index = self.keys[id(node)] = {}
                for key, value in node.value:  # the first of duplicate keys, as the loader keeps
                    index.setdefault(str(key.value), value if not isinstance(value, yaml.ScalarNode) else key)
            return index.get(str(step))
        if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            return node.value[step]
        return None

    def of(self, path: tuple[str | int, ...]) -> int | None:
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for step in path:
            child = self._child(node, step)
            if child is None:
                break
            node = child
            line = node.start_mark.line + 1
        return line
