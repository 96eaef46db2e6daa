"""The viewer's gunicorn worker: gevent, one greenlet per connection.

Slow clients cannot starve it: a connection that trickles its request only holds a greenlet, and
gunicorn drops it when its request is not complete within the keep-alive timeout, while the
worker goes on serving everyone else. The responses gunicorn writes itself (400 for a malformed
request, 414 for an overlong request line, 431 for overlong headers) carry the same security
headers as the app's.
"""

from __future__ import annotations

from typing import Any

from gunicorn.workers.ggevent import GeventWorker

from viewer.headers import SECURITY_HEADERS

EXTRA_HEADERS = "".join(f"{name}: {value}\r\n" for name, value in SECURITY_HEADERS.items()).encode("latin-1")


class _WithSecurityHeaders:
    """A client socket whose raw HTTP error response gets the security headers after its status line."""

    def __init__(self, sock: Any):
        self._sock = sock

    def sendall(self, data: bytes) -> None:
        status, sep, rest = data.partition(b"\r\n")
        if sep and status.startswith(b"HTTP/"):
            data = status + sep + EXTRA_HEADERS + rest
        self._sock.sendall(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class ViewerWorker(GeventWorker):
    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        super().handle_error(req, _WithSecurityHeaders(client), addr, exc)
