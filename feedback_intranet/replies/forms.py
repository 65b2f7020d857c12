from wtforms import HiddenField, IntegerField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..i18n import lazy_gettext as _l
from ..web.forms import BaseForm
from .operations import CALL_OUTCOMES

OUTCOME_LABELS = {"reached": _l("Reached"), "no_answer": _l("No answer"), "busy": _l("Busy"),
                  "wrong_number": _l("Wrong number")}


class CallOutcomeForm(BaseForm):
    outcome = RadioField(_l("What happened"),
                         choices=[SelectChoice(k, OUTCOME_LABELS[k]) for k in CALL_OUTCOMES],
                         validators=[InputRequired(message=_l("Choose what happened on the call."))])
    summary = TextAreaField(_l("Call summary"), validators=[Length(max=4000)],
                            description=_l("Required when the customer was reached: it is the "
                                           "answer on record."))
    token = HiddenField()


class LetterForm(BaseForm):
    token = HiddenField()


class DropNoticeForm(LetterForm):
    # The case's version as the queue showed it: a notice is dropped only for what was seen.
    version = IntegerField(validators=[InputRequired()])
