from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

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
    open_next_case = BooleanField(
        _l("After a forward, an answer or a close, open the next case of my list"),
        description=_l("The list is the inbox you came from, with its filter and sort. "
                       "Without this, the case page offers a “Next case” link."),
    )


class PasswordForm(BaseForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)],
                        description=_l("At least 12 characters, and not your username."))
    repeat = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new", message=_l("The two new passwords differ."))])
