"""The feedback form (public) and the staff registration form share their fields and rules."""

import re

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..models import CaseType, IntakeChannel, Language, ReplyChannel, Segment
from ..rules.masking import sensitive_kinds
from ..rules.phones import e164
from ..web.forms import BaseForm

MESSAGE_MAX_LENGTH = 5000
POSTAL_CODE = re.compile(r"^\d{5}$")
REQUIRED = _l("Required when you want an answer.")


def _choices(enum_cls):
    return [SelectChoice(member.value, member.title) for member in enum_cls]


def finnish_postal_code(form, field):
    value = (field.data or "").strip()
    if value and not POSTAL_CODE.match(value):
        raise ValidationError(_l("A Finnish postal code has five digits, e.g. 00100."))


def email_address(form, field):
    value = (field.data or "").strip()
    if not value:
        return
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError(_l("Check the email address, e.g. name@example.fi.")) from None
    if sensitive_kinds(value):
        raise ValidationError(
            _l("Use an email address without an identity code or account number."))


def phone_number(form, field):
    value = (field.data or "").strip()
    if value and e164(value, valid=True) is None:
        raise ValidationError(
            _l("Check the phone number, e.g. 040 123 4567 or +358 40 123 4567."))


def normalised_email(value):
    value = (value or "").strip()
    return validate_email(value, check_deliverability=False).normalized.lower() if value else ""


def normalised_phone(value):
    value = (value or "").strip()
    if not value:
        return ""
    number = e164(value, valid=True)
    if number is None:  # callers validate first: a miss here is a bug, not a blank number
        raise ValueError("not a valid phone number; validate the form first")
    return number


class FeedbackFields(BaseForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    street = StringField(_l("Street address"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"),
                              validators=[Optional(), Length(max=10), finnish_postal_code])
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40), phone_number])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=254), email_address])
    segment = RadioField(_l("I am a"), choices=_choices(Segment), default=Segment.PRIVATE.value,
                         validators=[InputRequired(message=_l("Choose one."))])
    topic = SelectField(_l("Topic"), coerce=int,
                        validators=[InputRequired(message=_l("Choose a topic."))])
    case_type = SelectField(_l("Kind of feedback"), choices=_choices(CaseType),
                            default=CaseType.FEEDBACK.value)
    message = TextAreaField(
        _l("Your feedback"),
        validators=[InputRequired(message=_l("Write your feedback.")),
                    Length(max=MESSAGE_MAX_LENGTH,
                           message=_l("Keep it under %(max)d characters."))],
    )
    reply_wanted = RadioField(_l("I want an answer"), choices=[SelectChoice("yes", _l("Yes")),
                                                           SelectChoice("no", _l("No"))],
                              default="yes", validators=[InputRequired(message=_l("Choose one."))])
    reply_channel = RadioField(_l("Answer me by"), choices=_choices(ReplyChannel),
                               validators=[Optional()])
    language = SelectField(_l("Language of the answer"), choices=_choices(Language),
                           default=Language.FI.value)

    def __init__(self, *args, topics=(), language="en", **kwargs):
        super().__init__(*args, **kwargs)
        self.topic.choices = [SelectChoice(topic.id, topic.name_in(language)) for topic in topics]

    @property
    def wants_answer(self):
        return self.reply_wanted.data == "yes"

    def required_contact_fields(self):
        """(field, message) for each contact field this form needs, given what was chosen."""
        raise NotImplementedError

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.message.errors and not (self.message.data or "").strip():
            self.message.errors.append(_l("Write your feedback."))
        # Optional() lets blank-looking input ("\r") past the choice check: test the value itself.
        if self.wants_answer and self.reply_channel.data not in {c.value for c in ReplyChannel}:
            self.reply_channel.errors.append(_l("Choose how you want the answer."))
        for field, message in self.required_contact_fields():
            if not (field.data or "").strip():
                field.errors.append(message)
        return valid and not any(field.errors for field in self)

    def normalised_email(self):
        return normalised_email(self.email.data)

    def normalised_phone(self):
        return normalised_phone(self.phone.data)


class PublicFeedbackForm(FeedbackFields):
    """The bank's response form: an answer needs all four contact details to find the customer."""

    # Hidden from people; bots fill it in.
    website = StringField(_l("Leave this field empty"))
    submission_token = HiddenField()

    def required_contact_fields(self):
        if not self.wants_answer:
            return []
        fields = [self.name, self.street, self.postal_code, self.city, self.phone, self.email]
        return [(field, REQUIRED) for field in fields]


class StaffFeedbackForm(FeedbackFields):
    """Feedback a customer gave by phone, at the counter or by letter; staff identify the customer."""

    intake_channel = SelectField(
        _l("Received by"),
        choices=[c for c in _choices(IntakeChannel) if c.value != IntakeChannel.WEB_FORM],
        default=IntakeChannel.PHONE.value,
    )
    unit = SelectField(_l("Put it in the inbox of"), coerce=int)
    submission_token = HiddenField()

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [SelectChoice(unit.id, unit.local_name) for unit in units]

    def required_contact_fields(self):
        needed = [(self.name, _l("Give the customer's name."))]
        if self.wants_answer:
            channel_fields = {
                ReplyChannel.EMAIL.value: [self.email],
                ReplyChannel.PHONE.value: [self.phone],
                ReplyChannel.LETTER.value: [self.street, self.postal_code, self.city],
            }.get(self.reply_channel.data, [])
            needed += [(field, _l("Needed to answer by the chosen channel."))
                       for field in channel_fields]
        return needed
