"""The bodies of an email: one template pair (plain text and HTML) from one context.

Texts come in already in the reader's language (customer_texts.say); the HTML says which.
"""

from flask import current_app, render_template


def render_bodies(name, language, **context):
    """The plain-text and HTML bodies of `emails/<name>` for a reader of `language`."""
    context["lang"] = str(language)
    return (render_template(f"emails/{name}.txt", **context),
            render_template(f"emails/{name}.html", **context))


def replies_are_read():
    """Customers may answer the intranet's emails to them: the feedback mailbox is read."""
    return bool(current_app.config["INBOUND_ADDRESS"])


def intranet_link(endpoint, **values):
    """An address in the intranet for an email to staff, built outside any request."""
    path = current_app.url_map.bind("intranet").build(endpoint, values)
    return current_app.config["INTRANET_BASE_URL"].rstrip("/") + path
