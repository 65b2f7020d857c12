"""Security headers on every response; no page needs inline script or style."""

import re
from pathlib import Path

import pytest

from feedback_intranet import create_app

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _page_headers(response):
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login", "/feedback", "/nonexistent"])
def test_public_pages_carry_the_headers_and_are_not_cached(client, path):
    response = client.get(path)
    _page_headers(response)
    assert response.headers["Cache-Control"] == "no-store"


def test_staff_pages_with_customer_data_are_not_cached(client, login, units, make_user, make_case):
    make_user("staff", units=[units["helsinki"]])
    case = make_case(units["helsinki"])
    login("staff")
    for path in ("/inbox/helsinki-centre", f"/cases/{case.reference}", "/inbox/helsinki-centre/export.csv"):
        response = client.get(path)
        assert response.status_code == 200
        _page_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_the_stylesheet_may_be_cached(client):
    response = client.get("/static/css/app.css")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers.get("Cache-Control") != "no-store"


def test_hsts_in_production_only(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    production = create_app({"CONFIG": "production", "SECRET_KEY": "x" * 64,
                             "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    headers = production.test_client().get("/static/css/app.css").headers
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_have_no_inline_script_or_style():
    """The policy allows neither; emails (not served by the app) may style inline."""
    for template in TEMPLATES.rglob("*.html"):
        if template.parent.name == "emails":
            continue
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\sstyle=|<style", text), template
        assert not re.search(r"\son[a-z]+=", text), template
