"""`pipeline reconcile` against small reference files made for the fixture set."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.__main__ import main

from .conftest import FIXTURE_RAW, FIXTURES

REFERENCE = FIXTURES / "reference"


def run(capsys: pytest.CaptureFixture[str], known: Path) -> tuple[int, str]:
    code = main(["reconcile", "--raw", str(FIXTURE_RAW), "--sources", str(REFERENCE), "--known", str(known)])
    return code, capsys.readouterr().out


def test_reconcile_reports_matches_and_every_difference_beyond_tolerance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, tmp_path / "none.yaml")
    assert code == 1
    assert out == (
        "Reconcile report\n"
        "  matched against timm results: 1\n"
        "  matched against timm benchmark: 1\n"
        "  matched against mmpretrain: 1\n"
        "  matched against timm params: 1\n"
        "  differences beyond tolerance: 2 (0 explained, 2 unexplained)\n"
        "  tolerances: top-1 0.5 points; GMACs 8%; params 5%\n"
        "Unexplained (fix raw/ or add to the known differences with a reason):\n"
        "  - result alpha2021net/classification/alphanet_l.in1k/none/imagenet_1k@224: top1 83 vs mmpretrain 82.2 (alphanet-large_in1k)\n"
        "  - result alpha2021net/classification/alphanet_s.in1k/none/imagenet_1k@224: gmacs 4 vs timm 8.1 (alphanet_small @ 224) (about 2x: a FLOPs/MACs mix-up?)\n"
    )


def test_known_differences_explain_and_stale_ones_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    known = tmp_path / "known.yaml"
    known.write_text(
        '- {key: "alpha2021net/classification/alphanet_l.in1k/none/imagenet_1k@224", field: top1, reference: mmpretrain, reason: re-evaluated}\n'
        '- {key: "alpha2021net/classification/alphanet_s.in1k/none/imagenet_1k@224", field: gmacs, reference: timm, reason: counter}\n'
    )
    assert run(capsys, known) == (0, (
        "Reconcile report\n"
        "  matched against timm results: 1\n"
        "  matched against timm benchmark: 1\n"
        "  matched against mmpretrain: 1\n"
        "  matched against timm params: 1\n"
        "  differences beyond tolerance: 2 (2 explained, 0 unexplained)\n"
        "  tolerances: top-1 0.5 points; GMACs 8%; params 5%\n"
    ))
    known.write_text(known.read_text() + "- {key: alphanet_l, field: params_m, reference: timm, reason: old}\n")
    code, out = run(capsys, known)
    assert code == 1
    assert out.endswith("Known differences that no longer occur (remove them):\n  - alphanet_l params_m (timm)\n")


def test_the_real_data_has_no_unexplained_difference(capsys: pytest.CaptureFixture[str]) -> None:
    sources = Path(__file__).resolve().parents[2] / "shared" / "sources"
    if not sources.is_dir():
        pytest.skip("the reference data beside this repository (../shared/sources) is not here")
    code = main(["reconcile", "--sources", str(sources), "--known", "raw/known_differences.yaml"])
    out = capsys.readouterr().out
    assert (code, "0 unexplained" in out) == (0, True), out
