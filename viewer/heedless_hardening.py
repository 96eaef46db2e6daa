"""Datasette plugin: serve a release only when it is intact, and keep hostile requests harmless.

- At start, every database's release folder is hashed against its SHA256SUMS; a damaged
  release (or one without SHA256SUMS) stops Datasette with a message naming the file.
- Every SQLite connection gets hard limits: no string or blob over 1 MB (so randomblob() or
  zeroblob() cannot allocate gigabytes in one call the time limit cannot interrupt), bounded
  SQL text, expression depth and compound selects, printf() widths, a process-wide SQLite heap
  limit, and a cap on the bytes one query may return.
- Every response carries the viewer's security headers (a CSP that allows exactly Datasette's
  own inline scripts, nosniff, frame-options, referrer policy).
- The introspection and debug pages under /-/ (versions, plugins, settings, databases with
  their absolute paths, threads, actor, permissions, messages, patterns) are not served.
- A request error Datasette reports as a 500 (an unknown _sort column, a parameter it reads
  with int()) is a 400, and an unexpected error never shows its message (which can hold paths)
  to the client.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sqlite3
import sys
import threading
import weakref
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import datasette
from datasette import Response, hookimpl
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Base400
from datasette.views.base import DatasetteError
from markupsafe import escape

try:
    from pipeline.integrity import ReleaseDamaged, verify_folder
except ImportError:  # started from outside the repository
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from pipeline.integrity import ReleaseDamaged, verify_folder

MAX_VALUE_BYTES = 1_000_000  # the largest value of a release is about 1 KB
MAX_RESULT_BYTES = 20_000_000  # one query's rows, as SQLite returns them
HEAP_LIMIT_BYTES = 256 << 20  # all SQLite memory of the process
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_VALUE_BYTES,
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 500,
    sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 200,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 50,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 100,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 1_000,
    sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 1_000,
    sqlite3.SQLITE_LIMIT_ATTACHED: 0,
}
SERVED_UNDER_DASH = ("-/static/", "-/static-plugins/")


def _inline_script_hashes() -> list[str]:
    """CSP hashes of the inline scripts Datasette itself writes (read from the installed package,
    so an upgrade that changes them changes the hashes too): its templates' scripts, the script of
    its "query took too long" message, and the facet flag of the table page."""
    package = Path(datasette.__file__).parent
    bodies = []
    for path in [*sorted((package / "templates").glob("*.html")), *sorted((package / "views").glob("*.py"))]:
        for body in re.findall(r"<script>(.*?)</script>", path.read_text(encoding="utf-8"), re.S):
            if "{{" in body or "{%" in body or "{}" in body:
                continue  # filled in per page; the one such script is listed below
            if path.suffix == ".py":  # a dedented string literal
                body = "\n" + "\n".join(line.strip() for line in body.splitlines() if line.strip()) + "\n"
            bodies.append(body)
    bodies += [f"DATASETTE_ALLOW_FACET = {value};" for value in ("true", "false")]
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in sorted(set(bodies))]


CSP = (
    f"default-src 'self'; script-src 'self' {' '.join(_inline_script_hashes())}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
]
NOT_FOUND = b"<!doctype html><title>Not found</title><h1>Not found</h1><p>This page is not served.</p>"


@hookimpl
def startup(datasette):  # type: ignore[no-untyped-def]
    """Refuse to serve a database whose release does not match its SHA256SUMS."""
    for name, db in datasette.databases.items():
        if not db.path or name.startswith("_"):
            continue
        folder = Path(db.path).resolve().parent
        try:
            verify_folder(folder)
        except ReleaseDamaged as exc:
            print(f"error: Datasette will not serve {Path(db.path).name}: {exc}", file=sys.stderr, flush=True)
            raise SystemExit(2) from None


_spent: weakref.WeakKeyDictionary[sqlite3.Cursor, int] = weakref.WeakKeyDictionary()
_spent_lock = threading.Lock()


def _row_within_budget(cursor: sqlite3.Cursor, row: tuple) -> sqlite3.Row:
    """Datasette's row type, counting the bytes each query returns and stopping at the budget."""
    size = sum(len(v) if isinstance(v, (str, bytes)) else 16 for v in row)
    with _spent_lock:
        spent = _spent.get(cursor, 0) + size
        _spent[cursor] = spent
    if spent > MAX_RESULT_BYTES:
        raise sqlite3.DataError(f"query result larger than {MAX_RESULT_BYTES // 1_000_000} MB: select fewer rows or "
                                "columns, or add a LIMIT")
    return sqlite3.Row(cursor, row)


# printf('%.*c', 2000000000, 'x') loops inside one SQLite call for about 20 s (the length limit
# stops its output, not its loop), out of reach of the time limit: widths and precisions larger
# than a value may be are refused before SQLite's own printf runs.
_FORMAT_NUMBERS = re.compile(r"%[-+ #0,!]*(\d*)(?:\.(\d*))?")
_inner = threading.local()


