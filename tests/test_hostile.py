"""Hostile requests and damaged releases: the viewer refuses what it cannot trust and never answers 500.

The first part drives the app through Flask's test client; the tests marked slow start the real
servers (gunicorn, Datasette, the serve supervisor) the way `make up` does.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import shutil
from pathlib import Path

import pytest
from flask import Flask

from pipeline.integrity import ReleaseDamaged
from pipeline.release import cut_release
from viewer.app import Cached, ResponseCache, create_app

from .conftest import FIXTURE_RAW

LONG_LABEL_HOST = "a" * 70 + ".example"


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.fixture
def releases(fixture_release: Path, tmp_path: Path) -> Path:
    """A private releases folder holding a copy of the fixture release v0.1.0."""
    dest = tmp_path / "releases"
    dest.mkdir()
    shutil.copytree(fixture_release, dest / "v0.1.0")
    return dest


@pytest.fixture(scope="module")
def app(fixture_release: Path) -> Flask:
    return create_app({"RELEASES_DIR": str(fixture_release.parent)})


# --- integrity: a damaged release is never served ---------------------------------------------

def test_the_viewer_refuses_to_start_on_a_flipped_byte_and_names_the_file(releases: Path) -> None:
    flip_byte(releases / "v0.1.0" / "classification_results.parquet")
    with pytest.raises(ReleaseDamaged, match=r"^release v0.1.0 is damaged and is refused: "
                                             r"classification_results.parquet does not match SHA256SUMS"):
        create_app({"RELEASES_DIR": str(releases)})


def test_a_file_changed_after_start_is_refused_with_503_never_served(releases: Path) -> None:
    app = create_app({"RELEASES_DIR": str(releases)})  # verified at start; tables load at the first request
    flip_byte(releases / "v0.1.0" / "backbones.parquet")
    client = app.test_client()
    for path in ("/", "/families", "/plot.json", "/backbones/alphanet_s"):
        response = client.get(path)
        assert response.status_code == 503, path
        text = response.get_data(as_text=True)
        assert "release v0.1.0 is damaged and is refused: backbones.parquet does not match SHA256SUMS" in text
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_a_missing_sums_is_refused_not_replaced_by_an_older_release(releases: Path) -> None:
    app = create_app({"RELEASES_DIR": str(releases)})
    shutil.copytree(releases / "v0.1.0", releases / "v0.1.1")
    (releases / "v0.1.1" / "SHA256SUMS").unlink()
    response = app.test_client().get("/families")
    assert response.status_code == 503
    assert "release v0.1.1 is damaged and is refused: SHA256SUMS is missing" in response.text
    with pytest.raises(ReleaseDamaged, match="release v0.1.1 is damaged and is refused: SHA256SUMS is missing"):
        create_app({"RELEASES_DIR": str(releases)})


def test_downloads_carry_the_files_hash_as_etag_and_answer_304(releases: Path) -> None:
    client = create_app({"RELEASES_DIR": str(releases)}).test_client()
    data = (releases / "v0.1.0" / "backbones.parquet").read_bytes()
    response = client.get("/releases/v0.1.0/backbones.parquet")
    assert response.status_code == 200 and response.data == data
    assert response.headers["ETag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["Cache-Control"] == "public, max-age=31536000"
    assert response.headers["Content-Disposition"] == "attachment; filename=backbones.parquet"
    again = client.get("/releases/v0.1.0/backbones.parquet", headers={"If-None-Match": response.headers["ETag"]})
    assert (again.status_code, again.data) == (304, b"")
    sums = client.get("/releases/v0.1.0/SHA256SUMS")
    assert sums.status_code == 200 and sums.data == (releases / "v0.1.0" / "SHA256SUMS").read_bytes()


def test_a_download_from_a_damaged_release_is_refused(releases: Path) -> None:
    client = create_app({"RELEASES_DIR": str(releases)}).test_client()
    flip_byte(releases / "v0.1.0" / "heedless-backbones.db")
    response = client.get("/releases/v0.1.0/sources.parquet")
    assert response.status_code == 503
    assert "heedless-backbones.db does not match SHA256SUMS" in response.text


@pytest.mark.parametrize("name", ["b" * 300, "x" * 255 + ".parquet", "notes.txt", "..%2f..%2fpyproject.toml"])
def test_a_download_name_not_in_the_release_is_a_404(app: Flask, name: str) -> None:
    response = app.test_client().get(f"/releases/v0.1.0/{name}")
    assert response.status_code == 404
    if "%2f" not in name:  # a name with a slash matches no route at all
        assert f"Release v0.1.0 has no file &#39;{name[:80]}&#39;." in response.text


def test_an_unknown_or_overlong_release_version_is_a_404(app: Flask) -> None:
    for version in ("v9.9.9", "v" + "1" * 400):
        response = app.test_client().get(f"/releases/{version}/SHA256SUMS")
        assert response.status_code == 404
        assert "There is no release" in response.text


# --- request-derived values: Host, names, hidden axes ----------------------------------------

def test_a_host_with_a_long_label_is_a_400_with_a_plain_error_page(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        for path in ("/about", "/no-such-page", "/plot.json", "/releases/v0.1.0/SHA256SUMS"):
            response = app.test_client().get(path, headers={"Host": LONG_LABEL_HOST})
            assert response.status_code == 400, path
            assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
            assert response.headers["X-Frame-Options"] == "DENY"
    assert "The browser (or proxy) sent a request that this server could not understand." in response.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_parameters_of_a_hidden_axis_are_ignored_and_share_one_cache_entry(fixture_release: Path) -> None:
    app = create_app({"RELEASES_DIR": str(fixture_release.parent)})
    client = app.test_client()
    first = client.get("/?x=gmacs")
    cache = app.extensions["heedless_cache"]
    assert len(cache) == 1
    for i in range(60):
        response = client.get(f"/?x=gmacs&x_task=anything{i}&x_metric=m{i}&x_gpu=g{i}&x_device=d{i}")
        assert response.status_code == 200
        assert response.headers["ETag"] == first.headers["ETag"]
    reordered = client.get("/?x_scale=linear&x=gmacs&color=family")
    assert reordered.headers["X-Cache"] == "hit"
    assert len(cache) == 1


def test_a_bad_value_of_a_shown_parameter_is_still_a_400(app: Flask) -> None:
    response = app.test_client().get("/plot.json?x=result&x_task=anything")
    assert response.status_code == 400
    assert (response.json["parameter"], response.json["error"]) == (
        "x_task", "'anything' is not a valid value for the parameter 'x_task'.")


def test_the_response_cache_is_bounded_in_bytes() -> None:
    cache = ResponseCache(size=1000, max_bytes=10_000, max_item_bytes=4_000)
    for i in range(50):
        cache.put(f"k{i}", Cached(b"x" * 3000, 200, "text/html", (), "e"))
    assert cache.bytes <= 10_000
    assert len(cache) == 2 and cache.get("k49") is not None and cache.get("k0") is None
    cache.put("big", Cached(b"x" * 5000, 200, "text/html", (), "e"))
    assert cache.get("big") is None  # larger than one entry may be: never cached


def test_the_app_cache_stays_within_its_byte_budget_under_many_distinct_pages(fixture_release: Path) -> None:
    app = create_app({"RELEASES_DIR": str(fixture_release.parent), "CACHE_BYTES": 300_000})
    client = app.test_client()
    for color in ("family", "pretrain_dataset", "pretrain_method", "head", "resolution", "schedule", "token_mixer", "none"):
        for marker in ("family", "pretrain_dataset", "resolution", "none"):
            assert client.get(f"/?color={color}&marker={marker}").status_code == 200
    cache = app.extensions["heedless_cache"]
    assert 0 < cache.bytes <= 300_000
    assert len(cache) < 32


def test_redirects_never_take_their_location_from_the_host_header(app: Flask) -> None:
    response = app.test_client().get("/families//alphanet", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/families/alphanet"
    assert "evil.example" not in response.text


def test_if_none_match_star_is_a_304_only_for_a_page_that_exists(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/no-such-page", headers={"If-None-Match": "*"}).status_code == 404
    assert client.get("/families/nobody", headers={"If-None-Match": "*"}).status_code == 404
    assert client.get("/?x=bogus", headers={"If-None-Match": "*"}).status_code == 400
    assert client.get("/families", headers={"If-None-Match": "*"}).status_code == 304
    assert client.get("/families", headers={"If-None-Match": '"not-the-etag"'}).status_code == 200


def test_a_cached_csv_keeps_its_content_disposition(app: Flask) -> None:
    client = app.test_client()
    first = client.get("/plot.csv?color=head")
    second = client.get("/plot.csv?color=head")
    assert second.headers["X-Cache"] == "hit"
    for response in (first, second):
        assert response.headers["Content-Disposition"] == "attachment; filename=heedless-backbones-0.1.0.csv"
        assert response.mimetype == "text/csv"
    assert first.data == second.data and first.headers["ETag"] == second.headers["ETag"]


# --- CSV: spreadsheet formulas are neutralised, numbers are not touched ----------------------

def test_csv_cells_never_start_like_a_formula(tmp_path: Path) -> None:
    from viewer.formatting import csv_cell

    assert [csv_cell(v) for v in ("=1+2", "+A1", "-cmd", "@SUM(A1)", "\tx", "\rx", "Table 3", "a=b")] == [
        "'=1+2", "'+A1", "'-cmd", "'@SUM(A1)", "'\tx", "'\rx", "Table 3", "a=b"]
    assert [csv_cell(v) for v in (-1.5, -3, 1e-07, "-2", "+4.5e+03", 83.6, None)] == [
        "-1.5", "-3", "1e-07", "-2", "+4.5e+03", "83.6", ""]

    raw = tmp_path / "raw"
    shutil.copytree(FIXTURE_RAW, raw)
    family = raw / "families" / "alphanet.yaml"
    family.write_text(family.read_text().replace("  name: AlphaNet\n", '  name: "=HYPERLINK(\\"http://x.test\\",\\"a\\")"\n'))
    results = raw / "results" / "alpha2021net.yaml"
    results.write_text(results.read_text().replace("where: Table 1", "where: \"@SUM(1+1)\"", 1))
    cut_release(raw, tmp_path / "releases", "0.1.0")
    client = create_app({"RELEASES_DIR": str(tmp_path / "releases")}).test_client()
    rows = list(csv.reader(io.StringIO(client.get("/plot.csv").text)))
    family_col, where_col = rows[0].index("family"), rows[0].index("where")
    assert {r[family_col] for r in rows[1:]} == {"'=HYPERLINK(\"http://x.test\",\"a\")", "BetaFormer"}
    assert "'@SUM(1+1)" in {r[where_col] for r in rows[1:]}
    assert all(not cell.startswith(("=", "+", "@")) for r in rows for cell in r)
    y_col = rows[0].index("ImageNet-1k Top-1 accuracy")
    assert sorted(float(r[y_col]) for r in rows[1:]) == [80.0, 82.0, 83.0, 83.6, 86.0]
