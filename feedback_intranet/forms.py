"""The base of every form: text fields drop control characters before anything else sees them.

A NUL byte or an escape sequence in a name or message is never wanted, and
PostgreSQL refuses NUL outright.
"""

import re

from flask_wtf import FlaskForm
from wtforms import StringField

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ID = 2**31 - 1


def strip_control(value):
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def parse_id(value):
    """A database id from user input, or None when it is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField):
                filters = [*unbound_field.kwargs.get("filters", ()), strip_control]
                options = {**options, "filters": filters}
            return unbound_field.bind(form=form, **options)
