"""One kind of refusal for every rule a user can break. Pure.

An operation raises `Refusal(message, field)`; the view shows it at that form field, or at
the top of the page when it names none (`forms.show_refusal`).
"""


class Refusal(ValueError):
    """A refused change, with a message for the user; `field` names the form field it concerns."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field
