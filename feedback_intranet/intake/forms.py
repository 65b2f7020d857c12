"""The feedback form (public) and the staff registration form share their fields and rules."""

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..countries import countries, country_name
from ..models import CaseType, IntakeChannel, Language, ReplyChannel, Segment
from ..rules import postal_codes
from ..rules.masking import sensitive_kinds
from ..rules.phones import e164
from ..web.forms import BaseForm

MESSAGE_MAX_LENGTH = 5000
REQUIRED = _l("Required when you want an answer.")
CHOOSE_TOPIC = _l("Choose a topic.")
# How a field is marked on the form: always needed, or needed when the customer wants an answer.
ALWAYS, FOR_ANSWER = "always", "answer"


def _choices(enum_cls):
    return [SelectChoice(member.value, member.title) for member in enum_cls]


class PostalCodeOf:
    """The postal code in the format of the country chosen in the form's `country_field`."""

    def __init__(self, country_field):
        self.country_field = country_field

    def __call__(self, form, field):
        country = form[self.country_field].data
        if postal_codes.normalise(country, field.data) is not None:
            return
        if country == postal_codes.HOME_COUNTRY:
            raise ValidationError(_l("A Finnish postal code has five digits, e.g. 00100."))
        example = postal_codes.example(country)
        if example is None:
            raise ValidationError(_l("Check the postal code: use the letters and digits as "
                                     "they are written in the country."))
        # The country in brackets: Finnish would inflect it ("Ruotsissa") in a sentence.
        raise ValidationError(_l("Check the postal code. Example (%(country)s): %(example)s.",
                                 country=country_name(country, str(get_locale())),
                                 example=example))


def topic_id(value):
    """The chosen topic's id; None for the empty first choice ("Choose a topic")."""
    return int(value) if value not in ("", None) else None


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
    # In the order of the page: the error summary lists the problems in it.
    topic = SelectField(_l("Topic"), coerce=topic_id, invalid_value_message=CHOOSE_TOPIC,
                        invalid_choice_message=CHOOSE_TOPIC,
                        validators=[InputRequired(message=CHOOSE_TOPIC)])
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
    segment = RadioField(_l("I am a"), choices=_choices(Segment), default=Segment.PRIVATE.value,
                         validators=[InputRequired(message=_l("Choose one."))])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    street = StringField(_l("Street address"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(_l("Postal code"),
                              validators=[Optional(), Length(max=10), PostalCodeOf("country")])
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    country = SelectField(_l("Country"), default=postal_codes.HOME_COUNTRY,
                          invalid_choice_message=_l("Choose a country from the list."))
    phone = StringField(lazy_pgettext("contact", "Phone"),
                        validators=[Optional(), Length(max=40), phone_number])
    email = StringField(lazy_pgettext("contact", "Email"),
                        validators=[Optional(), Length(max=254), email_address])

    # Fields marked on the form as needed (ALWAYS) or needed for an answer (FOR_ANSWER).
    required_marks = {}

    def __init__(self, *args, topics=(), language="en", **kwargs):
        super().__init__(*args, **kwargs)
        # An empty first choice: nothing is filed under the first topic by accident.
        self.topic.choices = [SelectChoice("", _l("Choose a topic")),
                              *(SelectChoice(topic.id, topic.name_in(language))
                                for topic in topics)]
        self.country.choices = [SelectChoice(code, name) for code, name in countries(language)]

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

    def normalised_postal_code(self):
        """The postal code as its country writes it ("123 45"); validate the form first."""
        return postal_codes.normalise(self.country.data, self.postal_code.data) or ""

    def problems(self):
        """For the error summary: (the field's label and its error, the id to link to) for each
        error, a group of radio buttons linked through its first button."""
        problems = []
        for field in self:
            if field.type in ("CSRFTokenField", "HiddenField"):
                continue
            target = f"{field.id}-0" if field.type == "RadioField" else field.id
            problems.extend((f"{field.label.text}: {message}", target) for message in field.errors)
        return problems

    def normalised_phone(self):
        return normalised_phone(self.phone.data)


class PublicFeedbackForm(FeedbackFields):
    """The bank's response form: an answer needs all four contact details to find the customer."""

    # Hidden from people; bots fill it in.
    website = StringField(_l("Leave this field empty"))
    submission_token = HiddenField()
    # The language the form was shown in: the answer's language follows a switch unless the
    # customer chose another.
    shown_language = HiddenField()
    # What the customer must fill in (choices that always have a value go unmarked).
    required_marks = {
        **dict.fromkeys(("topic", "message"), ALWAYS),
        **dict.fromkeys(("reply_channel", "name", "street", "postal_code", "city", "phone",
                         "email"), FOR_ANSWER),
    }

    def contact_fields(self):
        fields = [self.name, self.street, self.postal_code, self.city, self.phone, self.email]
        if not postal_codes.needs_postal_code(self.country.data):
            fields.remove(self.postal_code)
        return fields

    def required_contact_fields(self):
        if not self.wants_answer:
            return []
        return [(field, REQUIRED) for field in self.contact_fields()]

    def switch_language(self, language):
        """Show the form in `language`: the answer follows unless the customer chose another."""
        if self.language.data in (self.shown_language.data, None, ""):
            self.language.data = language
        self.shown_language.data = language


class StaffFeedbackForm(FeedbackFields):
    """Feedback a customer gave by phone, at the counter or by letter; staff identify the customer."""

    intake_channel = SelectField(
        _l("Received by"),
        choices=[c for c in _choices(IntakeChannel) if c.value != IntakeChannel.WEB_FORM],
        default=IntakeChannel.PHONE.value,
    )
    unit = SelectField(_l("Put it in the inbox of"), coerce=int)
    submission_token = HiddenField()
    required_marks = dict.fromkeys(("topic", "message", "name"), ALWAYS)

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
