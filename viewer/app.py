"""Application factory: configuration, the release store, caching, security headers, errors."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import bokeh
from bokeh.util.paths import bokehjs_path
from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    send_from_directory,
    url_for,
)
from flask.globals import request_ctx
from flask.json.provider import DefaultJSONProvider
from markupsafe import escape
from werkzeug.exceptions import HTTPException, NotFound

from viewer import compression
from viewer.data import Release, ReleaseStore
from viewer.headers import SECURITY_HEADERS
from viewer.lru import LRU
from viewer.plots import ScatterTemplates
from viewer.query import BadQuery
from viewer.releases import ReleaseDamaged


class HtmlSafeJSONProvider(DefaultJSONProvider):
    """JSON whose text can never be read as markup: <, > and & are written as \\u escapes."""

    sort_keys = False  # Bokeh documents define models at first use; keep their order

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        text = super().dumps(obj, **kwargs)
        return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


@dataclass(frozen=True)
class Cached:
    """A finished response: body, status, type, the headers its view set, and its ETag."""

    body: bytes
    status: int
    mimetype: str
    headers: tuple[tuple[str, str], ...]
    etag: str

    def size(self, key: str) -> int:
        """Bytes this entry holds (body, headers, key, and a fixed allowance for the objects)."""
        return len(self.body) + len(key) + sum(len(k) + len(v) for k, v in self.headers) + 512


class ResponseCache:
    """An LRU of finished responses, bounded in bytes as well as in entries: releases are
    immutable, so a URL's answer never changes, but a worker's memory must not grow with the
    number of distinct URLs asked for."""

    def __init__(self, size: int, max_bytes: int = 32 << 20, max_item_bytes: int = 4 << 20):
        self.size = size
        self.max_bytes = max_bytes
        self.max_item_bytes = min(max_item_bytes, max_bytes)
        self.bytes = 0
        self._items: OrderedDict[str, tuple[Cached, int]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> Cached | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, value: Cached) -> None:
        cost = value.size(key)
        if self.size <= 0 or cost > self.max_item_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self._items[key] = (value, cost)
            self.bytes += cost
            while self._items and (len(self._items) > self.size or self.bytes > self.max_bytes):
                _, (_, freed) = self._items.popitem(last=False)
                self.bytes -= freed


def get_release() -> Release:
    """The release this app serves, loaded once per process and kept on `g` for the request."""
    if "release" not in g:
        g.release = current_app.extensions["heedless_store"].get(current_app.config["RELEASE"])
    return g.release


def send_release_file(version: str, filename: str) -> Response:
    """A file of a release, as a download: only files its verified SHA256SUMS lists, with the
    file's SHA-256 as the ETag (a damaged release raises ReleaseDamaged and is never served)."""
    try:
        path, digest = current_app.extensions["heedless_store"].download(version, filename)
    except LookupError as exc:
        abort(404, str(exc))
    return send_file(path, as_attachment=True, download_name=filename, max_age=31536000, etag=digest,
                     conditional=True)


def init_app(app: Flask) -> None:
    """Register the release store and the response cache on the app."""
    app.extensions["heedless_store"] = ReleaseStore(Path(app.config["RELEASES_DIR"]), app.config["RELEASE"])
    app.extensions["heedless_cache"] = ResponseCache(app.config["CACHE_SIZE"], app.config["CACHE_BYTES"],
                                                     app.config["CACHE_ITEM_BYTES"])
    app.extensions["heedless_plots"] = ScatterTemplates()
    app.extensions["heedless_queries"] = CanonicalQueries()


def _wants_json() -> bool:
    return request.path.endswith((".json", ".csv"))


PLAIN_ERROR = (
    "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{status} {title} · Heedless Backbones"
    "</title></head>\n<body><h1>{status} · {title}</h1>\n<p>{error}</p>\n<p><a href=\"/\">Back to the explorer</a></p>"
    "</body></html>\n"
)


