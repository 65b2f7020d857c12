from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from ..i18n import lazy_gettext as _l
from ..i18n import lazy_pgettext
from ..models import AuditKind, DirectoryRole, Language, Segment, UnitKind
from ..passwords import password_problem
from ..web.forms import BaseForm, day_field

ROLE_CHOICES = [("", _l("Not a member")), ("member", _l("Member")), ("lead", _l("Team lead"))]


class UserForm(BaseForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(),
            Length(max=64),
            Regexp(r"^[a-z0-9._-]+$",
                   message=_l("Use lower-case letters, digits, dots, dashes.")),
        ],
    )
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = StringField(
        lazy_pgettext("contact", "Email"),
        validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)],
    )
    password = PasswordField(
        _l("Password"), validators=[Optional(), Length(max=1024)],
        description=_l("At least 12 characters. Leave empty to keep the current password."),
    )
    language = SelectField(_l("Language"),
                           choices=[SelectChoice(lang.value, lang.title) for lang in Language])
    is_admin = BooleanField(_l("Administrator"))
    active = BooleanField(_l("Active"), default=True)
    must_change_password = BooleanField(_l("Must choose a new password at the next login"))

    def __init__(self, *args, new=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.new = new
        if new:
            # A new user has no password to keep: it is asked for with the other fields, so
            # every problem shows on the first submit.
            self.password.validators = [InputRequired(message=_l("A new user needs a password.")),
                                        Length(max=1024)]
            self.password.flags.required = True
            self.password.description = _l("At least 12 characters. The user can change it "
                                           "after logging in.")

    def validate_password(self, field):
        problem = password_problem(field.data, self.username.data or "") if field.data else None
        if problem:
            raise ValidationError(problem)


class LinkToDirectoryForm(BaseForm):
    """Whose directory entry an admin links a local account to."""

    directory_username = StringField(
        _l("Their username in the bank's directory"), validators=[DataRequired(), Length(max=150)],
        description=_l("The name they sign in to Windows with. The intranet finds their entry, "
                       "links the account to it by its stable id, and takes their name, email "
                       "and groups from it."))


class GroupMappingForm(BaseForm):
    group_dn = StringField(
        _l("Directory group (DN)"), validators=[DataRequired(), Length(max=500)],
        description=_l("For example CN=FB-Helsinki-Centre,OU=Groups,DC=bank,DC=internal. "
                       "Letter case and spaces around commas do not matter."))
    role = SelectField(_l("Its members are"),
                       choices=[SelectChoice(role.value, role.title) for role in DirectoryRole])
    unit = SelectField(_l("Unit"), coerce=int,
                       description=_l("For members and team leads; not for administrators."))


class UnitForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[
            DataRequired(),
            Length(max=32),
            Regexp(r"^[a-z0-9-]+$", message=_l("Use lower-case letters, digits and dashes.")),
        ],
        description=_l("Used in addresses, e.g. turku."),
    )
    name = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=120)])
    name_fi = StringField(_l("Name in Finnish"), validators=[Length(max=120)],
                          description=_l("Staff and customers reading Finnish see this name."))
    name_sv = StringField(_l("Name in Swedish"), validators=[Length(max=120)],
                          description=_l("Staff and customers reading Swedish see this name."))
    kind = SelectField(_l("Kind"),
                       choices=[SelectChoice(kind.value, kind.title) for kind in UnitKind])
    street_address = StringField(_l("Street address"), validators=[Optional(), Length(max=200)])
    postal_code = StringField(
        _l("Postal code"),
        validators=[Optional(),
                    Regexp(r"^\d{5}$", message=_l("A Finnish postal code has five digits."))],
    )
    city = StringField(_l("City"), validators=[Optional(), Length(max=80)])
    active = BooleanField(_l("Active"), default=True)
    escalation_email = StringField(
        _l("Escalation address"),
        # A pasted address often brings a space along.
        filters=[lambda value: value.strip() if value else value],
        validators=[Optional(), Email(check_deliverability=False), Length(max=254)],
        description=_l("While the unit has no team lead, its overdue and long-unassigned cases "
                       "are reported here each banking morning. Empty: to the administrators."),
    )
    escalation_language = SelectField(
        _l("Language of the escalation address"), default=Language.FI.value,
        choices=[SelectChoice(lang.value, lang.title) for lang in Language],
        description=_l("The morning's report to the escalation address is written in it."),
    )
    greeting_fi = StringField(_l("Greeting in Finnish answers"), validators=[Length(max=200)],
                              description=_l("{name} is the customer's name. Empty: “Hei {name},”."))
    signature_fi = TextAreaField(_l("Signature in Finnish answers"), validators=[Length(max=500)])
    greeting_sv = StringField(_l("Greeting in Swedish answers"), validators=[Length(max=200)])
    signature_sv = TextAreaField(_l("Signature in Swedish answers"), validators=[Length(max=500)])
    greeting_en = StringField(_l("Greeting in English answers"), validators=[Length(max=200)])
    signature_en = TextAreaField(_l("Signature in English answers"), validators=[Length(max=500)])


