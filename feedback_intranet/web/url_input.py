"""What an address may carry: ids the database can hold and text PostgreSQL accepts.

Anything else names no page (404) or cannot be understood (400), before a view or a query sees
it: PostgreSQL refuses an integer beyond its column's range and text with a NUL byte, SQLite
an integer beyond 2**63, and either would otherwise be a 500.
"""

from flask import abort, request
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError

from .forms import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:...>` in every route: a positive id within the integer columns' range."""

    def __init__(self, url_map, fixed_digits=0, min=1, max=MAX_ID, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class TextConverter(UnicodeConverter):
    """`<name>` and `<string:name>`: never a NUL byte."""

    def to_python(self, value):
        if "\x00" in value:
            raise ValidationError()
        return value


def register_url_input(app):
    """Before the blueprints: a rule takes its converters when it is added."""
    app.url_map.converters.update(int=IdConverter, default=TextConverter, string=TextConverter)

    @app.before_request
    def refuse_nul_in_query():
        if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
            abort(400)
