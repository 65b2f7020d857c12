"""One kind of refusal for every rule a user can break. Pure.

An operation raises `Refusal(message, field)`; the view shows it at that form field, or at
the top of the page when it names none (`web.forms.show_refusal`). A pure rule passes an
untranslated message and its `params`; the view translates it.
"""


class Refusal(ValueError):
    """A refused change, with a message for the user; `field` names the form field it concerns."""

    def __init__(self, message, field=None, **params):
        super().__init__(message % params if params else message)
        self.message, self.field, self.params = message, field, params
