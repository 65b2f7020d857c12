"""Security headers on every response: what the browser may load, frame, send and keep.

The pages use no inline script or style, so the policy needs no 'unsafe-inline'; charts
are SVG drawn on the server.
"""

from flask import request

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def register_security_headers(app):
    @app.after_request
    def add_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if app.config.get("SECURITY_HSTS"):
            headers.setdefault("Strict-Transport-Security", HSTS)
        # Every page but the stylesheet and fonts may show customer data: no copy in any cache.
        if not request.path.startswith(app.static_url_path + "/"):
            headers["Cache-Control"] = "no-store"
        return response
