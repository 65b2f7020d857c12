"""/healthz and /readyz for the load balancer: no login, no session, no audit, no rate limit."""

from flask import Blueprint, jsonify

from ..extensions import limiter
from . import readiness

bp = Blueprint("monitoring", __name__)
limiter.exempt(bp)


def _answer(body, status=200):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    """The process answers; nothing else is touched."""
    return _answer({"status": "alive"})


@bp.get("/readyz")
def readyz():
    """Ready to serve: 200, or 503 naming each check that failed and why."""
    result = readiness.check()
    checks = {name: result.failed.get(name, "ok") for name in result.checked}
    if result.ready:
        return _answer({"status": "ready", "checks": checks})
    return _answer({"status": "not ready", "checks": checks}, 503)
