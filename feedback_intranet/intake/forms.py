"""The feedback form (public) and the staff registration form share their fields and rules."""

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..forms import BaseForm
from ..masking import sensitive_kinds
from ..models import CaseType, IntakeChannel, Language, ReplyChannel, Segment

MESSAGE_MAX_LENGTH = 5000
POSTAL_CODE = re.compile(r"^\d{5}$")
REQUIRED = "Required when you want an answer."


def _choices(enum_cls):
    return [SelectChoice(member.value, member.title) for member in enum_cls]


def finnish_postal_code(form, field):
    value = (field.data or "").strip()
    if value and not POSTAL_CODE.match(value):
        raise ValidationError("A Finnish postal code has five digits, e.g. 00100.")


def email_address(form, field):
    value = (field.data or "").strip()
    if not value:
        return
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("Check the email address, e.g. name@example.fi.") from None
    if sensitive_kinds(value):
        raise ValidationError("Use an email address without an identity code or account number.")


def _parse_phone(value):
    try:
        number = phonenumbers.parse(value, "FI")
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_valid_number(number) else None


def phone_number(form, field):
    value = (field.data or "").strip()
    if value and _parse_phone(value) is None:
        raise ValidationError("Check the phone number, e.g. 040 123 4567 or +358 40 123 4567.")


def normalised_email(value):
    value = (value or "").strip()
    return validate_email(value, check_deliverability=False).normalized.lower() if value else ""


def normalised_phone(value):
    value = (value or "").strip()
    if not value:
        return ""
    return phonenumbers.format_number(_parse_phone(value), phonenumbers.PhoneNumberFormat.E164)


class FeedbackFields(BaseForm):
    name = StringField("Name", validators=[Optional(), Length(max=120)])
    street = StringField("Street address", validators=[Optional(), Length(max=200)])
    postal_code = StringField("Postal code",
                              validators=[Optional(), Length(max=10), finnish_postal_code])
    city = StringField("City", validators=[Optional(), Length(max=80)])
    phone = StringField("Phone", validators=[Optional(), Length(max=40), phone_number])
    email = StringField("Email", validators=[Optional(), Length(max=254), email_address])
    segment = RadioField("I am a", choices=_choices(Segment), default=Segment.PRIVATE.value,
                         validators=[InputRequired(message="Choose one.")])
    topic = SelectField("Topic", coerce=int, validators=[InputRequired(message="Choose a topic.")])
    case_type = SelectField("Kind of feedback", choices=_choices(CaseType),
                            default=CaseType.FEEDBACK.value)
    message = TextAreaField(
        "Your feedback",
        validators=[InputRequired(message="Write your feedback."),
                    Length(max=MESSAGE_MAX_LENGTH,
                           message=f"Keep it under {MESSAGE_MAX_LENGTH} characters.")],
    )
    reply_wanted = RadioField("I want an answer", choices=[SelectChoice("yes", "Yes"),
                                                           SelectChoice("no", "No")],
                              default="yes", validators=[InputRequired(message="Choose one.")])
    reply_channel = RadioField("Answer me by", choices=_choices(ReplyChannel),
                               validators=[Optional()])
    language = SelectField("Language of the answer", choices=_choices(Language),
                           default=Language.FI.value)

    def __init__(self, *args, topics=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.topic.choices = [SelectChoice(topic.id, topic.name) for topic in topics]

    @property
    def wants_answer(self):
        return self.reply_wanted.data == "yes"

    def required_contact_fields(self):
        """(field, message) for each contact field this form needs, given what was chosen."""
        raise NotImplementedError

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if not self.message.errors and not (self.message.data or "").strip():
            self.message.errors.append("Write your feedback.")
        if self.wants_answer and not self.reply_channel.data:
            self.reply_channel.errors.append("Choose how you want the answer.")
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
    website = StringField("Leave this field empty")
    submission_token = HiddenField()

    def required_contact_fields(self):
        if not self.wants_answer:
            return []
        fields = [self.name, self.street, self.postal_code, self.city, self.phone, self.email]
        return [(field, REQUIRED) for field in fields]


class StaffFeedbackForm(FeedbackFields):
    """Feedback a customer gave by phone, at the counter or by letter; staff identify the customer."""

    intake_channel = SelectField(
        "Received by",
        choices=[c for c in _choices(IntakeChannel) if c.value != IntakeChannel.WEB_FORM],
        default=IntakeChannel.PHONE.value,
    )
    unit = SelectField("Put it in the inbox of", coerce=int)
    submission_token = HiddenField()

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [SelectChoice(unit.id, unit.name) for unit in units]

    def required_contact_fields(self):
        needed = [(self.name, "Give the customer's name.")]
        if self.wants_answer:
            channel_fields = {
                ReplyChannel.EMAIL.value: [self.email],
                ReplyChannel.PHONE.value: [self.phone],
                ReplyChannel.LETTER.value: [self.street, self.postal_code, self.city],
            }.get(self.reply_channel.data, [])
            needed += [(field, "Needed to answer by the chosen channel.") for field in channel_fields]
        return needed
