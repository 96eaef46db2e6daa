"""Hostile raw/ input: every malformed variant is refused with file, entry, field and a fix, never a traceback.

Each case edits a private copy of tests/fixtures/raw and states the exact report `check` must print.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
ALPHA_RESULTS = "results/alpha2021net.yaml"
ALPHA_FAMILY = "families/alphanet.yaml"
ALPHA_SOURCE = "sources/alpha2021net.yaml"
CLS0 = "classification[0] (checkpoint alphanet_s.in1k)"
FOOTER = "{n} problem(s) found; no release was written.\n"

Mutation = Callable[[Path], None]


def replace(file: str, old: str, new: str) -> Mutation:
    def mutate(raw: Path) -> None:
        path = raw / file
        text = path.read_text()
        assert old in text, f"fixture changed: {old!r} not in {file}"
        path.write_text(text.replace(old, new, 1))

    return mutate


def write_bytes(file: str, data: bytes) -> Mutation:
    def mutate(raw: Path) -> None:
        (raw / file).write_bytes(data)

    return mutate


def edit_bytes(file: str, edit: Callable[[bytes], bytes]) -> Mutation:
    def mutate(raw: Path) -> None:
        path = raw / file
        path.write_bytes(edit(path.read_bytes()))

    return mutate


def report(*lines: str) -> str:
    return "".join(f"{line}\n" for line in lines) + FOOTER.format(n=len(lines))


def run_check(raw: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["check", "--raw", str(raw)])
    out = capsys.readouterr()
    assert out.out == ""
    return code, out.err


# (case id, mutation, exact report; None: worked out in SPECIAL)
CASES: list[tuple[str, Mutation, str | None]] = [
    (
        "flops_g_infinite",
        replace(ALPHA_RESULTS, "flops_g: 4.0", "flops_g: .inf"),
        report(f"{ALPHA_RESULTS}:8: {CLS0}: flops_g: is .inf, not a finite number: write the number the source prints"),
    ),
    (
        "flops_g_nan",
        replace(ALPHA_RESULTS, "flops_g: 4.0", "flops_g: .nan"),
        report(f"{ALPHA_RESULTS}:8: {CLS0}: flops_g: is .nan, not a finite number: write the number the source prints"),
    ),
    (
        "params_m_infinite",
        replace(ALPHA_FAMILY, "params_m: 25.0", "params_m: .inf"),
        report(f"{ALPHA_FAMILY}:11: backbones[0] alphanet_s: params_m: is .inf, not a finite number: "
               "write the number the source prints"),
    ),
    (
        "top1_negative_infinite",
        replace(ALPHA_RESULTS, "top1: 80.0", "top1: -.inf"),
        report(f"{ALPHA_RESULTS}:6: {CLS0}: top1: is -.inf, not a finite number: write the number the source prints"),
    ),
    (
        "integer_beyond_64_bits",
        replace(ALPHA_FAMILY, "pretrain_epochs: 300", "pretrain_epochs: 99999999999999999999999"),
        report(f"{ALPHA_FAMILY}:26: checkpoints[0] alphanet_s.in1k: pretrain_epochs: is 99999999999999999999999: "
               "far too large for a count or size; check the source"),
    ),
    (
        "integer_of_5000_digits",
        replace(ALPHA_FAMILY, "pretrain_epochs: 300", "pretrain_epochs: " + "9" * 5000),
        report(f"{ALPHA_FAMILY}:26: checkpoints[0] alphanet_s.in1k: pretrain_epochs: expected a whole number, got "
               "'99999999999999999999999999999... (5002 characters); write the number without quotes or units"),
    ),
    (
        "latin1_byte",
        edit_bytes(ALPHA_RESULTS, lambda b: b.replace(b"Table 1", b"Tabl\xe9 1", 1)),
        report(f"{ALPHA_RESULTS}:10: is not UTF-8 text: byte 0xe9 at line 10, column 16 cannot be decoded; "
               "save the file as UTF-8 (a binary or other file does not belong in raw/)"),
    ),
    (
        "binary_file",
        write_bytes(ALPHA_RESULTS, bytes(range(256)) * 4),
        report(f"{ALPHA_RESULTS}:2: is not UTF-8 text: byte 0x80 at line 2, column 118 cannot be decoded; "
               "save the file as UTF-8 (a binary or other file does not belong in raw/)"),
    ),
    (
        "control_character",
        edit_bytes(ALPHA_RESULTS, lambda b: b.replace(b"Table 1", b"Table\x07 1", 1)),
        report(f"{ALPHA_RESULTS}:10: is not valid YAML: control characters are not allowed (line 10); remove the character"),
    ),
    (
        "utf8_byte_order_mark",
        edit_bytes(ALPHA_RESULTS, lambda b: b"\xef\xbb\xbf" + b),
        report(f"{ALPHA_RESULTS}:1: starts with a byte-order mark (BOM): save the file as UTF-8 without BOM"),
    ),
    (
        "duplicate_key",
        replace(ALPHA_RESULTS, "    top5: 95.0\n", "    top5: 95.0\n    top5: 96.0\n"),
        report(f"{ALPHA_RESULTS}:8: {CLS0}: top5: duplicate key 'top5' (first at line 7): keep one of the two"),
    ),
    (
        "duplicate_key_deep_in_file",
        replace(ALPHA_RESULTS, "    box_ap: 54.0\n", "    box_ap: 54.0\n    where: Table 9\n"),
        report(f"{ALPHA_RESULTS}:61: detection[1] (checkpoint alphanet_l.in22k): where: duplicate key 'where' "
               "(first at line 58): keep one of the two"),
    ),
    (
        "duplicate_top_level_key",
        replace(ALPHA_FAMILY, "checkpoints:\n", "backbones: []\ncheckpoints:\n"),
        report(f"{ALPHA_FAMILY}:20: backbones: duplicate key 'backbones' (first at line 8): keep one of the two"),
    ),
    (
        "two_documents",
        replace(ALPHA_RESULTS, "detection:\n", "---\ndetection:\n"),
        report(f"{ALPHA_RESULTS}:41: is not valid YAML: more than one YAML document (line 41, column 1); "
               "a raw/ file holds one document: remove the '---' line and what follows or merge it"),
    ),
    (
        "deep_flow_nesting",
        replace(ALPHA_RESULTS, "    where: Table 5\n", "    where: Table 5\n    notes: " + "[" * 100_000 + "]" * 100_000 + "\n"),
        report(f"{ALPHA_RESULTS}:31: nests more than 16 levels deep (line 31): raw/ entries are a few levels deep; "
               "check the brackets and indentation"),
    ),
    (
        "deep_block_nesting",
        replace(ALPHA_RESULTS, "    where: Table 5\n", "    where: Table 5\n    notes:\n" + "".join(
            " " * (4 + i) + "-\n" for i in range(3000)) + "     x\n"),
        report(f"{ALPHA_RESULTS}:45: nests more than 16 levels deep (line 45): raw/ entries are a few levels deep; "
               "check the brackets and indentation"),
    ),
    (
        "moderate_nesting_under_the_fast_path",
        replace(ALPHA_RESULTS, "    where: Table 5\n", "    where: Table 5\n    notes: " + "[" * 40 + "]" * 40 + "\n"),
        report(f"{ALPHA_RESULTS}:31: classification[3] (checkpoint alphanet_s.in1k): notes: expected text, got list",
               f"{ALPHA_RESULTS}:31: classification[3] (checkpoint alphanet_s.in1k): notes: nests more than 16 "
               "levels deep (line 31): raw/ entries are a few levels deep; check the brackets and indentation"),
    ),
    (
        "syntax_error_in_a_file_with_many_brackets",
        replace(ALPHA_RESULTS, "    where: Table 5\n", "    where: Table 5\n    notes: " + "[a] " * 600 + "\n    top5: [1\n"),
        report(f"{ALPHA_RESULTS}:31: is not valid YAML: did not find expected key (line 31, column 16); fix the syntax"),
    ),
    (
        "python_object_tag",
        replace(ALPHA_RESULTS, "top1: 80.0", "top1: !!python/object:os.system 80.0"),
        report(f"{ALPHA_RESULTS}:6: {CLS0}: top1: uses the YAML tag 'tag:yaml.org,2002:python/object:os.system', "
               "which raw/ does not accept: remove it"),
    ),
    (
        "alias_cycle",
        replace(ALPHA_RESULTS, "    chain:\n      - {dataset: imagenet_1k, epochs: 30, resolution_px: 384}\n",
                "    chain: &loop\n      - *loop\n"),
        report(f"{ALPHA_RESULTS}:19: classification[2]: chain: an alias refers to a value that contains it (line 19): "
               "write the value out"),
    ),
    (
        "key_that_is_a_list",
        replace(ALPHA_RESULTS, "    top5: 95.0\n", "    ? [top5]\n    : 95.0\n"),
        report(f"{ALPHA_RESULTS}:7: {CLS0}: a key must be a plain name, not a list or mapping: fix the indentation"),
    ),
]


ENTRY_WITH_CHAIN = """  - checkpoint: alphanet_l.in22k
    chain:
      - {dataset: imagenet_1k, epochs: 30, resolution_px: 384}
    eval_dataset: imagenet_1k
    eval_resolution_px: 384
    top1: 86.0
    flops_g: 45.0
    where: Table 1
