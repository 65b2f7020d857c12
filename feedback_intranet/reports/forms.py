"""The report form: period and units."""

from wtforms import SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from ..i18n import lazy_gettext as _l
from ..rules.periods import DEFAULT_PERIOD, PERIODS
from ..web.forms import BaseForm, day_field


class ReportForm(BaseForm):
    """The period and the units: a GET form, so a report's address can be bookmarked and shared."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), validate_choice=False, default=DEFAULT_PERIOD,
                         choices=[SelectChoice(key, _l(title)) for key, title in PERIODS.items()])
    start = day_field(_l("First day"))
    end = day_field(_l("Last day"))
    unit = SelectMultipleField(_l("Units"), coerce=int, validate_choice=False,
                               widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                               description=_l("None chosen: all your units."))
