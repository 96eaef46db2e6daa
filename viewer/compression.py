"""Brotli and gzip for HTML, JSON, CSV, JavaScript and CSS (Flask-Compress), with the compressed
bodies kept in a small LRU: a release never changes, so each URL is compressed once per encoding."""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import Flask, g, request
from flask_compress import Compress

MIMETYPES = ["text/html", "application/json", "text/csv", "text/javascript", "application/javascript", "text/css",
             "image/svg+xml"]


class CompressedBodies:
    """An LRU of compressed bodies keyed by encoding and URL (Flask-Compress's cache backend)."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
            return body

    def set(self, key: str, value: bytes) -> None:
        if self.size <= 0 or key.endswith(";"):
            return  # caching off, or a response without a cache key (static files, errors)
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


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
