from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from .operations import CALL_OUTCOMES


class CallOutcomeForm(FlaskForm):
    outcome = RadioField("What happened", choices=[SelectChoice(k, v.capitalize())
                                                   for k, v in CALL_OUTCOMES.items()],
                         validators=[InputRequired(message="Choose what happened on the call.")])
    summary = TextAreaField("Call summary", validators=[Length(max=4000)],
                            description="Required when the customer was reached: it is the "
                                        "answer on record.")
    token = HiddenField()


class LetterForm(FlaskForm):
    token = HiddenField()
