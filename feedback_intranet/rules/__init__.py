"""The bank's rules as pure functions: no Flask, Flask-Babel, SQLAlchemy or models.

A text a rule gives a person is marked with `N_` for the catalogue and translated where it
is shown, by the caller or a template.
"""


def N_(message):
    """Mark a text for the catalogue; whoever shows it translates it."""
    return message
