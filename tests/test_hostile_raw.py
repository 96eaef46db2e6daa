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


# (case id, mutation, exact report)
CASES: list[tuple[str, Mutation, str]] = [
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
        report(f"{ALPHA_RESULTS}:31: classification[3] (checkpoint alphanet_s.in1k): notes: nests more than 16 "
               "levels deep (line 31): raw/ entries are a few levels deep; check the brackets and indentation",
               f"{ALPHA_RESULTS}:31: classification[3] (checkpoint alphanet_s.in1k): notes: expected text, got list"),
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


@pytest.mark.parametrize(("case", "mutate", "expected"), CASES, ids=[c[0] for c in CASES])
def test_each_hostile_variant_is_refused_with_its_exact_report(
    case: str, mutate: Mutation, expected: str, fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mutate(fixture_raw)
    assert run_check(fixture_raw, capsys) == (1, expected)


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
    assert err.splitlines()[0] == (
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
