"""One log line per request, and the request's id: the X-Request-ID a trusted proxy set, else a
new one, kept in `g` for every line written meanwhile and returned on every response.

The line is written when the WSGI server closes the response, which it does once the last byte
is sent (or the client has gone): so a streamed CSV export's duration counts its rows.
`after_request` runs before a streamed body is produced, and teardown when the request context
goes, which is before the body too unless the view streams with its context; neither would do.
A file sent as it is (`direct_passthrough`: static files, which the server may hand to
sendfile) is closed by the server without its response, so that line is written when the file
is ready to send.
"""

import logging
import re
import time
import uuid

import sqlalchemy as sa
from flask import g, request

from ..logs import get_logger, query_names, scrub
from ..monitoring import PROBE_ENDPOINTS

log = get_logger("feedback_intranet.requests")

# A proxy's id is taken only in this shape: nothing that could end a line or open a field.
_GIVEN_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def register_request_log(app):
    """Called before anything else registers a hook: the id and the start are set before any
    other hook can write a line, and the line is made after every other after_request hook."""

    @app.before_request
    def begin():
        given = request.headers.get("X-Request-ID", "") if app.config["TRUSTED_PROXIES"] else ""
        g.request_id = given if _GIVEN_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_began = time.monotonic()

    @app.after_request
    def log_when_sent(response):
        response.headers["X-Request-ID"] = g.request_id
        line = _line(response)
        if response.direct_passthrough:
            _write(**line)
        else:
            response.call_on_close(lambda: _write(**line))
        return response


def _line(response):
    # Flask-Login's own record of the user this request loaded or logged in. current_user would
    # load one from the database for a request that needed none (a static file, a probe).
    user = sa.inspect(g.get("_login_user"), raiseerr=False)
    target = request.path
    if request.query_string:
        target += "?" + query_names(request.query_string.decode("utf-8", "replace"))
    # A probe's answer is a line at DEBUG; its refusal or failure one at INFO like any other.
    quiet = request.endpoint in PROBE_ENDPOINTS and response.status_code < 400
    return {"began": g.request_began, "level": logging.DEBUG if quiet else logging.INFO,
            "fields": {"request_id": g.request_id,
                       # The identity the session knows: after a view's commit, reading the
                       # user's own attributes would load the user again, for the log alone.
                       "user_id": user.identity[0] if user is not None and user.identity else None,
                       "method": request.method, "endpoint": request.endpoint,
                       "path": scrub(target),
                       "status": response.status_code}}


def _write(began, level, fields):
    duration_ms = round((time.monotonic() - began) * 1000, 1)
    log.log(level, "%s %s %s %.1f ms", fields["method"], fields["path"], fields["status"],
            duration_ms, extra={**fields, "duration_ms": duration_ms})
