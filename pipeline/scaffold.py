"""Skeletons for a contributor's first edit: a new source with its results file, or a new family file.

Values come from flags, or from prompts when a value is missing and the command runs in a terminal. The files
written pass `check` as they are; commented examples show what to fill in (raw/README.md explains every field).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from .errors import ReleaseError

ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
ARXIV = re.compile(r"^(\d{4}\.\d{4,5})v(\d+)$")

RESULTS_EXAMPLES = """\
# Every number from this document goes below, each with `where` (table, figure or section).
# Uncomment a section, fill it in, then run `heedless check` (raw/README.md explains every field).
classification: []
#  - checkpoint: convnext_t.in1k        # a checkpoint id from families/
#    eval_dataset: imagenet_1k
#    eval_resolution_px: 224
#    top1: 82.1
#    flops_g: 4.5                       # as printed; flops_convention in sources/ says what it counts
#    where: Table 1
detection: []
#  - checkpoint: convnext_t.in1k
#    head: mask_rcnn
#    chain:
#      - {dataset: coco, epochs: 36}
#    eval_dataset: coco
#    box_ap: 46.2
#    where: Table 3
segmentation: []
throughput: []
#  - backbone: convnext_t
#    resolution_px: 224
#    gpu: a100
#    precision: amp
#    images_per_s: 1200.0
#    where: Table 1
"""

# check refuses a results file with no results unless it says why: the skeleton says so until it is filled in
NO_RESULTS_YET = "no_results: a new skeleton, not yet filled in (delete this line when you add the first result)\n"

FAMILY_EXAMPLES = """\
# The family's architecture variants and their pretrained checkpoints; results go in results/<source>.yaml.
# Uncomment, fill in, then run `heedless check` (raw/README.md explains every field).
backbones: []
#  - id: {id}_t
#    name: {name}-T
#    params_m: 28.6
#    params_source: {source}
#    params_where: Table 1
checkpoints: []
#  - id: {id}_t.in1k
#    backbone: {id}_t
#    pretrain_dataset: imagenet_1k
#    pretrain_method: supervised
"""

Ask = Callable[[str], str]


def _value(args: argparse.Namespace, name: str, prompt: str, ask: Ask | None, required: bool = True) -> str | None:
    value = getattr(args, name)
    if value is None and ask is not None:
        value = ask(f"{prompt}: ").strip() or None
    if value is None and required:
        raise ReleaseError(f"--{name.replace('_', '-')} is required ({prompt}); give it as a flag, or run the "
                           "command in a terminal to be asked")
    return value


def _asker() -> Ask | None:
    return input if sys.stdin.isatty() else None


def _dump(data: dict) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def _refuse_existing(*paths: Path) -> None:
    for path in paths:
        if path.exists():
            raise ReleaseError(f"{path} already exists; edit it instead of scaffolding it again")


def new_source(args: argparse.Namespace, ask: Ask | None = None) -> list[Path]:
    """raw/sources/<id>.yaml and raw/results/<id>.yaml for one document."""
    raw = Path(args.raw)
    source_id = args.id
    if not ID.match(source_id):
        raise ReleaseError(f"source id '{source_id}' is not lowercase snake_case, e.g. liu2022convnext")
    paths = [raw / "sources" / f"{source_id}.yaml", raw / "results" / f"{source_id}.yaml"]
    _refuse_existing(*paths)
    source: dict = {"id": source_id}
    source["title"] = _value(args, "title", "Title of the document", ask)
    authors = _value(args, "authors", "Authors, separated by ';'", ask) or ""
    source["authors"] = [a.strip() for a in authors.split(";") if a.strip()]
    source["year"] = int(_value(args, "year", "Year of first publication", ask) or 0)
    source["kind"] = args.kind
    arxiv = _value(args, "arxiv", "arXiv id with its version, e.g. 2201.03545v2 (empty if none)", ask, required=False)
    if arxiv:
        match = ARXIV.match(arxiv)
        if not match:
            raise ReleaseError(f"--arxiv '{arxiv}' is not an arXiv id with its version, e.g. 2201.03545v2")
        source.update({"arxiv_id": match[1], "arxiv_version": int(match[2]), "url": f"https://arxiv.org/abs/{arxiv}"})
    else:
        source["url"] = _value(args, "url", "Web address of the document", ask)
    for key in ("venue", "published", "code_url", "commit"):
        if getattr(args, key):
            source[key] = getattr(args, key)
    source["flops_convention"] = args.flops_convention
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    paths[1].parent.mkdir(parents=True, exist_ok=True)
    text = _dump(source)
    if "published" in source:  # a date, not a string
        text = text.replace(f"published: '{source['published']}'", f"published: {source['published']}")
    paths[0].write_text(text)
    paths[1].write_text(f"source: {source_id}\n" + NO_RESULTS_YET + RESULTS_EXAMPLES)
    return paths


def new_family(args: argparse.Namespace, ask: Ask | None = None) -> list[Path]:
    """raw/families/<id>.yaml: the family's identity, with empty backbones and checkpoints to fill in."""
    raw = Path(args.raw)
    family_id = args.id
    if not ID.match(family_id):
        raise ReleaseError(f"family id '{family_id}' is not lowercase snake_case, e.g. convnext")
    path = raw / "families" / f"{family_id}.yaml"
    _refuse_existing(path)
    name = _value(args, "name", "Display name, e.g. ConvNeXt", ask)
    source = _value(args, "source", "Introducing document (a sources/ id)", ask)
    if not (raw / "sources" / f"{source}.yaml").exists():
        raise ReleaseError(f"no source '{source}' in {raw / 'sources'}: scaffold it first with `heedless new-source {source}`")
    mixer = _value(args, "token_mixer", "Token mixer (an id from vocab/token_mixers.yaml)", ask)
    hierarchical = args.hierarchical
    if hierarchical is None and ask is not None:
        hierarchical = ask("Hierarchical (multi-stage pyramid)? [y/n]: ").strip().lower().startswith("y")
    if hierarchical is None:
        raise ReleaseError("--hierarchical or --isotropic is required")
    family: dict = {"id": family_id, "name": name, "source": source, "token_mixer": mixer, "hierarchical": hierarchical}
    if args.code_url:
        family["code_url"] = args.code_url
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump({"family": family}) + FAMILY_EXAMPLES.format(id=family_id, name=name, source=source))
    return [path]


