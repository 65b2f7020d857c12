"""One-time tokens on action forms: a double click or a resubmit acts once."""

from flask import abort, flash
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..extensions import db
from ..models import UsedFormToken


def consume_token(token):
    """Record a form's one-time token in the current transaction; False if it was used before.

    The token is stored with the change it guards, so a rolled-back change frees it again.
    """
    if not token:
        abort(400)
    try:
        db.session.add(UsedFormToken(token=token[:64], used_at=clock.now()))
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        flash("That was already done.", "info")
        return False
    return True
