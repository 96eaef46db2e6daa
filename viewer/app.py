"""Application factory: configuration, the release store, caching, security headers, errors."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import bokeh
from bokeh.util.paths import bokehjs_path
from flask import Flask, Response, current_app, g, jsonify, render_template, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, NotFound

from viewer.data import Release, ReleaseStore
from viewer.plots import ScatterTemplates
from viewer.query import BadQuery

ASSET_VERSION = "2"  # bump when static files change, so long-cached URLs change too
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


class HtmlSafeJSONProvider(DefaultJSONProvider):
    """JSON whose text can never be read as markup: <, > and & are written as \\u escapes."""

    sort_keys = False  # Bokeh documents define models at first use; keep their order

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        text = super().dumps(obj, **kwargs)
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


class ResponseCache:
    """A small LRU of finished responses: releases are immutable, so a URL's answer never changes."""

    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict[str, tuple[bytes, int, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bytes, int, str] | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, value: tuple[bytes, int, str]) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


def get_release() -> Release:
    """The release this app serves, loaded once per process and kept on `g` for the request."""
    if "release" not in g:
        g.release = current_app.extensions["heedless_store"].get(current_app.config["RELEASE"])
    return g.release


def init_app(app: Flask) -> None:
    """Register the release store and the response cache on the app."""
    app.extensions["heedless_store"] = ReleaseStore(Path(app.config["RELEASES_DIR"]), app.config["RELEASE"])
    app.extensions["heedless_cache"] = ResponseCache(app.config["CACHE_SIZE"])
    app.extensions["heedless_plots"] = ScatterTemplates()


def _wants_json() -> bool:
    return request.path.endswith((".json", ".csv"))


def _error(status: int, title: str, message: str, param: str | None = None, choices: str | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "status": status, "title": title, "error": message}
    if param:
        body.update({"parameter": param, "choices": choices})
    if _wants_json():
        response = jsonify(body)
    else:
        response = Response(render_template("error.html", **body), mimetype="text/html")
    response.status_code = status
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(BadQuery)
    def bad_query(exc: BadQuery) -> Response:
        msg = f"'{exc.value}' is not a valid value for the parameter '{exc.param}'."
        return _error(400, "Bad request", msg, exc.param, exc.choices)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _error(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:  # pragma: no cover - a bug; logged and answered kindly
        app.logger.exception("unexpected error")
        return _error(500, "Internal error", "Something went wrong on our side; the error was logged.")


def _register_caching(app: Flask) -> None:
    def cache_key() -> str:
        # the release actually served: "latest" moves when a new release is cut
        store = app.extensions["heedless_store"]
        served = (store.versions()[-1:] or ["none"])[0] if store.default == "latest" else store.default
        return f"{served}|{request.full_path}"

    def etag_for(key: str) -> str:
        return hashlib.sha256(f"{ASSET_VERSION}|{bokeh.__version__}|{key}".encode()).hexdigest()[:32]

    @app.before_request
    def serve_cached() -> Response | None:
        if request.method != "GET" or request.path.startswith("/static/") or request.path == "/healthz":
            return None
        key = cache_key()
        etag = etag_for(key)
        g.cache_key, g.etag = key, etag
        if etag in request.if_none_match:
            return Response(status=304, headers={"ETag": f'"{etag}"'})
        hit = app.extensions["heedless_cache"].get(key)
        if hit is not None:
            body, status, mimetype = hit
            response = Response(body, status=status, mimetype=mimetype)
            response.headers["X-Cache"] = "hit"
            return response
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        etag = g.get("etag")
        if etag and response.status_code in (200, 304):
            response.headers["ETag"] = f'"{etag}"'
            response.headers.setdefault("Cache-Control", "public, max-age=86400")
            if response.status_code == 200 and not response.direct_passthrough and "X-Cache" not in response.headers:
                app.extensions["heedless_cache"].put(g.cache_key, (response.get_data(), 200, response.mimetype))
        return response


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the viewer. Configuration comes from HEEDLESS_* environment variables or test_config."""
    app = Flask(__name__)
    app.config.from_mapping(
        RELEASES_DIR=os.environ.get("HEEDLESS_RELEASES_DIR", "releases"),
        RELEASE=os.environ.get("HEEDLESS_RELEASE", "latest"),
        DATASETTE_URL=os.environ.get("HEEDLESS_DATASETTE_URL", ""),
        CACHE_SIZE=int(os.environ.get("HEEDLESS_CACHE_SIZE", "512")),
        DEBUG=False,
    )
    if test_config:
        app.config.update(test_config)
    app.config["RELEASES_DIR"] = str(Path(app.config["RELEASES_DIR"]).resolve())
    app.json = HtmlSafeJSONProvider(app)
    init_app(app)
    _register_errors(app)
    _register_caching(app)

    bokeh_static = Path(bokehjs_path()) / "js"

    @app.route(f"/bokeh/{bokeh.__version__}/<path:filename>")
    def bokeh_js(filename: str) -> Response:
        if not filename.endswith(".min.js"):
            raise NotFound("Only minified BokehJS bundles are served here.")
        return send_from_directory(bokeh_static, filename, max_age=31536000)

    @app.route("/favicon.ico")
    def favicon() -> Response:
        return send_from_directory(Path(app.static_folder or ""), "favicon.svg", mimetype="image/svg+xml", max_age=31536000)

    @app.context_processor
    def globals_() -> dict[str, Any]:
        return {"bokeh_version": bokeh.__version__, "asset_version": ASSET_VERSION,
                "datasette_url": app.config["DATASETTE_URL"]}

    from viewer import explorer, health, pages

    app.register_blueprint(health.bp)
    app.register_blueprint(explorer.bp)
    app.register_blueprint(pages.bp)
    return app
