"""Brotli and gzip for HTML, JSON, CSV, JavaScript and CSS (Flask-Compress), with the compressed
bodies kept in a small LRU: a release never changes, so each URL is compressed once per encoding."""

from __future__ import annotations

from flask import Flask, g, request
from flask_compress import Compress

from viewer.lru import LRU

MIMETYPES = ["text/html", "application/json", "text/csv", "text/javascript", "application/javascript", "text/css",
             "image/svg+xml"]


class CompressedBodies(LRU[str, bytes]):
    """An LRU of compressed bodies keyed by encoding and URL (Flask-Compress's cache backend)."""

    def set(self, key: str, value: bytes) -> None:
        if not key.endswith(";"):  # a response without a cache key (static files, errors) is not kept
            super().set(key, value)


def _cache_key(req: object) -> str:
    # the response cache's key (served release and full path); static files have none
    return g.get("cache_key", "") if request.method == "GET" else ""


def init_app(app: Flask) -> None:
    """Compress responses the client accepts compressed. Call before the response cache is registered,
    so that the cache stores plain bodies and compression runs after it."""
    size = app.config.get("CACHE_SIZE", 512)
    app.config.setdefault("COMPRESS_MIMETYPES", MIMETYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.config.setdefault("COMPRESS_CACHE_KEY", _cache_key)
    app.config.setdefault("COMPRESS_CACHE_BACKEND", lambda: CompressedBodies(size))
    Compress(app)
