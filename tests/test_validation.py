"""Bad raw input is reported with file, entry, field and a fix, all at once, and writes nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline.__main__ import main
from pipeline.errors import ValidationFailed
from pipeline.release import cut_release

BAD = Path(__file__).resolve().parent / "fixtures" / "bad"
CASES = sorted(p.name for p in BAD.iterdir() if p.is_dir())


def bad_raw(case: str, tmp_path: Path) -> Path:
    """A bad case as a plain folder: its links into the fixture set become copies (raw/ refuses links out of it)."""
    dest = tmp_path / case
    shutil.copytree(BAD / case, dest, symlinks=False, ignore=shutil.ignore_patterns("expected.txt"))
    return dest


def test_every_validation_class_has_a_bad_fixture() -> None:
    assert CASES == [
        "accuracy_above_100",
        "chain_resolution_without_dataset",
        "duplicate_id",
        "gmacs_flops_mixup",
        "malformed_yaml",
        "missing_source_and_where",
        "negative_params",
        "unknown_checkpoint",
        "unknown_vocabulary",
        "wrong_type",
    ]


@pytest.mark.parametrize("case", CASES)
def test_check_prints_the_exact_problems_of_each_bad_fixture_and_exits_non_zero(
    case: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["check", "--raw", str(bad_raw(case, tmp_path))])
    err = capsys.readouterr().err
    expected = (BAD / case / "expected.txt").read_text()
    if os.environ.get("REGENERATE_GOLDEN"):
        (BAD / case / "expected.txt").write_text(err)
    assert (code, err) == (1, expected)


def test_check_reports_every_problem_not_only_the_first(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    main(["check", "--raw", str(bad_raw("unknown_vocabulary", tmp_path))])
    err = capsys.readouterr().err
    assert err.count("unknown ") == 4
    assert err.endswith("4 problem(s) found; no release was written.\n")


def test_malformed_yaml_names_its_line(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed) as exc:
        cut_release(bad_raw("malformed_yaml", tmp_path), Path("/nonexistent-never-written"), "0.1.0")
    [problem] = exc.value.problems
    assert (problem.file, problem.line) == ("results/alpha2021net.yaml", 15)


def test_nothing_is_written_when_validation_fails(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    releases.mkdir()
    with pytest.raises(ValidationFailed):
        cut_release(bad_raw("negative_params", tmp_path), releases, "0.1.0")
    assert list(releases.iterdir()) == []


def test_an_unknown_field_suggests_the_right_name(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = fixture_raw / "results" / "alpha2021net.yaml"
    path.write_text(path.read_text().replace("    top5: 95.0\n", "    top_5: 95.0\n"))
    assert main(["check", "--raw", str(fixture_raw)]) == 1
    assert capsys.readouterr().err == (
        "results/alpha2021net.yaml:7: classification[0] (checkpoint alphanet_s.in1k): top_5: "
        "unknown field; did you mean 'top5'?\n1 problem(s) found; no release was written.\n"
    )


def test_a_result_file_must_be_named_for_its_source(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (fixture_raw / "results" / "alpha2021net.yaml").rename(fixture_raw / "results" / "alpha.yaml")
    assert main(["check", "--raw", str(fixture_raw)]) == 1
    assert capsys.readouterr().err == (
        "results/alpha.yaml:1: source: must match the file name 'alpha': one file per source document\n"
        "1 problem(s) found; no release was written.\n"
    )


def test_check_of_the_fixture_set_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--raw", str(BAD.parent / "raw"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")


def test_the_real_raw_data_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    root = BAD.parents[2]
    assert main(["check", "--raw", str(root / "raw"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
