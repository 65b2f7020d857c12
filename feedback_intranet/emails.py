"""The bodies of an email: one template pair (plain text and HTML) from one context.

Texts come in already in the reader's language (customer_texts.say); the HTML says which.
"""

from flask import render_template


def render_bodies(name, language, **context):
    """The plain-text and HTML bodies of `emails/<name>` for a reader of `language`."""
    context["lang"] = str(language)
    return (render_template(f"emails/{name}.txt", **context),
            render_template(f"emails/{name}.html", **context))
