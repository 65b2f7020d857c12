from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from ..i18n import lazy_gettext as _l
from ..i18n import ngettext
from ..web.forms import BaseForm


class LoginForm(BaseForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class ProfileForm(BaseForm):
    language = SelectField(_l("Language of the intranet"), choices=[
        SelectChoice("en", "English"), SelectChoice("fi", "Suomi"), SelectChoice("sv", "Svenska")])
    notify_by_email = BooleanField(
        _l("Email me when a case is assigned or forwarded to me or my unit"),
        description=_l("The email names the case and links to it; it never carries the "
                       "customer's message."),
    )
    notify_customer_replied = BooleanField(
        _l("Email me when a customer replies to a case I hold"),
        description=_l("The email names the case and links to it; it never carries the "
                       "customer's message."),
    )
    open_next_case = BooleanField(
        _l("After a forward, an answer or a close, open the next case of my list"),
        description=_l("The list is the inbox you came from, with its filter and sort. "
                       "Without this, the case page offers a “Next case” link."),
    )
    morning_digest = BooleanField(
        _l("Email me a morning summary of my cases on banking days"),
        description=_l("The cases you hold that are due today or on the next banking day, "
                       "interim notices due today and your overdue cases. Nothing is sent when "
                       "there is nothing to tell."),
    )

    def __init__(self, *args, led_units=(), **kwargs):
        super().__init__(*args, **kwargs)
        if led_units:
            # A team lead's unit sections are not theirs to turn off: the page says so.
            self.morning_digest.description = " ".join((
                str(self.morning_digest.description),
                ngettext("As the team lead of %(units)s you get its section every banking "
                         "morning whatever you choose here.",
                         "As the team lead of %(units)s you get their sections every banking "
                         "morning whatever you choose here.",
                         len(led_units), units=", ".join(led_units))))


class PasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)],
                        description=_l("At least 12 characters, and not your username."))
    repeat = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])