def _too_large(value: Any) -> bool:
    try:
        return abs(float(value)) > MAX_VALUE_BYTES
    except (TypeError, ValueError, OverflowError):
        return False


def _bounded_printf(fmt: Any, *args: Any) -> Any:
    if fmt is None:
        return None
    text = str(fmt)
    numbers = [n for m in _FORMAT_NUMBERS.finditer(text) for n in m.groups() if n]
    if any(int(n) > MAX_VALUE_BYTES for n in numbers) or ("*" in text and any(_too_large(a) for a in args)):
        raise ValueError("printf width or precision too large")
    if not hasattr(_inner, "conn"):
        _inner.conn = sqlite3.connect(":memory:")
        _inner.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    marks = ", ".join("?" * (len(args) + 1))
    return _inner.conn.execute(f"select printf({marks})", (text, *args)).fetchone()[0]


@hookimpl
def prepare_connection(conn, database, datasette):  # type: ignore[no-untyped-def]
    for limit, value in LIMITS.items():
        conn.setlimit(limit, value)
    conn.execute(f"PRAGMA hard_heap_limit={HEAP_LIMIT_BYTES}")
    for name in ("printf", "format"):
        conn.create_function(name, -1, _bounded_printf, deterministic=True)
    conn.row_factory = _row_within_budget


@hookimpl
def handle_exception(datasette, request, exception):  # type: ignore[no-untyped-def]
    if isinstance(exception, DatasetteError) and exception.status == 500 and str(exception.message).startswith(
            ("Cannot sort table by ", "Cannot use _sort and _sort_desc")):
        exception.status = 400  # a bad request parameter; Datasette's own page reports it
        return None
    if isinstance(exception, (Base400, DatasetteError)):
        return None
    if isinstance(exception, QueryInterrupted):
        # over the time limit (or a _timelimit the client set), on a page that does not report it itself (CSV)
        return _bad_request(request, "the query took longer than its time limit allows")
    if isinstance(exception, KeyError) and "_shape" in request.args and _raised_in(exception, "datasette/renderer.py"):
        # _shape on a page without rows (the database page): Datasette's JSON renderer looks for 'rows'
        return _bad_request(request, "_shape applies to table, row and query pages only", as_json=True)
    if isinstance(exception, (ValueError, OverflowError, sqlite3.Error)):
        # request input Datasette reads without checking (int() of _next on a view, of _timelimit or
        # _ttl), a number beyond 64 bits, a value or query over a limit
        return _bad_request(request, f"the query failed: {exception}" if isinstance(exception, sqlite3.Error)
                            else "a parameter of the request has a value that cannot be used here")
    print(f"error: {type(exception).__name__} on {request.path}", file=sys.stderr, flush=True)
    message = "Something went wrong on our side; the error was logged."
    if request.path.endswith(".json"):
        return Response.json({"ok": False, "error": message, "status": 500, "title": None}, status=500)
    return Response.html(f"<!doctype html><title>Error</title><h1>Error</h1><p>{message}</p>", status=500)


def _bad_request(request: Any, message: str, as_json: bool = False) -> Response:
    """A 400 that says why, as JSON for a .json path (or when asked) and as a page otherwise."""
    if as_json or request.path.endswith(".json"):
        return Response.json({"ok": False, "error": message, "status": 400, "title": None}, status=400)
    return Response.html(f"<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{escape(message)}</p>",
                         status=400)


def _raised_in(exception: BaseException, suffix: str) -> bool:
    """Whether the innermost frame of the exception's traceback is in a file ending with `suffix`."""
    tb = exception.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith(suffix)


async def _answer(send: Any, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/html; charset=utf-8")]})
    await send({"type": "http.response.body", "body": body})


def _not_served(path: str) -> bool:
    """An introspection or debug page (/-/versions, /-/databases, ...), however it is spelled."""
    normal = unquote(path).lstrip("/")
    return normal.startswith("-/") and not normal.startswith(SERVED_UNDER_DASH)


@hookimpl
def asgi_wrapper(datasette):  # type: ignore[no-untyped-def]
    def wrap(app):  # type: ignore[no-untyped-def]
        async def secured(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def send_with_headers(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    names = {k.lower() for k, _ in SECURITY_HEADERS}
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                    message = {**message, "headers": headers + SECURITY_HEADERS}
                await send(message)

            raw = scope.get("raw_path") or scope["path"].encode()
            if _not_served(scope["path"]) or _not_served(raw.decode("latin-1")):
                await _answer(send_with_headers, 404, NOT_FOUND)
                return
            await app(scope, receive, send_with_headers)

        return secured

    return wrap
