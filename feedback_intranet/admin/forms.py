from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp

from ..forms import BaseForm
from ..models import Language, Segment, UnitKind

ROLE_CHOICES = [("", "Not a member"), ("member", "Member"), ("lead", "Team lead")]


class UserForm(BaseForm):
    username = StringField(
        "Username",
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[a-z0-9._-]+$", message="Use lower-case letters, digits, dots, dashes."),
        ],
    )
    full_name = StringField("Full name", validators=[DataRequired(), Length(max=120)])
    email = StringField(
        "Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)]
    )
    password = PasswordField(
        "Password", validators=[Optional(), Length(max=1024)],
        description="At least 12 characters. Leave empty to keep the current password.",
    )
    language = SelectField("Language", choices=[SelectChoice(lang.value, lang.title) for lang in Language])
    is_admin = BooleanField("Administrator")
    active = BooleanField("Active", default=True)


class UnitForm(BaseForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired(),
            Length(max=32),
            Regexp(r"^[a-z0-9-]+$", message="Use lower-case letters, digits and dashes."),
        ],
        description="Used in addresses, e.g. turku.",
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    kind = SelectField("Kind", choices=[SelectChoice(kind.value, kind.title) for kind in UnitKind])
    street_address = StringField("Street address", validators=[Optional(), Length(max=200)])
    postal_code = StringField(
        "Postal code",
        validators=[Optional(), Regexp(r"^\d{5}$", message="A Finnish postal code has five digits.")],
    )
    city = StringField("City", validators=[Optional(), Length(max=80)])
    active = BooleanField("Active", default=True)
    greeting_fi = StringField("Greeting in Finnish answers", validators=[Length(max=200)],
                              description="{name} is the customer's name. Empty: “Hei {name},”.")
    signature_fi = TextAreaField("Signature in Finnish answers", validators=[Length(max=500)])
    greeting_sv = StringField("Greeting in Swedish answers", validators=[Length(max=200)])
    signature_sv = TextAreaField("Signature in Swedish answers", validators=[Length(max=500)])
    greeting_en = StringField("Greeting in English answers", validators=[Length(max=200)])
    signature_en = TextAreaField("Signature in English answers", validators=[Length(max=500)])


class ClosingDayForm(BaseForm):
    day = DateField(
        "Date",
        validators=[InputRequired(message="Give a date.")],
        invalid_value_message="Give the date as year-month-day, e.g. 2026-12-31.",
    )
    reason = StringField("Reason", validators=[DataRequired(), Length(max=200)])


class TopicForm(BaseForm):
    code = StringField(
        "Code",
        validators=[DataRequired(), Length(max=32),
                    Regexp(r"^[a-z0-9-]+$", message="Use lower-case letters, digits and dashes.")],
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=80)])
    central_unit = SelectField(
        "Responsible central unit", coerce=int,
        description="Suggested as the forward target for feedback on this topic.",
    )
    active = BooleanField("Offered on the feedback form", default=True)


class RoutingRuleForm(BaseForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)],
                       description="Shown on the timeline of every case the rule routes.")
    topic = SelectField("Topic", coerce=int)
    segment = SelectField(
        "Customers",
        choices=[SelectChoice("", "Any customer")]
        + [SelectChoice(segment.value, segment.title) for segment in Segment],
    )
    unit = SelectField("Send straight to", coerce=int)
    active = BooleanField("Active", default=True)


class ReplyTemplateForm(BaseForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=120)])
    topic = SelectField("Topic", coerce=int)
    language = SelectField("Language", choices=[SelectChoice(lang.value, lang.title)
                                                for lang in Language])
    body = TextAreaField("Text", validators=[DataRequired(), Length(max=8000)],
                         description="The greeting and signature are added when it is sent.")
    active = BooleanField("Offered to staff", default=True)


class BankTextsForm(BaseForm):
    complaint_fi = TextAreaField("Complaint paragraph, Finnish", validators=[DataRequired()])
    complaint_sv = TextAreaField("Complaint paragraph, Swedish", validators=[DataRequired()])
    complaint_en = TextAreaField("Complaint paragraph, English", validators=[DataRequired()])


class DeviatingHoursForm(BaseForm):
    day = DateField("Date", validators=[InputRequired(message="Give a date.")],
                    invalid_value_message="Give the date as year-month-day, e.g. 2026-12-23.")
    segment = SelectField("Customers", choices=[SelectChoice("", "All customers")]
                          + [SelectChoice(s.value, s.title) for s in Segment])
    opens = TimeField("Opens", validators=[Optional()])
    closes = TimeField("Closes", validators=[Optional()],
                       description="Leave both empty when there is no phone service that day.")
    reason = StringField("Reason", validators=[DataRequired(), Length(max=200)])
