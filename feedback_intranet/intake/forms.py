"""The feedback form (public) and the staff registration form share their fields and rules."""

from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import get_locale
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..countries import countries, country_name
from ..i18n import lazy_gettext as _l
from ..i18n import lazy_pgettext
from ..models import CaseType, IntakeChannel, Language, ReplyChannel, Segment
from ..rules import postal_codes
from ..rules.dates import format_date, format_moment, parse_time
from ..rules.masking import sensitive_kinds
from ..rules.phones import e164
from ..web.forms import BaseForm, day_field, parse_id

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
    # The fieldsets' legends; staff read the same fields from their side.
    legends = {"feedback": _l("Your feedback"), "answer": _l("Answer"),
               "contact": _l("Contact details")}
    channel_missing = _l("Choose how you want the answer.")
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
            self.reply_channel.errors.append(self.channel_missing)
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


# Staff register feedback up to this many days after it came (a letter that lay in a branch).
RECEIVED_DAYS_BACK = 60
# The shared fields as staff read them: the customer's details, not "your" details.
STAFF_LABELS = {
    "message": _l("The customer's feedback"),
    "reply_wanted": _l("The customer wants an answer"),
    "reply_channel": _l("Answer the customer by"),
    "segment": _l("The customer is a"),
    "name": _l("The customer's name"),
    "street": _l("The customer's street address"),
    "phone": _l("The customer's phone"),
    "email": _l("The customer's email"),
}


class StaffFeedbackForm(FeedbackFields):
    """Feedback a customer gave by phone, at the counter or by letter; staff identify the customer."""

    intake_channel = SelectField(
        _l("Received by"),
        choices=[c for c in _choices(IntakeChannel) if c.value != IntakeChannel.WEB_FORM],
        default=IntakeChannel.PHONE.value,
    )
    received_on = day_field(_l("Received on"), InputRequired(message=_l("Give the date.")))
    received_time = StringField(
        _l("Time"), validators=[InputRequired(message=_l("Give the time.")), Length(max=10)],
        description=_l("hours.minutes, e.g. 14.30"))
    unit = SelectField(_l("Put it in the inbox of"), coerce=int)
    # The register: what staff searched for, and the customer they chose (an id).
    register_query = StringField(_l("Customer number, name, phone or email"),
                                 validators=[Length(max=120)])
    customer_id = HiddenField()
    submission_token = HiddenField()
    required_marks = dict.fromkeys(("topic", "message", "name"), ALWAYS)
    legends = {"feedback": _l("The feedback"), "answer": _l("Answer"),
               "contact": _l("The customer's contact details")}
    channel_missing = _l("Choose how the customer wants the answer.")

    def __init__(self, *args, units=(), now=None, tz=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.unit.choices = [SelectChoice(unit.id, unit.local_name) for unit in units]
        for name, label in STAFF_LABELS.items():
            self[name].label.text = label
        self.now, self.tz = now, tz

    def start_now(self):
        """A new form: received now, as most feedback is registered while the customer talks."""
        local = self.now.astimezone(self.tz)
        self.received_on.data = local.date()
        self.received_time.data = f"{local:%H.%M}"

    def received_at(self):
        """The moment the feedback was received; validate the form first."""
        return datetime.combine(self.received_on.data, parse_time(self.received_time.data),
                                tzinfo=self.tz)

    def chosen_customer_id(self):
        return parse_id(self.customer_id.data)

    def _check_received(self):
        if self.received_on.errors or self.received_time.errors:
            return
        if parse_time(self.received_time.data) is None:
            self.received_time.errors.append(_l("Give the time as hours.minutes, e.g. 14.30."))
            return
        moment = self.received_at()
        today = self.now.astimezone(self.tz).date()
        if moment > self.now:
            # Today at a later hour is the time's mistake; a later day the date's.
            field = self.received_time if self.received_on.data == today else self.received_on
            field.errors.append(_l("This is later than now (%(now)s): give when the feedback "
                                   "was received.",
                                   now=format_moment(self.now, self.tz)))
        elif self.received_on.data < today - timedelta(days=RECEIVED_DAYS_BACK):
            self.received_on.errors.append(_l(
                "Feedback can be registered up to %(days)d days after it was received: give "
                "%(first)s or later.", days=RECEIVED_DAYS_BACK,
                first=format_date(today - timedelta(days=RECEIVED_DAYS_BACK))))

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        self._check_received()
        return valid and not any(field.errors for field in self)

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

    def fill_from(self, customer):
        """The register's contact details in the form, the customer chosen for the case."""
        self.customer_id.data = str(customer.id)
        self.name.data = customer.name
        self.street.data = customer.street_address
        self.postal_code.data = customer.postal_code
        self.city.data = customer.city
        self.country.data = postal_codes.HOME_COUNTRY
        self.phone.data = customer.phone or ""
        self.email.data = customer.email or ""
        self.segment.data = customer.segment.value
        self.language.data = customer.language.value