class ClosingDayForm(BaseForm):
    day = day_field(_l("Date"), InputRequired(message=_l("Give a date.")))
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])
    # "yes" from the second step, where the admin has seen how many badges the day changes.
    confirmed = HiddenField()


class TopicForm(BaseForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32),
                    Regexp(r"^[a-z0-9-]+$",
                           message=_l("Use lower-case letters, digits and dashes."))],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=80)])
    name_fi = StringField(_l("Name in Finnish"), validators=[Length(max=80)])
    name_sv = StringField(_l("Name in Swedish"), validators=[Length(max=80)])
    central_unit = SelectField(
        _l("Responsible central unit"), coerce=int,
        description=_l("Suggested as the forward target for feedback on this topic."),
    )
    active = BooleanField(_l("Offered on the feedback form"), default=True)


class RoutingRuleForm(BaseForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)],
                       description=_l("Shown on the timeline of every case the rule routes."))
    topic = SelectField(_l("Topic"), coerce=int)
    segment = SelectField(
        _l("Customers"),
        choices=[SelectChoice("", _l("Any customer"))]
        + [SelectChoice(segment.value, segment.title) for segment in Segment],
    )
    unit = SelectField(_l("Send straight to"), coerce=int)
    active = BooleanField(_l("Active"), default=True)


class ReplyTemplateForm(BaseForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    topic = SelectField(_l("Topic"), coerce=int)
    language = SelectField(_l("Language"), choices=[SelectChoice(lang.value, lang.title)
                                                for lang in Language])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=8000)],
                         description=_l("The greeting and signature are added when it is sent."))
    active = BooleanField(_l("Offered to staff"), default=True)


class BankTextsForm(BaseForm):
    complaint_fi = TextAreaField(_l("Complaint paragraph, Finnish"), validators=[DataRequired()])
    complaint_sv = TextAreaField(_l("Complaint paragraph, Swedish"), validators=[DataRequired()])
    complaint_en = TextAreaField(_l("Complaint paragraph, English"), validators=[DataRequired()])


class DeviatingHoursForm(BaseForm):
    day = day_field(_l("Date"), InputRequired(message=_l("Give a date.")))
    segment = SelectField(_l("Customers"), choices=[SelectChoice("", _l("All customers"))]
                          + [SelectChoice(s.value, s.title) for s in Segment])
    opens = TimeField(_l("Opens"), validators=[Optional()])
    closes = TimeField(_l("Closes"), validators=[Optional()],
                       description=_l("Leave both empty when there is no phone service that day."))
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=200)])


class AuditFilterForm(BaseForm):
    """The audit page's filters: a GET form, so a filtered view can be bookmarked."""

    class Meta:
        csrf = False

    user = StringField(_l("Username"), validators=[Optional(), Length(max=64)])
    # The default: the page opened from the menu, or a link with only some filters, lists all.
    kind = SelectField(_l("Event"), default="",
                       choices=[SelectChoice("", _l("Any event"))]
                       + [SelectChoice(kind.value, kind.title) for kind in AuditKind])
    case = StringField(_l("Case reference"), validators=[Optional(), Length(max=20)])
    start = day_field(lazy_pgettext("date range", "From"))
    end = day_field(lazy_pgettext("date range", "To"))


class DataRequestForm(BaseForm):
    customer_number = StringField(_l("Customer number"), validators=[Optional(), Length(max=20)])
    email = StringField(lazy_pgettext("contact", "Email"),
                        validators=[Optional(), Email(check_deliverability=False), Length(max=254)])

    def validate(self, extra_validators=None):
        if not super().validate(extra_validators):
            return False
        if not (self.customer_number.data or "").strip() and not (self.email.data or "").strip():
            self.customer_number.errors.append(_l("Give the customer number or the email address."))
            return False
        return True
