"""The report form: period and units."""

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..forms import BaseForm
from .periods import DEFAULT_PERIOD, PERIODS

WRONG_DATE = _l("Give the date as year-month-day, e.g. 2026-12-31.")


class ReportForm(BaseForm):
    """The period and the units: a GET form, so a report's address can be bookmarked and shared."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), validate_choice=False, default=DEFAULT_PERIOD,
                         choices=[SelectChoice(key, title) for key, title in PERIODS.items()])
    start = DateField(_l("First day"), validators=[Optional()], invalid_value_message=WRONG_DATE)
    end = DateField(_l("Last day"), validators=[Optional()], invalid_value_message=WRONG_DATE)
    unit = SelectMultipleField(_l("Units"), coerce=int, validate_choice=False,
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                               description=_l("None chosen: all your units."))
