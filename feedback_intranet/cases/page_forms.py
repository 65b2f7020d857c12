"""The case page's action forms: each built only when the page uses it, and the fields of a
row's or a panel's form drawn once per worker for what they show.

A held case's page offers a dozen actions. Building their forms and drawing their fields took
some 40 % of the page, yet most forms show the same fields on every case: a note's text box,
the resolutions of a close, the units of a forward. So a form's fields are kept, drawn, under
what they show: the action, the reader's language and the choices and defaults the action
gives the case (CaseAction.shown), which name everything that differs between cases. What
differs per page view (the case's version, the one-time token, the CSRF token) is written
fresh beside them.
"""

import secrets

from flask import current_app, get_template_attribute
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from ..models import CaseType
from ..replies.channels import channel_problems
from ..web.drawn import Drawn
from ..web.locale import get_locale_code
from .actions import ACTIONS, PAGE
from .forms import hidden_inputs

# Drawn fields by (action, language, what the form shows), a few kB each: the ones every page
# shows stay (a note's, forward's units per unit and suggestion), one case's own (an interim
# notice's text names the case) make way.
_DRAWN = Drawn(chars=150_000)


class PageForms:
    """The forms of the actions the page offers, by name, each built when first used.

    `posted` (an entry) and `posted_form`: the form just sent and refused, shown as it was sent.
    """

    def __init__(self, case, entries, posted=None, posted_form=None):
        self._case = case
        self._entries = {entry.name: entry for entry in entries if entry.place != PAGE}
        self._forms = {}
        self._posted = None
        if posted_form is not None and posted.name in self._entries:
            self._forms[posted.name] = posted_form
            self._posted = posted.name

    def __contains__(self, name):
        return name in self._entries

    def __getitem__(self, name):
        """The action's form; KeyError (undefined in a template) when the page does not offer it."""
        if name not in self._entries:
            raise KeyError(name)
        try:
            return self._form(name)
        except LookupError as error:  # a template would take it for "not offered"
            raise RuntimeError(f"the {name} form could not be built") from error

    def _form(self, name, shown=None):
        form = self._forms.get(name)
        if form is None:
            form = self._forms[name] = self._entries[name].new_form(self._case, blank=True,
                                                                    shown=shown)
        return form

    def hidden_fields_of(self, name):
        """The hidden inputs of the action's form: as sent for the posted one, else fresh."""
        if name in self._forms:
            return self._forms[name].hidden_fields()
        config = current_app.config
        csrf = ((config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), generate_csrf())
                if config.get("WTF_CSRF_ENABLED", True) else None)
        return hidden_inputs(f"{name}-", str(self._case.version), secrets.token_urlsafe(16), csrf)

    def fields_of(self, entry):
        """The visible fields of a row's or a panel's form (entry.fields), drawn."""
        if not entry.fields:
            return Markup()
        return self._drawn(entry, (), lambda form: _draw(form, entry.fields))

    def answer_fields(self):
        """The answer composer's fields, drawn, with why a channel cannot be used."""
        case = self._case
        problems = channel_problems(case)
        customer_channel, complaint = case.reply_channel, case.case_type == CaseType.COMPLAINT
        # What the composer shows besides the form: the channels it offers, the customer's own.
        besides = (tuple((channel.value, str(problem)) for channel, problem in problems.items()),
                   customer_channel, complaint)
        answer_fields = get_template_attribute("cases/_answer_fields.html", "answer_fields")
        return self._drawn(ACTIONS["answer"], besides,
                           lambda form: answer_fields(form, problems, customer_channel, complaint))

    def _drawn(self, entry, besides, draw):
        """`draw(form)` for the action's form: the posted form's as sent, with its errors; a
        fresh one's from the worker's cache when drawn before for the same thing shown (the
        action's choices and defaults, and what the page draws `besides` them)."""
        if entry.name == self._posted:
            return draw(self._forms[entry.name])
        shown = entry.shown(self._case)
        return _DRAWN.get((entry.name, get_locale_code(), tuple(shown.items()), besides),
                          lambda: draw(self._form(entry.name, shown)))


def _draw(form, names):
    field = get_template_attribute("macros/forms.html", "field")
    # Each field is drawn by the macro, which escapes what it writes.
    return Markup("".join(str(field(form[name])) for name in names))  # nosec B704
