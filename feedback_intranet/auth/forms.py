from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import BaseForm


class LoginForm(BaseForm):
    username = StringField("Username", validators=[DataRequired(), Length(max=64)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
    next = HiddenField()


class ProfileForm(BaseForm):
    notify_by_email = BooleanField(
        "Email me when a case is assigned or forwarded to me or my unit",
        description="The email names the case and links to it; it never carries the customer's "
                    "message.",
    )