"""
DUPLICATE = "the result 'alpha2021net/classification/alphanet_l.in22k/imagenet_1k:30ep:384px/imagenet_1k@384'"
CASES += [
    (
        "result_with_a_chain_pasted_twice",
        replace(ALPHA_RESULTS, "detection:\n", ENTRY_WITH_CHAIN + "detection:\n"),
        report(f"{ALPHA_RESULTS}:18: classification[2] (checkpoint alphanet_l.in22k): {DUPLICATE} appears 2 times "
               f"(also {ALPHA_RESULTS} classification[5] (checkpoint alphanet_l.in22k)); remove the duplicate or tell "
               "them apart with a `tag`",
               f"{ALPHA_RESULTS}:41: classification[5] (checkpoint alphanet_l.in22k): {DUPLICATE} appears 2 times "
               f"(also {ALPHA_RESULTS} classification[2] (checkpoint alphanet_l.in22k)); remove the duplicate or tell "
               "them apart with a `tag`"),
    ),
]


CASES += [
    (
        "params_m_1e308",
        replace(ALPHA_FAMILY, "params_m: 25.0", "params_m: 1e308"),
        report(f"{ALPHA_FAMILY}:11: backbones[0] alphanet_s: params_m: is 1e+308, implausibly large (more than "
               "100,000); check the source and its unit"),
    ),
    (
        "flops_g_1e308",
        replace(ALPHA_RESULTS, "flops_g: 4.0", "flops_g: 1e308"),
        report(f"{ALPHA_RESULTS}:8: {CLS0}: flops_g: is 1e+308, implausibly large (more than 1,000,000); "
               "check the source and its unit"),
    ),
    (
        "images_per_s_1e308",
        replace(ALPHA_RESULTS, "images_per_s: 1200.0", "images_per_s: 1.0e308"),
        report(f"{ALPHA_RESULTS}:79: throughput[0] (backbone alphanet_s): images_per_s: is 1e+308, implausibly "
               "large (more than 10,000,000); check the source and its unit"),
    ),
    (
        "chain_epochs_absurd",
        replace(ALPHA_RESULTS, "{dataset: imagenet_1k, epochs: 30, resolution_px: 384}",
                "{dataset: imagenet_1k, epochs: 3000000000000, resolution_px: 384}"),
        report(f"{ALPHA_RESULTS}:20: classification[2] (checkpoint alphanet_l.in22k): chain[0].epochs: is "
               "3000000000000, implausibly large (more than 100,000); check the source and its unit"),
    ),
]


CLS3 = "classification[3] (checkpoint alphanet_s.in1k)"
# renaming backbone alphanet_s leaves its two references dangling, reported as such
RENAMED = (
    f"{ALPHA_FAMILY}:22: checkpoints[0] alphanet_s.in1k: backbone: unknown backbone 'alphanet_s'; fix the id (did "
    "you mean 'alphanet_l'?) or add it to the family's file in families/",
    f"{ALPHA_RESULTS}:74: throughput[0] (backbone alphanet_s): backbone: unknown backbone 'alphanet_s'; fix the id "
    "(did you mean 'alphanet_l'?) or add it to the family's file in families/",
)
TAG_AT = "    where: Table 5\n"
CASES += [
    (
        "tag_with_a_slash",
        replace(ALPHA_RESULTS, TAG_AT, TAG_AT + "    tag: a/b\n"),
        report(f"{ALPHA_RESULTS}:31: {CLS3}: tag: 'a/b' is not a valid id: use lowercase letters, digits and _ "
               "(see raw/README.md 'Ids')"),
    ),
    (
        "tag_with_a_newline",
        replace(ALPHA_RESULTS, TAG_AT, TAG_AT + '    tag: "a\\nb"\n'),
        report(f"{ALPHA_RESULTS}:31: {CLS3}: tag: contains a line break: write it on one line (only notes and "
               "descriptions may span lines)"),
    ),
    (
        "tag_with_markup",
        replace(ALPHA_RESULTS, TAG_AT, TAG_AT + '    tag: "<script>alert(1)</script>"\n'),
        report(f"{ALPHA_RESULTS}:31: {CLS3}: tag: '<script>alert(1)</script>' is not a valid id: use lowercase "
               "letters, digits and _ (see raw/README.md 'Ids')"),
    ),
    (
        "backbone_id_with_a_slash_and_markup",
        replace(ALPHA_FAMILY, "  - id: alphanet_s\n", "  - id: alpha/<b>net\n"),
        report(f"{ALPHA_FAMILY}:9: backbones[0] alpha/<b>net: id: 'alpha/<b>net' is not a valid id: use lowercase "
               "letters, digits and _ (see raw/README.md 'Ids')", *RENAMED),
    ),
    (
        "id_with_an_escape_character",
        replace(ALPHA_FAMILY, "  - id: alphanet_s\n", '  - id: "alphanet_s\\e[31m"\n'),
        report(f"{ALPHA_FAMILY}:9: backbones[0] alphanet_s\\x1b[31m: id: contains the control character U+001B at "
               "position 11: remove it (invisible characters change what the text means)", *RENAMED),
    ),
    (
        "id_of_5000_characters",
        replace(ALPHA_FAMILY, "  - id: alphanet_s\n", "  - id: " + "a" * 5000 + "\n"),
        report(f"{ALPHA_FAMILY}:9: backbones[0] {'a' * 50}... (5000 characters): id: '{'a' * 50}... (5000 "
               "characters)' is 5000 characters long; ids and tags are at most 64: shorten it", *RENAMED),
    ),
    (
        "name_with_a_bidi_override",
        replace(ALPHA_FAMILY, "name: AlphaNet-S", "name: \"Alpha\\u202eNet\""),
        report(f"{ALPHA_FAMILY}:10: backbones[0] alphanet_s: name: contains the control character U+202E at "
               "position 6: remove it (invisible characters change what the text means)"),
    ),
    (
        "where_with_a_line_break",
        replace(ALPHA_RESULTS, "    where: Table 5\n", "    where: |\n      Table 5\n      row 2\n"),
        report(f"{ALPHA_RESULTS}:30: {CLS3}: where: contains a line break: write it on one line (only notes and "
               "descriptions may span lines)"),
    ),
    (
        "input_size_not_width_by_height",
        replace(ALPHA_RESULTS, "input_size: 1280x800", "input_size: 1280 by 800"),
        report(f"{ALPHA_RESULTS}:47: detection[0] (checkpoint alphanet_s.in1k): input_size: '1280 by 800' is not "
               "an input size: write width x height in pixels, e.g. 1280x800"),
    ),
    (
        "commit_not_a_hash",
        replace(ALPHA_SOURCE, "flops_convention: macs", "commit: main; rm -rf /\nflops_convention: macs"),
        report(f"{ALPHA_SOURCE}:12: source alpha2021net: commit: 'main; rm -rf /' is not a commit hash: write the "
               "hexadecimal hash (git rev-parse HEAD)"),
    ),
    (
        "licence_id_with_a_slash",
        lambda raw: (raw / "vocab" / "licenses.yaml").write_text(
            (raw / "vocab" / "licenses.yaml").read_text() + "- {id: GPL/evil, name: Evil}\n"),
        report("vocab/licenses.yaml:13: [9] GPL/evil: id: 'GPL/evil' is not a valid id: use the licence's name as "
               "its document writes it: letters, digits, spaces and . + ( ) _ - (see raw/README.md 'Ids')"),
    ),
]


CLS2 = "classification[2] (checkpoint alphanet_l.in22k)"
DET0 = "detection[0] (checkpoint alphanet_s.in1k)"
IN1K_CHAIN = "      - {dataset: imagenet_1k, epochs: 30, resolution_px: 384}\n"
COCO_CHAIN = "      - {dataset: coco, epochs: 36}\n    eval_dataset: coco\n    input_size"
CASES += [
    (
        "classification_chain_out_of_order",
        replace(ALPHA_RESULTS, IN1K_CHAIN, IN1K_CHAIN + "      - {dataset: imagenet_22k, epochs: 90}\n"),
        report(f"{ALPHA_RESULTS}:21: {CLS2}: chain[1].dataset: the chain (imagenet_1k > imagenet_22k) ends on "
               "'imagenet_22k', but a result on 'imagenet_1k' is fitted last to imagenet_1k: list the stages in "
               "training order, the last one fits the classifier"),
    ),
    (
        "detection_chain_out_of_order",
        replace(ALPHA_RESULTS, COCO_CHAIN, COCO_CHAIN.replace("36}\n", "36}\n      - {dataset: imagenet_1k, epochs: 30}\n")),
        report(f"{ALPHA_RESULTS}:46: {DET0}: chain[1].dataset: the chain (coco > imagenet_1k) has 'imagenet_1k', "
               "which has no detection or instance segmentation data, after a stage that trains the task: list the "
               "stages in training order, the last one trains the head on the task's data"),
    ),
    (
        "detection_chain_without_detection_data",
        replace(ALPHA_RESULTS, COCO_CHAIN, COCO_CHAIN.replace("coco, epochs: 36", "imagenet_22k, epochs: 36")),
        report(f"{ALPHA_RESULTS}:45: {DET0}: chain[0].dataset: the chain (imagenet_22k) has 'imagenet_22k', which "
               "has no detection or instance segmentation data, last: list the stages in training order, the last "
               "one trains the head on the task's data"),
    ),
    (
        "published_in_the_future",
        replace(ALPHA_SOURCE, "published: 2021-01-04", "published: 2099-01-04"),
        None,  # names today's date: checked below
    ),
    (
        "published_outside_the_arxiv_month",
        replace(ALPHA_SOURCE, "published: 2021-01-04", "published: 2015-06-04"),
        report(f"{ALPHA_SOURCE}:10: source alpha2021net: published: is 2015-06-04, but arXiv id 2101.00001 was "
               "assigned in January 2021: write the date of version 1 (arXiv's 'Submitted on')"),
    ),
    (
        "paper_year_before_its_first_version",
        replace(ALPHA_SOURCE, "year: 2021", "year: 2020"),
        report(f"{ALPHA_SOURCE}:4: source alpha2021net: year: is 2020, before the first version (2021-01-04): a "
               "paper's year is its venue's or its first version's, never earlier"),
    ),
    (
        "empty_results_file",
        write_bytes(ALPHA_RESULTS, b""),
        report(f"{ALPHA_RESULTS}: is empty: add the document's numbers (every result of a source lives in its "
               "file), or say why it has none in `no_results: <reason>`"),
    ),
    (
        "results_file_with_only_its_source",
        write_bytes(ALPHA_RESULTS, b"source: alpha2021net\n# numbers to come\n"),
        report(f"{ALPHA_RESULTS}:1: has no results: add the document's numbers (every result of a source lives in "
               "its file), or say why it has none in `no_results: <reason>`"),
    ),
    (
        "no_results_beside_results",
        replace(ALPHA_RESULTS, "source: alpha2021net\n", "source: alpha2021net\nno_results: unreadable\n"),
        report(f"{ALPHA_RESULTS}:2: no_results: the file has results: remove no_results"),
    ),
    (
        "empty_source_file",
        write_bytes("sources/beta2022former.yaml", b"# nothing\n"),
        None,  # checked below: the source's references dangle too
    ),
    (
        "empty_vocabulary",
        write_bytes("vocab/runtimes.yaml", b"[]\n"),
        report("vocab/runtimes.yaml:1: has no entries: a vocabulary lists its entries; restore them"),
    ),
    (
        "top1_typed_as_a_fraction",
        replace(ALPHA_RESULTS, "top1: 80.0", "top1: 0.8"),
        report(f"{ALPHA_RESULTS}:6: {CLS0}: top1: is 0.8: a model trained for imagenet_1k at or below 1 % looks "
               "like a fraction typed for a percentage (0.8 for 80 %); write the percentage the source prints"),
    ),
    (
        "box_ap_typed_as_a_fraction",
        replace(ALPHA_RESULTS, "box_ap: 46.0", "box_ap: 0.46"),
        report(f"{ALPHA_RESULTS}:48: {DET0}: box_ap: is 0.46: a model trained for coco at or below 1 % looks like "
               "a fraction typed for a percentage (0.46 for 46 %); write the percentage the source prints"),
    ),
    (
        "top5_below_top1",
        replace(ALPHA_RESULTS, "top5: 95.0", "top5: 75.0"),
        report(f"{ALPHA_RESULTS}:6: {CLS0}: top1: is 80, above top5 75, which can never be: check that the columns "
               "are not swapped"),
    ),
]


CKPT = """  - id: alphanet_s.in1k
    backbone: alphanet_s
    pretrain_dataset: imagenet_1k
    pretrain_method: supervised
    pretrain_resolution_px: 224
    pretrain_epochs: 300
