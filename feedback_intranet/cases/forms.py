"""Forms of the case page. Each carries the case version it was loaded at and a one-time token."""

import secrets

from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from ..forms import BaseForm
from ..intake.forms import email_address, finnish_postal_code, phone_number
from ..models import CaseType, ReplyChannel, Resolution, Segment


class ActionForm(BaseForm):
    version = IntegerField(validators=[Optional()])
    token = HiddenField()

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.token.data = secrets.token_urlsafe(16)
            if case is not None:
                self.version.data = case.version


class CustomerForm(ActionForm):
    customer_id = HiddenField()


class TakeForm(ActionForm):
    pass


class UnassignForm(ActionForm):
    pass


class AssignForm(ActionForm):
    member = SelectField("Assign to", coerce=int)


class ForwardForm(ActionForm):
    unit = SelectField("Forward to", coerce=int)
    note = TextAreaField("Note to the unit", validators=[Length(max=2000)],
                         description="Required. Shown on the timeline; never sent to the customer.")


class NoteForm(ActionForm):
    text = TextAreaField("Internal note", validators=[Length(max=4000)],
                         description="Only staff see notes; they are never sent to the customer.")


class InterimNoticeForm(ActionForm):
    estimate = DateField("Estimated decision date", validators=[Optional()],
                         invalid_value_message="Give the date as year-month-day.")
    text = TextAreaField("Text to the customer", validators=[Length(max=2000)])


class CloseForm(ActionForm):
    resolution = SelectField(
        "Resolution",
        choices=[SelectChoice(r.value, r.title) for r in Resolution if r != Resolution.DUPLICATE],
    )
    note = TextAreaField("Note (optional)", validators=[Length(max=2000)])


class ReopenForm(ActionForm):
    reason = TextAreaField("Reason for reopening", validators=[Length(max=2000)])


class DuplicateForm(ActionForm):
    original = StringField("Duplicate of case", validators=[Length(max=20)],
                           description="The reference of the case this one repeats, e.g. "
                                       "FB-2026-000042.")


class CorrectForm(ActionForm):
    contact_name = StringField("Name", validators=[Length(max=120)])
    contact_street = StringField("Street address", validators=[Length(max=200)])
    contact_postal_code = StringField("Postal code", validators=[Optional(), finnish_postal_code])
    contact_city = StringField("City", validators=[Length(max=80)])
    contact_phone = StringField("Phone", validators=[Optional(), phone_number])
    contact_email = StringField("Email", validators=[Optional(), email_address, Length(max=254)])
    topic_id = SelectField("Topic", coerce=int)
    case_type = SelectField("Type", choices=[SelectChoice(t.value, t.title) for t in CaseType])
    segment = SelectField("Segment", choices=[SelectChoice(s.value, s.title) for s in Segment],
                          validators=[InputRequired()])


class AssignManyForm(BaseForm):
    member = SelectField("Assign the selected cases to", coerce=int)
    token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.token.data = secrets.token_urlsafe(16)


class AnswerForm(ActionForm):
    channel = RadioField("Answer by", choices=[SelectChoice(c.value, c.title) for c in ReplyChannel])
    reason = StringField("Why another channel than the customer chose",
                         validators=[Length(max=300)])
    body = TextAreaField("Answer", validators=[Length(max=8000)],
                         description="The greeting and the unit's signature are added; a final "
                                     "answer to a complaint also gets the bank's paragraph on "
                                     "where to turn.")
    final = BooleanField("This is the final answer", default=True)
    preview = SubmitField("Preview")
    send = SubmitField("Send the answer")


class BankingMatterForm(ActionForm):
    value = BooleanField("Concerns the customer's own banking matters (no email answers)")
