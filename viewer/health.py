"""GET /healthz: a load balancer's probe. 200 with the served release once its tables are loaded, else 503."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from viewer.releases import ReleaseDamaged

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Response:
    try:
        release = current_app.extensions["heedless_store"].get(current_app.config["RELEASE"])
    except (FileNotFoundError, OSError, ValueError, ReleaseDamaged) as exc:
        response = jsonify({"ok": False, "error": str(exc)})
        response.status_code = 503
    else:
        response = jsonify({"ok": True, "release": release.version})
    response.headers["Cache-Control"] = "no-store"
    return response