def add_parsers(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    """The new-source and new-family subcommands."""
    s = sub.add_parser("new-source", parents=[common], help="scaffold raw/sources/ID.yaml and raw/results/ID.yaml")
    s.add_argument("id", help="source id: first author surname, year, short title word (liu2022convnext)")
    s.add_argument("--title")
    s.add_argument("--authors", help="authors separated by ';'")
    s.add_argument("--year")
    s.add_argument("--kind", default="paper", choices=["paper", "model_zoo", "dataset"])
    s.add_argument("--arxiv", help="arXiv id with the version the numbers are read from (2201.03545v2)")
    s.add_argument("--url", help="web address (when not on arXiv)")
    s.add_argument("--venue")
    s.add_argument("--published", help="first public version, YYYY-MM-DD")
    s.add_argument("--code-url", dest="code_url")
    s.add_argument("--commit", help="for a model zoo: the commit its tables were read at")
    s.add_argument("--flops-convention", dest="flops_convention", default="macs", choices=["macs", "flops", "unknown"])
    s.set_defaults(func=lambda a: _report(new_source(a, _asker())))
    f = sub.add_parser("new-family", parents=[common], help="scaffold raw/families/ID.yaml")
    f.add_argument("id", help="family id (convnext)")
    f.add_argument("--name")
    f.add_argument("--source", help="introducing document (a sources/ id)")
    f.add_argument("--token-mixer", dest="token_mixer")
    f.add_argument("--code-url", dest="code_url")
    shape = f.add_mutually_exclusive_group()
    shape.add_argument("--hierarchical", dest="hierarchical", action="store_true", default=None)
    shape.add_argument("--isotropic", dest="hierarchical", action="store_false")
    f.set_defaults(func=lambda a: _report(new_family(a, _asker())))


def _report(paths: list[Path]) -> int:
    for path in paths:
        print(f"wrote {path}")
    print("next: fill them in (raw/README.md explains every field), then `heedless check`", file=sys.stderr)
    return 0
