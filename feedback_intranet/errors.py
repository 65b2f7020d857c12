"""Error pages; a 500 rolls the transaction back so nothing half-written stays."""

from flask import render_template

from .extensions import db


def register_error_handlers(app):
    def page(code, title, text):
        def handler(error):
            if code == 500:
                db.session.rollback()
            return render_template("errors/error.html", code=code, title=title, text=text), code

        app.register_error_handler(code, handler)

    page(400, "Bad request", "The request could not be understood. Go back and try again.")
    page(403, "Not allowed", "You do not have access to this page.")
    page(404, "Not found", "There is nothing here, or you do not have access to it.")
    page(405, "Not allowed", "That action is not possible on this page.")
    page(500, "Something went wrong", "Nothing was saved. Try again; if it keeps happening, "
         "tell the intranet's support.")
