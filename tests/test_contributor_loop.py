"""A contributor's loop: scaffold a source and a family, fill one in, check, and see it in the viewer and Datasette
through `heedless preview` (a build of raw/ as it is, never a release); one bad value gives one error."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from heedless.cli import main as heedless
from pipeline.__main__ import main as pipeline_main
from pipeline.scaffold import NO_RESULTS_YET

from .conftest import FIXTURE_RAW, ROOT

NEW_SOURCE = ["new-source", "gamma2024net", "--title", "GammaNet: a scaffolded family", "--authors", "Ann Bee; Cee Dee",
              "--year", "2024", "--arxiv", "2401.00001v2", "--published", "2024-01-02"]
NEW_FAMILY = ["new-family", "gammanet", "--name", "GammaNet", "--source", "gamma2024net", "--token-mixer",
              "convolution", "--hierarchical"]


def _in_thread(coroutine):  # type: ignore[no-untyped-def]
    """Run a coroutine on its own loop in a worker thread (the browser tests keep a loop in the main thread)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=60)


def _scaffold(raw: Path) -> None:
    assert heedless([*NEW_SOURCE, "--raw", str(raw)]) == 0
    assert heedless([*NEW_FAMILY, "--raw", str(raw)]) == 0


def test_scaffolds_write_a_source_its_results_file_and_a_family_that_pass_check(
    fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _scaffold(fixture_raw)
    out = capsys.readouterr().out
    assert out == (f"wrote {fixture_raw}/sources/gamma2024net.yaml\nwrote {fixture_raw}/results/gamma2024net.yaml\n"
                   f"wrote {fixture_raw}/families/gammanet.yaml\n")
    source = yaml.safe_load((fixture_raw / "sources" / "gamma2024net.yaml").read_text())
    assert source == {
        "id": "gamma2024net", "title": "GammaNet: a scaffolded family", "authors": ["Ann Bee", "Cee Dee"],
        "year": 2024, "kind": "paper", "arxiv_id": "2401.00001", "arxiv_version": 2,
        "url": "https://arxiv.org/abs/2401.00001v2", "published": dt.date(2024, 1, 2),
        "flops_convention": "macs",
    }
    family = yaml.safe_load((fixture_raw / "families" / "gammanet.yaml").read_text())
    assert family == {"family": {"id": "gammanet", "name": "GammaNet", "source": "gamma2024net",
                                 "token_mixer": "convolution", "hierarchical": True},
                      "backbones": [], "checkpoints": []}
    assert pipeline_main(["check", "--raw", str(fixture_raw)]) == 0
    assert "raw/ is valid: 3 families, 3 backbones" in capsys.readouterr().err


def test_a_scaffold_refuses_to_overwrite_and_names_a_missing_source(
    fixture_raw: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert heedless(["new-source", "alpha2021net", "--raw", str(fixture_raw), "--title", "x", "--authors", "y",
                     "--year", "2021", "--url", "https://example.org"]) == 2
    assert capsys.readouterr().err == (f"error: {fixture_raw}/sources/alpha2021net.yaml already exists; edit it "
                                       "instead of scaffolding it again\n")
    assert heedless(["new-family", "deltanet", "--raw", str(fixture_raw), "--name", "DeltaNet", "--source",
                     "delta2025net", "--token-mixer", "attention", "--isotropic"]) == 2
    assert capsys.readouterr().err == (f"error: no source 'delta2025net' in {fixture_raw}/sources: scaffold it first "
                                       "with `heedless new-source delta2025net`\n")


def test_a_scaffold_asks_for_what_the_flags_leave_out(fixture_raw: Path) -> None:
    import argparse

    from pipeline.scaffold import new_family

    answers = iter(["GammaNet", "alpha2021net", "attention", "n"])
    args = argparse.Namespace(raw=str(fixture_raw), id="gammanet", name=None, source=None, token_mixer=None,
                              hierarchical=None, code_url=None)
    [path] = new_family(args, ask=lambda prompt: next(answers))
    assert yaml.safe_load(path.read_text())["family"] == {
        "id": "gammanet", "name": "GammaNet", "source": "alpha2021net", "token_mixer": "attention",
        "hierarchical": False,
    }


def _fill_in(raw: Path) -> None:
    family = raw / "families" / "gammanet.yaml"
    family.write_text(family.read_text().replace("backbones: []", (
        "backbones:\n  - id: gammanet_t\n    name: GammaNet-T\n    params_m: 20.0\n"
        "    params_source: gamma2024net\n    params_where: Table 1"
    )).replace("checkpoints: []", (
        "checkpoints:\n  - id: gammanet_t.in1k\n    backbone: gammanet_t\n    pretrain_dataset: imagenet_1k\n"
        "    pretrain_method: supervised"
    )))
    results = raw / "results" / "gamma2024net.yaml"
    results.write_text(results.read_text().replace(NO_RESULTS_YET, "").replace("classification: []", (
        "classification:\n  - checkpoint: gammanet_t.in1k\n    eval_dataset: imagenet_1k\n"
        "    eval_resolution_px: 224\n    top1: 81.5\n    flops_g: 3.0\n    where: Table 2"
    ), 1))


def test_preview_serves_a_new_family_from_raw_in_the_viewer_and_datasette_without_a_release(
    tmp_path: Path, fixture_raw: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datasette.app import Datasette

    from pipeline.release import cut_release
    from viewer.app import create_app
    from viewer.serve import datasette_one_metadata

    releases = tmp_path / "releases"
    cut_release(FIXTURE_RAW, releases, "0.1.0", date="2026-01-15")
    _scaffold(fixture_raw)
    _fill_in(fixture_raw)
    monkeypatch.chdir(tmp_path)
    assert heedless(["preview", "--build-only", "--raw", str(fixture_raw), "--releases", str(releases)]) == 0
    assert sorted(p.name for p in releases.iterdir()) == ["CHANGELOG.md", "latest", "v0.1.0"]  # nothing cut
    preview = tmp_path / "build" / "preview"
    assert json.loads((preview / "datapackage.json").read_text())["version"] == "0.1.0+preview"
    client = create_app({"RELEASES_DIR": str(tmp_path / "build"), "RELEASE": "preview"}).test_client()
    page = client.get("/families/gammanet")
    assert page.status_code == 200 and "GammaNet-T" in page.text
    assert client.get("/healthz").get_json() == {"ok": True, "release": "0.1.0+preview"}
    ds = Datasette(immutables=[str(preview / "heedless-backbones.db")], metadata=datasette_one_metadata(preview))
    got = _in_thread(ds.client.get("/heedless-backbones/search.json?_shape=array&q=gammanet")).json()
    assert [(r["kind"], r["id"]) for r in got] == [
        ("family", "gammanet"), ("backbone", "gammanet_t"), ("checkpoint", "gammanet_t.in1k"), ("source", "gamma2024net"),
    ]


def test_one_bad_value_gives_one_error_at_its_cause(fixture_raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # alphanet_l.in1k's only metric is top1: unreadable, it must not also read as "gives no metric"
    path = fixture_raw / "results" / "alpha2021net.yaml"
    text = path.read_text()
    assert text.count("    top1: 83.0\n") == 1
    path.write_text(text.replace("    top1: 83.0\n", "    top1: 83,0\n"))
    assert pipeline_main(["check", "--raw", str(fixture_raw)]) == 1
    assert capsys.readouterr().err == (
        "results/alpha2021net.yaml:14: classification[1] (checkpoint alphanet_l.in1k): top1: expected a number, "
        "got '83,0'; write the number without quotes or units\n1 problem(s) found; no release was written.\n"
    )


def test_pre_commit_config_is_valid_and_its_check_hook_passes() -> None:
    pre_commit = [sys.executable, "-m", "pre_commit"]
    valid = subprocess.run([*pre_commit, "validate-config", ".pre-commit-config.yaml"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = [h["id"] for repo in config["repos"] for h in repo["hooks"]]
    assert hooks == ["heedless-check", "raw-tests", "ruff", "mypy"]
    if not (ROOT / ".git").exists():
        pytest.skip("pre-commit runs hooks only inside a git checkout")
    run = subprocess.run([*pre_commit, "run", "heedless-check", "--all-files"], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "heedless check" in run.stdout and "Passed" in run.stdout


def test_the_contributor_guide_names_the_commands_it_teaches() -> None:
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    for command in ("heedless new-source", "heedless new-family", "heedless check", "make preview", "make test",
                    "pre-commit install", "make reconcile"):
        assert command in guide, command


def test_check_reuses_unchanged_files_and_sees_every_edit(fixture_raw: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import load

    cache = tmp_path / "cache.pickle"
    first = load.load_raw(fixture_raw, workers=1, cache=cache)
    parsed: list[str] = []
    real = load.load_file
    monkeypatch.setattr(load, "load_file", lambda *job: parsed.append(job[2]) or real(*job))
    again = load.load_raw(fixture_raw, workers=1, cache=cache)
    assert (parsed, again.rows, again.problems) == ([], first.rows, first.problems)
    path = fixture_raw / "results" / "alpha2021net.yaml"
    path.write_text(path.read_text().replace("    top1: 83.0\n", "    top1: 'x'\n", 1))
    edited = load.load_raw(fixture_raw, workers=1, cache=cache)
    assert parsed == ["results/alpha2021net.yaml"]
    assert [(p.file, p.field) for p in edited.problems] == [("results/alpha2021net.yaml", "top1")]
    cache.write_bytes(b"not a pickle")
    parsed.clear()
    assert load.load_raw(fixture_raw, workers=1, cache=cache).problems == edited.problems
    assert len(parsed) == len(load._raw_files(fixture_raw)[0])
