"""Forms of the case page. Each carries the case version it was loaded at and a one-time token."""

import secrets

from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
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

from ..i18n import lazy_gettext as _l
from ..i18n import lazy_pgettext
from ..intake.forms import PostalCodeOf, email_address, phone_number
from ..models import CaseType, ReplyChannel, Resolution, Segment
from ..replies.operations import MAX_ESTIMATE_BANKING_DAYS
from ..web.forms import BaseForm, day_field


def hidden_inputs(prefix, version, token, csrf=None, ids=True):
    """A case page form's hidden inputs (names begin with `prefix`, as "note-"): the CSRF token
    (`csrf`: its field's name and value, None when CSRF protection is off), the case version and
    the one-time token, the bytes WTForms' widgets write without their machinery: 50 µs a form,
    and a held case's page has a dozen. `ids=False` leaves the version's and the token's ids out,
    for a form the page repeats."""
    fields = [("version", version, ids), ("token", token, ids)]
    if csrf is not None:
        fields.insert(0, (*csrf, True))
    # The names are the forms' own; only a value can come from what a user sent.
    return Markup("".join(  # nosec B704
        f'<input id="{prefix}{name}" name="{prefix}{name}" type="hidden" value="{escape(value)}">'
        if with_id else f'<input name="{prefix}{name}" type="hidden" value="{escape(value)}">'
        for name, value, with_id in fields))


class ActionForm(BaseForm):
    version = IntegerField(validators=[Optional()])
    token = HiddenField()

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case  # what the action's message may depend on
        # Fresh: on a page loaded anew, or beside a refused form, where it reads no post (the
        # request is a POST all the same, so is_submitted() cannot tell).
        self.fresh = not self.is_submitted() or kwargs.get("formdata", True) is None
        if self.fresh:
            self.token.data = secrets.token_urlsafe(16)
            if case is not None:
                self.version.data = case.version

    def hidden_fields(self, ids=True):
        """The form's hidden inputs, as hidden_inputs writes them."""
        csrf = self.meta.csrf and self._fields.get(self.meta.csrf_field_name)
        return hidden_inputs(self._prefix, self.version._value(), self.token._value(),
                             (csrf.short_name, csrf._value()) if csrf else None, ids)


class CustomerForm(ActionForm):
    customer_id = HiddenField()


class TakeForm(ActionForm):
    pass


class UnassignForm(ActionForm):
    pass


class AssignForm(ActionForm):
    member = SelectField(_l("Assign to"), coerce=int)


class ForwardForm(ActionForm):
    unit = SelectField(_l("Forward to"), coerce=int)
    note = TextAreaField(_l("Note to the unit"), validators=[Length(max=2000)],
                         description=_l("Required. Shown on the timeline; never sent to the "
                                        "customer."))


class NoteForm(ActionForm):
    text = TextAreaField(_l("Internal note"), validators=[Length(max=4000)],
                         description=_l("Only staff see notes; they are never sent to the "
                                        "customer."))


class InterimNoticeForm(ActionForm):
    # A year ahead is well past the operation's limit: refused here, before the operation
    # counts banking days up to it (across centuries that takes seconds).
    estimate = day_field(_l("Estimated decision date"), days_ahead=366, too_far=_l(
        "The estimate may be at most %(days)s banking days ahead.", days=MAX_ESTIMATE_BANKING_DAYS))
    text = TextAreaField(_l("Text to the customer"), validators=[Length(max=2000)])


class CloseForm(ActionForm):
    resolution = SelectField(
        _l("Resolution"),
        choices=[SelectChoice(r.value, r.title) for r in Resolution if r != Resolution.DUPLICATE],
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=2000)])


class ReopenForm(ActionForm):
    reason = TextAreaField(_l("Reason for reopening"), validators=[Length(max=2000)])


class DuplicateForm(ActionForm):
    original = StringField(_l("Duplicate of case"), validators=[Length(max=20)],
                           description=_l("The reference of the case this one repeats, e.g. "
                                          "FB-2026-000042."))


class CorrectForm(ActionForm):
    contact_name = StringField(_l("Name"), validators=[Length(max=120)])
    contact_street = StringField(_l("Street address"), validators=[Length(max=200)])
    contact_postal_code = StringField(_l("Postal code"),
                                      validators=[Optional(), PostalCodeOf("contact_country")])
    contact_city = StringField(_l("City"), validators=[Length(max=80)])
    contact_country = SelectField(_l("Country"),
                                  invalid_choice_message=_l("Choose a country from the list."))
    contact_phone = StringField(lazy_pgettext("contact", "Phone"), validators=[Optional(), phone_number])
    contact_email = StringField(lazy_pgettext("contact", "Email"),
                                validators=[Optional(), email_address, Length(max=254)])
    topic_id = SelectField(_l("Topic"), coerce=int)
    case_type = SelectField(_l("Type"), choices=[SelectChoice(t.value, t.title) for t in CaseType])
    segment = SelectField(_l("Segment"), choices=[SelectChoice(s.value, s.title) for s in Segment],
                          validators=[InputRequired()])


class AssignManyForm(BaseForm):
    member = SelectField(_l("Assign the selected cases to"), coerce=int)
    token = HiddenField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_submitted():
            self.token.data = secrets.token_urlsafe(16)


class AnswerForm(ActionForm):
    channel = RadioField(_l("Answer by"),
                         choices=[SelectChoice(c.value, c.title) for c in ReplyChannel])
    reason = StringField(_l("Why another channel than the customer chose"),
                         validators=[Length(max=300)])
    body = TextAreaField(_l("Answer"), validators=[Length(max=8000)],
                         description=_l("By email or letter the greeting and the unit's "
                                        "signature are added. By phone, write what to tell the "
                                        "customer: a call script, without greeting or sign-off. "
                                        "A final answer to a complaint also gets the bank's "
                                        "paragraph on where to turn (read out on the phone)."))
    final = BooleanField(_l("This is the final answer"), default=True)
    preview = SubmitField(_l("Preview"))
    send = SubmitField(_l("Send the answer"))
    send_and_close = SubmitField(_l("Send, close when delivered"))


class CancelReplyForm(ActionForm):
    answer_id = HiddenField()


class MoveCallbackForm(ActionForm):
    # Any value is taken here; the operation accepts only a window it offers (a refusal at the
    # field otherwise, which keeps the choice).
    window = SelectField(_l("New time for the call"), validate_choice=False)


class BankingMatterForm(ActionForm):
    value = BooleanField(_l("Concerns the customer's own banking matters (no email answers)"))
