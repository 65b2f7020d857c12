"""What the admin page says about one inbound mail's outcome, in the reader's language."""

from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import InboundOutcome
from . import operations

_QUARANTINED = {
    operations.UNREADABLE: _l("The mail could not be read."),
    operations.OVERSIZED: _l("The mail was too big to read."),
    operations.NO_SENDER: _l("The mail names no single sender."),
    operations.OWN_ADDRESS: _l("The mail came from the intranet's own address."),
    operations.SPAM: _l("The mail server marked it as spam."),
    operations.TOO_MANY: _l("Too many new cases from this sender today."),
    operations.SEEN_BEFORE: _l("The same mail was processed before."),
}
_MATCHED = {
    operations.BY_MESSAGE_ID: _l("Matched by the email it answers."),
    operations.BY_REFERENCE: _l("Matched by the case reference in the subject; the sender's "
                                "domain passed DMARC."),
}


def describe(mail):
    """Why the mail went where it went: a sentence, with any technical detail after it."""
    if mail.outcome is InboundOutcome.AUTOMATIC_REPLY:
        return _("Recognised as automatic by: %(why)s. Nothing was answered.", why=mail.reason)
    code, _sep, detail = mail.reason.partition(": ")
    if code in _QUARANTINED:
        return " ".join(filter(None, [str(_QUARANTINED[code]), detail]))
    if code in _MATCHED:
        return str(_MATCHED[code])
    if code == operations.UNKNOWN_ORIGINAL:
        return _("A delivery report about mail the intranet did not send.")
    if code == operations.DELAYED:
        return " ".join([_("Delivery is only delayed: nothing changed."), detail])
    if code == operations.FAILED:
        return " ".join([_("Could not be delivered: the email is marked failed and the case "
                           "flagged."), detail])
    if code == operations.FOLLOWS:
        return _("More than 30 days after case %(reference)s was answered: new feedback that "
                 "follows it.", reference=detail)
    return mail.reason
