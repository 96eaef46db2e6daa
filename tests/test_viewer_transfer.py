"""What goes over the wire: brotli or gzip when the client accepts it, the same bytes once decompressed."""

from __future__ import annotations

import gzip

import brotli
import pytest
from flask.testing import FlaskClient

DECOMPRESS = {"br": brotli.decompress, "gzip": gzip.decompress}


@pytest.mark.parametrize("path", ["/", "/plot.json", "/plot.csv", "/families", "/static/style.css", "/static/explorer.js"])
@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_pages_data_and_assets_are_compressed_when_the_client_accepts_it(client: FlaskClient, path: str, encoding: str) -> None:
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": f"{encoding}, identity;q=0.5"})
    assert (plain.status_code, packed.status_code) == (200, 200)
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert DECOMPRESS[encoding](packed.get_data()) == plain.get_data()
    assert len(packed.get_data()) < len(plain.get_data())


def test_brotli_is_preferred_when_both_are_accepted(client: FlaskClient) -> None:
    assert client.get("/", headers={"Accept-Encoding": "gzip, deflate, br"}).headers["Content-Encoding"] == "br"


def test_a_compressed_page_answers_304_to_its_own_etag(client: FlaskClient) -> None:
    first = client.get("/?family=alphanet", headers={"Accept-Encoding": "br"})
    assert first.headers["ETag"].endswith(':br"')
    again = client.get("/?family=alphanet", headers={"Accept-Encoding": "br", "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_repeated_compressed_page_comes_from_the_cache_unchanged(client: FlaskClient) -> None:
    first = client.get("/?family=betaformer", headers={"Accept-Encoding": "gzip"})
    second = client.get("/?family=betaformer", headers={"Accept-Encoding": "gzip"})
    assert second.headers["X-Cache"] == "hit"
    assert gzip.decompress(second.get_data()) == gzip.decompress(first.get_data())


def test_static_files_are_addressed_by_their_content_and_cached_for_a_year(client: FlaskClient) -> None:
    import hashlib
    import re

    from .conftest import ROOT

    html = client.get("/").text
    urls = re.findall(r'(?:src|href|data-select-script|data-select-style)="(/static/[^"?]+)\?v=([0-9a-f]+)"', html)
    assert {u for u, _ in urls} >= {"/static/style.css", "/static/explorer.js", "/static/discover.js",
                                    "/static/plot-first.js", "/static/vendor/tom-select/tom-select.complete.min.js",
                                    "/static/vendor/tom-select/tom-select.default.min.css"}
    for url, version in urls:
        path = ROOT / "viewer" / url.removeprefix("/")
        assert version == hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        assert client.get(f"{url}?v={version}").headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert client.get(f"{url}?v=000000000000").headers["Cache-Control"] != "public, max-age=31536000, immutable"
        assert client.get(url).headers["Cache-Control"] != "public, max-age=31536000, immutable"