"""
DUPLICATE_CKPT = "duplicate id 'alphanet_s.in1k' (also {ALPHA_FAMILY} checkpoints[{i}] alphanet_s.in1k); ids must be unique: rename or merge one"
CASES += [
    (
        "checkpoint_pasted_twice",
        replace(ALPHA_FAMILY, CKPT, CKPT * 2),
        report(f"{ALPHA_FAMILY}:21: checkpoints[0] alphanet_s.in1k: id: "
               + DUPLICATE_CKPT.format(ALPHA_FAMILY=ALPHA_FAMILY, i=1),
               f"{ALPHA_FAMILY}:27: checkpoints[1] alphanet_s.in1k: id: "
               + DUPLICATE_CKPT.format(ALPHA_FAMILY=ALPHA_FAMILY, i=0)),
    ),
]


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_hostile_variant_is_refused_with_its_exact_report(
    case: str, mutate: Mutation, expected: str, fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutate(fixture_raw)
    code, err = run_check(fixture_raw, capsys)
    if expected is None:
        expected = SPECIAL[case](err)
    assert (code, err) == (1, expected)


def _future(_err: str) -> str:
    import datetime as dt

    today = dt.datetime.now(dt.UTC).date()
    return report(f"{ALPHA_SOURCE}:10: source alpha2021net: published: is 2099-01-04, in the future (today is "
                  f"{today}): write the date of the first version")


def _empty_source(err: str) -> str:
    lines = err.splitlines()
    empty = "sources/beta2022former.yaml: is empty: describe the document (raw/README.md, sources/) or delete the file"
    assert lines.count(empty) == 1
    # every other problem is a reference to the emptied source
    assert len([line for line in lines if "unknown source 'beta2022former'" in line]) == len(lines) - 2 > 0
    return err


SPECIAL = {"published_in_the_future": _future, "empty_source_file": _empty_source}


def test_an_alias_bomb_is_read_in_linear_time(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Twelve levels of ten aliases each would be 10**12 values if expanded."""
    levels = ["&a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"&a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    replace(ALPHA_RESULTS, "    top5: 95.0\n", f"    top5: 95.0\n    notes: [{', '.join(levels)}]\n")(fixture_raw)
    assert run_check(fixture_raw, capsys) == (1, report(
        f"{ALPHA_RESULTS}:8: {CLS0}: notes: expected text, got list"))


def test_yaml_1_2_scalars_keep_their_meaning(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`yes` and dates stay text (YAML 1.2), `1e3` is a number: no YAML 1.1 surprises."""
    replace(ALPHA_FAMILY, "name: AlphaNet-S", "name: yes")(fixture_raw)
    replace(ALPHA_RESULTS, "images_per_s: 1200.0", "images_per_s: 1.2e3")(fixture_raw)
    replace(ALPHA_RESULTS, "    where: Table 5\n", "    where: 2021-01-01\n")(fixture_raw)
    assert main(["check", "--raw", str(fixture_raw), "--quiet"]) == 0
    from pipeline.build import validated_tables

    frames = validated_tables(fixture_raw)
    names = frames["backbones"].filter(frames["backbones"]["backbone_id"] == "alphanet_s")["name"].to_list()
    assert names == ["yes"]
    assert 1200.0 in frames["throughput"]["images_per_s"].to_list()
    assert "2021-01-01" in frames["classification_results"]["where"].to_list()


# Inputs that used to hang or exhaust memory run in a child process with a time limit, so a regression fails
# instead of stalling the suite.
def _check_in_child(raw: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "check", "--raw", str(raw)],
        capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )


def test_a_folder_named_like_a_yaml_file_is_refused(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (fixture_raw / "results" / "extra.yaml").mkdir()
    assert run_check(fixture_raw, capsys) == (1, report(
        "results/extra.yaml: is a folder, not a file: rename it so it does not end in .yaml, or move it out of raw/"))


def test_a_link_to_dev_zero_is_refused_without_reading_it(fixture_raw: Path) -> None:
    os.symlink("/dev/zero", fixture_raw / "results" / "zero.yaml")
    done = _check_in_child(fixture_raw)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", report(
        "results/zero.yaml: is a link to '/dev/zero', outside raw/: put the file itself in raw/ instead of a link"))


def test_a_link_to_a_file_outside_raw_is_refused(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outside = fixture_raw.parent / "elsewhere.yaml"
    outside.write_text((fixture_raw / ALPHA_RESULTS).read_text())
    (fixture_raw / ALPHA_RESULTS).unlink()
    os.symlink(outside, fixture_raw / ALPHA_RESULTS)
    assert run_check(fixture_raw, capsys) == (1, report(
        f"{ALPHA_RESULTS}: is a link to '{outside}', outside raw/: put the file itself in raw/ instead of a link"))


def test_a_link_inside_raw_is_followed(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (fixture_raw / "results" / "alpha2021net.yaml").rename(fixture_raw / "alpha.txt")
    os.symlink("../alpha.txt", fixture_raw / ALPHA_RESULTS)
    assert main(["check", "--raw", str(fixture_raw), "--quiet"]) == 0


def test_a_dangling_link_is_refused(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    os.symlink("missing.yaml", fixture_raw / "results" / "gone.yaml")
    assert run_check(fixture_raw, capsys) == (1, report(
        "results/gone.yaml: cannot be read (No such file or directory): fix its permissions or remove it"))


def test_a_named_pipe_is_refused_without_waiting(fixture_raw: Path) -> None:
    os.mkfifo(fixture_raw / "results" / "pipe.yaml")
    done = _check_in_child(fixture_raw)
    assert (done.returncode, done.stdout, done.stderr) == (1, "", report(
        "results/pipe.yaml: is not a regular file (a device, pipe or socket): replace it with a YAML file"))


def test_an_oversized_file_is_refused_without_reading_it_all(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with open(fixture_raw / "results" / "huge.yaml", "wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: no disk used
    assert run_check(fixture_raw, capsys) == (1, report(
        "results/huge.yaml: is larger than 16 MB: split it into smaller files"))


def test_a_file_name_with_control_characters_is_printed_escaped(
    fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (fixture_raw / "results" / "bad\nname\x1b.yaml").write_text("source: alpha2021net\n")
    code, err = run_check(fixture_raw, capsys)
    assert code == 1
    assert err.splitlines()[1] == (
        "results/bad\\nname\\x1b.yaml: source: must match the file name 'bad\nname\x1b': one file per source document"
    ).replace("'bad\nname\x1b'", "'bad\\nname\\x1b'")


def test_a_bug_exits_with_its_own_status_never_the_refusal_status(
    fixture_raw: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.build

    def broken(*_args: object, **_kwargs: object) -> None:
        raise KeyError("SomeTable")

    monkeypatch.setattr(pipeline.build, "validated_tables", broken)
    code = main(["check", "--raw", str(fixture_raw)])
    err = capsys.readouterr().err
    assert code == 70
    assert err.startswith("Traceback (most recent call last):\n")
    assert err.endswith("KeyError: 'SomeTable'\ninternal error: a bug in the pipeline, not a problem in raw/; "
                        "please report it with the traceback above\n")


def test_refusal_bug_and_success_statuses_are_distinct_for_a_real_command(fixture_raw: Path) -> None:
    clean = _check_in_child(fixture_raw)
    (fixture_raw / ALPHA_RESULTS).write_text("source: [\n")
    refused = _check_in_child(fixture_raw)
    assert (clean.returncode, refused.returncode) == (0, 1)
    assert "Traceback" not in refused.stderr


def test_thousands_of_duplicates_give_a_bounded_report_in_linear_time(
    fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """4,000 copies of one entry used to print every place in every message (quadratic, out of memory)."""
    replace(ALPHA_RESULTS, "detection:\n", ENTRY_WITH_CHAIN * 4000 + "detection:\n")(fixture_raw)
    code, err = run_check(fixture_raw, capsys)
    lines = err.splitlines()
    assert (code, len(lines)) == (1, 202)
    assert lines[0] == (
        f"{ALPHA_RESULTS}:18: classification[2] (checkpoint alphanet_l.in22k): {DUPLICATE} appears 4001 times "
        f"(also {ALPHA_RESULTS} classification[5] (checkpoint alphanet_l.in22k); {ALPHA_RESULTS} classification[6] "
        f"(checkpoint alphanet_l.in22k); {ALPHA_RESULTS} classification[7] (checkpoint alphanet_l.in22k); and 3997 "
        "more); remove the duplicate or tell them apart with a `tag`"
    )
    assert lines[-2:] == [
        "... and 3801 more problem(s) not shown: fix the ones above (often one cause) and run check again",
        "4001 problem(s) found; no release was written.",
    ]
    assert len(err) < 100_000


def test_thousands_of_unknown_ids_give_a_bounded_report(
    fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    entries = "".join(f"  - {{checkpoint: ghost_{i}.x, eval_dataset: imagenet_1k, top1: 50.0, where: T1}}\n"
                      for i in range(3000))
    replace(ALPHA_RESULTS, "detection:\n", entries + "detection:\n")(fixture_raw)
    code, err = run_check(fixture_raw, capsys)
    lines = err.splitlines()
    assert (code, len(lines), lines[-1]) == (1, 202, "3000 problem(s) found; no release was written.")
    assert lines[0] == (
        f"{ALPHA_RESULTS}:41: classification[5] (checkpoint ghost_0.x): checkpoint: unknown checkpoint 'ghost_0.x'; "
        "fix the id or add it to the family's file in families/"
    )


def test_licence_ids_keep_their_spaces_and_notes_their_line_breaks(
    fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Licence ids are licence names (foreign keys written as the documents write them), not snake_case ids."""
    replace(ALPHA_FAMILY, "    pretrain_epochs: 300\n", "    pretrain_epochs: 300\n    license: Apple ML Research Model TOU\n"
            )(fixture_raw)
    replace(ALPHA_RESULTS, TAG_AT, TAG_AT + "    notes: |\n      first line\n      second line\n")(fixture_raw)
    assert main(["check", "--raw", str(fixture_raw), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_low_scores_that_can_be_real_are_accepted(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A zero-shot model can collapse below 1 % (RADIO at 1024 px: 0.204 %), and ImageNet-A is built so that
    ImageNet models fail on it: neither is refused as a fraction."""
    replace(ALPHA_RESULTS, "    top1: 20.5\n", "    top1: 0.4\n")(fixture_raw)  # imagenet_a
    replace(ALPHA_RESULTS, "    top1: 83.0\n", "    top1: 0.204\n    adaptation: zero_shot\n")(fixture_raw)
    assert main(["check", "--raw", str(fixture_raw), "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def _children(pid: int) -> set[int]:
    """Processes whose parent is pid (read from /proc)."""
    found = set()
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.add(int(stat_file.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_no_loader_process_outlives_a_killed_check(fixture_raw: Path, how: str) -> None:
    """A raw/ set over 4 MB is read by loader processes; killing the command ends them too."""
    import signal
    import time

    big = (fixture_raw / ALPHA_RESULTS).read_text().split("classification:\n", 1)[1].split("detection:\n", 1)[0]
    for i in range(40):
        (fixture_raw / "results" / f"bulk{i:02d}.yaml").write_text(f"source: bulk{i:02d}\nclassification:\n" + big * 400)
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "check", "--raw", str(fixture_raw), "--quiet"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not workers and time.monotonic() < deadline and proc.poll() is None:
            workers = _children(proc.pid)
            time.sleep(0.05)
        assert workers, "the loader processes never started"
        proc.send_signal(getattr(signal, how))
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [w for w in workers if _alive(w)] == []
    finally:
        proc.kill()
        proc.wait()
        for w in workers:  # a failing run must not leave them behind either
            if _alive(w):
                os.kill(w, signal.SIGKILL)


# Property-based: whatever bytes land in raw/, `check` answers 0 or 1 (never a bug status, never a hang).
PIECES = [b"\n", b" ", b"- ", b": ", b"[", b"]", b"{", b"}", b"&a ", b"*a", b"!!str ", b'"', b"'", b"#", b"---\n",
          b"\t", b"\x00", b"\xff", b".inf", b"-1", b"1e400", b"null", b"~", b"? ", b"|\n", b">\n", b"<<: *a\n",
          b"\xef\xbb\xbf", b"%YAML 1.1\n", b"0x1F", b"2021-02-30"]


def _fuzz_strategy():  # type: ignore[no-untyped-def]
    from hypothesis import strategies as st

    edit = st.tuples(
        st.integers(0, 10_000),  # which file (modulo the count)
        st.floats(0, 1),  # where in it
        st.sampled_from(["insert", "delete", "repeat_line", "bytes"]),
        st.sampled_from(PIECES),
        st.binary(min_size=1, max_size=6),
    )
    return st.lists(edit, min_size=1, max_size=4)


def _apply(raw: Path, edits: list) -> None:  # type: ignore[type-arg]
    files = sorted(raw.rglob("*.yaml"))
    for which, where, op, piece, noise in edits:
        path = files[which % len(files)]
        data = bytearray(path.read_bytes())
        pos = int(where * len(data))
        if op == "insert":
            data[pos:pos] = piece
        elif op == "delete":
            del data[pos : pos + 1 + len(noise) * 3]
        elif op == "repeat_line":
            lines = data.split(b"\n")
            line = lines[pos % len(lines)]
            lines.insert(len(noise) % (len(lines) + 1), line)
            data = bytearray(b"\n".join(lines))
        else:
            data[pos:pos] = noise
        path.write_bytes(bytes(data))


def test_random_damage_is_refused_or_accepted_never_a_bug(tmp_path: Path) -> None:
    import io
    import shutil
    from contextlib import redirect_stderr

    from hypothesis import HealthCheck, given, settings

    pristine = ROOT / "tests" / "fixtures" / "raw"

    @settings(max_examples=40, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(_fuzz_strategy())
    def damaged(edits: list) -> None:  # type: ignore[type-arg]
        raw = tmp_path / "raw"
        shutil.rmtree(raw, ignore_errors=True)
        shutil.copytree(pristine, raw)
        _apply(raw, edits)
        err = io.StringIO()
        with redirect_stderr(err):
            code = main(["check", "--raw", str(raw), "--quiet"])
        assert code in (0, 1), err.getvalue()
        assert "Traceback" not in err.getvalue()

    damaged()
