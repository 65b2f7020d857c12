"""The intranet with two pages that do nothing of their own: served by `bench/run.py --floor`.

    gunicorn -c deploy/gunicorn.conf.py 'bench.floor:create()'

What every staff page costs before it reads a case: the request's way through Flask and the
app's hooks, the session and the signed-in user (/bench-floor/signed-in, a line of text), and
then the layout drawn around an empty page (/bench-floor/layout: the header, the menu, the
language links). No page of the intranet can be cheaper than these; the bench serves them
beside the real ones, from the same workers, so the two are measured alike. Never part of the
intranet itself.
"""

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required

bp = Blueprint("bench_floor", __name__, url_prefix="/bench-floor")


@bp.route("/signed-in")
@login_required
def signed_in():
    return current_user.full_name


@bp.route("/layout")
@login_required
def layout():
    return render_template(current_app.extensions["bench_floor_page"])


def add_floor_pages(app):
    """`app` with the two pages; the empty page is compiled once, as the intranet's own templates
    are (render_template_string would compile it on every request)."""
    app.extensions["bench_floor_page"] = app.jinja_env.from_string(
        '{% extends "base.html" %}{% block title %}–{% endblock %}{% block content %}{% endblock %}')
    app.register_blueprint(bp)
    return app


def create():
    """The app a gunicorn worker serves (wsgi.py's, as in production) with the floor's pages."""
    from wsgi import app

    return add_floor_pages(app)
