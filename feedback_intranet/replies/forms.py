from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from ..forms import BaseForm
from .operations import CALL_OUTCOMES


class CallOutcomeForm(BaseForm):
    outcome = RadioField("What happened", choices=[SelectChoice(k, v.capitalize())
                                                   for k, v in CALL_OUTCOMES.items()],
                         validators=[InputRequired(message="Choose what happened on the call.")])
    summary = TextAreaField("Call summary", validators=[Length(max=4000)],
                            description="Required when the customer was reached: it is the "
                                        "answer on record.")
    token = HiddenField()


class LetterForm(BaseForm):
    token = HiddenField()
