"""The base of every form: text fields drop control characters before anything else sees them.

A NUL byte or an escape sequence in a name or message is never wanted, and
PostgreSQL refuses NUL outright.
"""

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Optional

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ID = 2**31 - 1
WRONG_DATE = _l("Give the date as year-month-day, e.g. 2026-12-31.")


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


def day_field(label, *validators):
    """A day typed or picked as year-month-day (optional unless validators say otherwise);
    a wrong one is explained the same way on every form."""
    return DateField(label, validators=list(validators) or [Optional()],
                     invalid_value_message=WRONG_DATE)
