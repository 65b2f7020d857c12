"""Error pages; a 500 rolls the transaction back so nothing half-written stays."""

from flask import render_template, request

from .extensions import db


def register_error_handlers(app):
    def page(code, title, text):
        def handler(error):
            if code == 500:
                db.session.rollback()
            # The public form's visitors get the bank's public layout, not the intranet's.
            layout = "public_base.html" if request.path.startswith("/feedback") else "base.html"
            return render_template("errors/error.html", code=code, title=title, text=text,
                                   layout=layout), code

        app.register_error_handler(code, handler)

    page(400, "Bad request", "The request could not be understood. Go back and try again.")
    page(403, "Not allowed", "You do not have access to this page.")
    page(404, "Not found", "There is nothing here, or you do not have access to it.")
    page(405, "Not allowed", "That action is not possible on this page.")
    page(413, "Too much at once", "What you sent is larger than we accept (1 MB). Shorten the "
         "message and send it again.")
    page(429, "Try again later", "We have received many messages from your address in a short "
         "time. Wait a minute and send your feedback again.")
    page(503, "Not available right now", "Feedback cannot be received at the moment. Try again "
         "later, or call customer service.")
    page(500, "Something went wrong", "Nothing was saved. Try again; if it keeps happening, "
         "tell the intranet's support.")
