"""The base of every form: text fields drop control characters before anything else sees them.

A NUL byte or an escape sequence in a name or message is never wanted, and
PostgreSQL refuses NUL outright.
"""

import re
from datetime import timedelta

from flask import flash, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Optional, ValidationError

from .. import clock
from ..rules.banking_days import FIRST_DAY, LAST_DAY

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

    def query_args(self):
        """A GET form's values as the address gave them, for links that keep them: its own
        fields only, since anything else (`endpoint`, `_anchor`, ...) would steer url_for."""
        return {name: request.args.getlist(name) for name in self._fields if name in request.args}


class DayWithin:
    """A day among the intranet's days (banking_days.FIRST_DAY to LAST_DAY) and, given
    `days_ahead`, at most that many days after today: checked before any date arithmetic."""

    def __init__(self, days_ahead=None, message=None):
        self.days_ahead, self.message = days_ahead, message

    def __call__(self, form, field):
        day = field.data
        if day is None:
            return
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(_l("Give a date between %(first)s and %(last)s.",
                                     first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
        if self.days_ahead is not None and day > clock.today() + timedelta(days=self.days_ahead):
            raise ValidationError(self.message)


def day_field(label, *validators, days_ahead=None, too_far=None):
    """A day typed or picked as year-month-day (optional unless validators say otherwise),
    within the intranet's days and, given `days_ahead`, at most that far ahead (else `too_far`);
    a wrong one is explained the same way on every form."""
    return DateField(label, validators=[*(validators or [Optional()]), DayWithin(days_ahead, too_far)],
                     invalid_value_message=WRONG_DATE)


def show_refusal(refusal, form=None):
    """A refusal where the user's eyes are: at the field it names, when the form has it, else at
    the top of the page."""
    field = getattr(form, refusal.field, None) if form is not None and refusal.field else None
    # An operation's message comes translated; a pure rule's is translated here.
    message = gettext(str(refusal.message), **refusal.params)
    if field is not None:
        field.errors = [*field.errors, message]
    else:
        flash(message, "error")


def refused_fields(form, shown=True):
    """Each error of `form` with the id of the field to link it to (None where the page shows no
    such field, or no form at all when not `shown`): what an error summary lists."""
    problems = []
    for field in form:
        target = None
        if shown and field.type not in ("CSRFTokenField", "HiddenField") \
                and field.short_name != "version":
            # A group of radio buttons is reached through its first.
            target = f"{field.id}-0" if field.type == "RadioField" else field.id
        problems.extend((message, target) for message in field.errors)
    return problems