def _error_page(body: dict[str, Any]) -> str:
    """The error page; a plain one when the request cannot build links (a bad Host) or the page
    itself fails: an error page must never fail."""
    if request_ctx.url_adapter is not None:
        try:
            return render_template("error.html", **body)
        except Exception as exc:  # noqa: BLE001 - answered below with the plain page
            current_app.logger.error("the error page could not be rendered (%s: %s)", type(exc).__name__, exc)
    return PLAIN_ERROR.format(**{k: escape(str(v)) for k, v in body.items()})


def _error(status: int, title: str, message: str, param: str | None = None, choices: str | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "status": status, "title": title, "error": message}
    if param:
        body.update({"parameter": param, "choices": choices})
    if _wants_json():
        response = jsonify(body)
    else:
        response = Response(_error_page(body), mimetype="text/html")
    response.status_code = status
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(BadQuery)
    def bad_query(exc: BadQuery) -> Response:
        msg = f"'{exc.value}' is not a valid value for the parameter '{exc.param}'."
        return _error(400, "Bad request", msg, exc.param, exc.choices)

    @app.errorhandler(ReleaseDamaged)
    def damaged(exc: ReleaseDamaged) -> Response:
        app.logger.error("refusing to serve: %s", exc)
        return _error(503, "Release refused", f"{exc}")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        return _error(exc.code or 500, exc.name, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:  # pragma: no cover - a bug; logged and answered kindly
        app.logger.exception("unexpected error")
        return _error(500, "Internal error", "Something went wrong on our side; the error was logged.")


EXPLORER_ENDPOINTS = ("explorer.index", "explorer.plot_json", "explorer.plot_csv")
REDIRECTS = (301, 302, 303, 307, 308)


MEMO_QUERY_BYTES = 1024  # longer query strings are validated each time, never remembered


class CanonicalQueries(LRU[tuple[str, str, bytes], str]):
    """The explorer's validated state for each query string already seen, per served release: a repeated
    address (the common case: links, permalinks, reloads) is not parsed again. It keeps only short query
    strings that validated, so no request can grow it past its bound."""

    def __init__(self, size: int = 2048):
        super().__init__(size)

    def set(self, key: tuple[str, str, bytes], value: str) -> None:
        if len(key[2]) <= MEMO_QUERY_BYTES:
            super().set(key, value)


def _canonical_query(served: str) -> str:
    """The request's parameters as the view reads them: the explorer's validated state (so a
    parameter of an axis that is not shown, or another order of the same parameters, is the
    same page), or the other pages' parameters sorted. A bad value raises BadQuery (a 400)."""
    if request.endpoint in EXPLORER_ENDPOINTS:
        from viewer.query import parse_spec

        memo = current_app.extensions["heedless_queries"]
        key = (served, request.endpoint, request.query_string)
        known = memo.get(key)
        if known is not None:
            return str(known)
        spec = parse_spec(request.args, get_release())
        # notices say which asked-for values were replaced: same state, different page
        canonical = spec.query() + "".join(f"&notice={n}" for n in spec.notices)
        memo.set(key, canonical)
        return canonical
    return urlencode(sorted(request.args.items(multi=True)))


def _register_caching(app: Flask) -> None:
    def cache_key() -> str:
        # the release actually served: "latest" moves when a new release is cut
        store = app.extensions["heedless_store"]
        served = (store.versions()[-1:] or ["none"])[0] if store.default == "latest" else store.default
        return f"{bokeh.__version__}|{served}|{request.path}?{_canonical_query(served)}"

    @app.before_request
    def serve_cached() -> Response | None:
        if request.method not in ("GET", "HEAD") or request.endpoint is None or request.endpoint in PASSTHROUGH:
            return None
        key = cache_key()
        g.cache_key = key
        hit = app.extensions["heedless_cache"].get(key)
        if hit is not None:
            response = Response(hit.body, status=hit.status, mimetype=hit.mimetype, headers=list(hit.headers))
            response.headers["X-Cache"] = "hit"
            g.etag = hit.etag
            return response
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        if response.status_code in REDIRECTS and response.location:
            response = _relative_redirect(response)
        key = g.get("cache_key")
        if key and response.status_code == 200 and not response.direct_passthrough:
            etag = g.get("etag")
            if etag is None:
                body = response.get_data()
                etag = hashlib.sha256(body).hexdigest()[:32]
                kept = tuple((k, v) for k, v in response.headers.items() if k not in ("Content-Type", "Content-Length"))
                app.extensions["heedless_cache"].put(key, Cached(body, 200, response.mimetype or "text/html", kept, etag))
            response.set_etag(etag)
            response.headers.setdefault("Cache-Control", "public, max-age=86400")
            response.make_conditional(request)
        if (request.endpoint == "static" and response.status_code == 200 and request.args.get("v")
                and request.args["v"] == asset_hash((request.view_args or {}).get("filename", ""))):
            # the address names this exact content: the browser need not ask again
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        return response


def asset_hash(filename: str) -> str:
    """The first 12 hex digits of a static file's SHA-256 ('' when there is no such file); files never change
    while the app serves, so each is hashed once."""
    hashes = current_app.extensions.setdefault("asset_hashes", {})
    if filename not in hashes:
        folder = Path(current_app.static_folder or "").resolve()
        path = (folder / filename).resolve()
        ok = path.is_relative_to(folder) and path.is_file()
        hashes[filename] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if ok else ""
    return str(hashes[filename])


PASSTHROUGH = ("static", "bokeh_js", "favicon", "pages.release_file", "health.healthz")


def _relative_redirect(response: Response) -> Response:
    """A redirect whose Location never names a host: werkzeug builds routing redirects (merged
    slashes) from the request's Host header, which a client chooses."""
    parts = urlsplit(response.location or "/")
    if not (parts.scheme or parts.netloc) and not (response.location or "").startswith("//"):
        return response
    location = "/" + parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    return redirect(location, code=response.status_code)  # type: ignore[return-value]


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the viewer. Configuration comes from HEEDLESS_* environment variables or test_config."""
    app = Flask(__name__)
    app.config.from_mapping(
        RELEASES_DIR=os.environ.get("HEEDLESS_RELEASES_DIR", "releases"),
        RELEASE=os.environ.get("HEEDLESS_RELEASE", "latest"),
        DATASETTE_URL=os.environ.get("HEEDLESS_DATASETTE_URL", ""),
        CACHE_SIZE=int(os.environ.get("HEEDLESS_CACHE_SIZE", "512")),  # entries; 0: no cache
        CACHE_BYTES=int(os.environ.get("HEEDLESS_CACHE_BYTES", str(32 << 20))),  # per worker process
        CACHE_ITEM_BYTES=int(os.environ.get("HEEDLESS_CACHE_ITEM_BYTES", str(4 << 20))),
        DEBUG=False,
    )
    if test_config:
        app.config.update(test_config)
    app.config["RELEASES_DIR"] = str(Path(app.config["RELEASES_DIR"]).resolve())
    app.json = HtmlSafeJSONProvider(app)
    init_app(app)
    try:  # refuse to start on a damaged release: hash its files before serving anything
        app.extensions["heedless_store"].check()
    except FileNotFoundError:
        pass  # no release yet: every page says so
    _register_errors(app)
    compression.init_app(app)  # before the response cache: it stores plain bodies
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

    @app.template_global()
    def asset(filename: str) -> str:
        """A static file's address versioned by its content, so it can be cached for a year."""
        return url_for("static", filename=filename, v=asset_hash(filename))

    @app.context_processor
    def globals_() -> dict[str, Any]:
        return {"bokeh_version": bokeh.__version__,
                "datasette_url": app.config["DATASETTE_URL"]}

    from viewer import discover, explorer, health, pages

    app.register_blueprint(health.bp)
    app.register_blueprint(explorer.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(discover.bp)
    return app
