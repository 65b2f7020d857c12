"""The base of every form: text fields drop control characters before anything else sees them.

A NUL byte or an escape sequence in a name or message is never wanted, and
PostgreSQL refuses NUL outright.
"""

import functools
import re
from datetime import timedelta

from babel import support
from flask import current_app, flash, has_request_context, request
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, StringField
from wtforms.i18n import messages_path
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import TextInput
from wtforms.widgets import core as widgets

from .. import clock
from ..i18n import gettext
from ..i18n import lazy_gettext as _l
from ..rules.banking_days import FIRST_DAY, LAST_DAY
from ..rules.dates import format_date, parse_date
from .locale import get_locale_code

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ID = 2**31 - 1
WRONG_DATE = _l("Give the date as day.month.year, e.g. 24.12.2026.")


def strip_control(value):
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def parse_id(value):
    """A database id from user input, or None when it is not one."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_ID else None


def html_params(**kwargs):
    """WTForms' html_params, the same attributes in the same bytes, without Markup.format: its
    string formatter made a case page's forty fields cost a millisecond."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = widgets.clean_key(key)
        if value is True:
            params.append(key)
        elif value is not False:
            value = escape(value).replace(Markup('"'), Markup("&quot;"))
            params.append(f'{escape(key)}="{value}"')
    # Every key and value was escaped above.
    return Markup(" ".join(params))  # nosec B704


# The widgets' own hook (a class attribute) for inputs and buttons; a select and a text area call
# the module's function.
widgets.html_params = html_params
widgets.Input.html_params = widgets.Button.html_params = staticmethod(html_params)


@functools.cache
def _wtforms_messages(language):
    return support.Translations.load(messages_path(), [language], domain="wtforms")


class BaseForm(FlaskForm):
    class Meta:
        def bind_field(self, form, unbound_field, options):
            if issubclass(unbound_field.field_class, StringField):
                filters = [*unbound_field.kwargs.get("filters", ()), strip_control]
                options = {**options, "filters": filters}
            return unbound_field.bind(form=form, **options)

        def get_translations(self, form):
            """WTForms' own messages in the page's language, as flask_wtf gives them, but read
            from their catalogue once per language: flask_wtf reads the file again on every
            request, a tenth of a case page's time."""
            if not has_request_context() or not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return _wtforms_messages(get_locale_code())

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
                                     first=format_date(FIRST_DAY), last=format_date(LAST_DAY)))
        if self.days_ahead is not None and day > clock.today() + timedelta(days=self.days_ahead):
            raise ValidationError(self.message)


class DayInput(TextInput):
    """A text field for a day (the browser's own date field would write it in the browser's
    language, mm/dd/yyyy in a Finnish screen); static/js/datepicker.js adds the calendar."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("autocomplete", "off")
        kwargs.setdefault("spellcheck", "false")
        kwargs.setdefault("size", 10)
        kwargs.setdefault("maxlength", 30)
        kwargs.setdefault("data-datepicker", "")
        kwargs["class"] = " ".join(filter(None, [kwargs.get("class"), "day-input"]))
        return super().__call__(field, **kwargs)


class DayField(Field):
    """A day written as the bank writes it (24.12.2026) and typed that way (rules.dates.parse_date).
    A day that is none keeps what was typed, and the field says how to write it."""

    widget = DayInput()

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("description", _l("day.month.year, e.g. 24.12.2026"))
        super().__init__(label, validators, **kwargs)
        self.typed = None

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.typed = valuelist[0]
        self.data = parse_date(self.typed)
        if self.data is None and self.typed:
            raise ValueError(WRONG_DATE)

    def _value(self):
        if self.data is not None:
            return format_date(self.data)
        return self.typed or ""


def day_field(label, *validators, days_ahead=None, too_far=None):
    """A day typed or picked as 24.12.2026 (optional unless validators say otherwise), within the
    intranet's days and, given `days_ahead`, at most that far ahead (else `too_far`); a wrong one
    is explained the same way on every form."""
    return DayField(label, validators=[*(validators or [Optional()]), DayWithin(days_ahead, too_far)])


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
