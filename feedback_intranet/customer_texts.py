"""Customer-facing standard texts: English is the source, Finnish and Swedish come from the
catalogues. They are rendered in the case's language, whatever the staff member's own.

The complaint paragraph is the default of a text admins edit.
"""

from flask_babel import force_locale

from .i18n import gettext
from .rules import N_

GREETING = N_("Dear %(name)s,")
GREETING_NO_NAME = N_("Hello,")
SIGNATURE = N_("Kind regards\n%(unit)s\nThe Bank")
COMPLAINT_PARAGRAPH = N_("If you are not satisfied with our decision, you can ask the Finnish Financial Ombudsman Bureau (FINE, www.fine.fi) for advice or take the matter to the Consumer Disputes Board (www.kuluttajariita.fi).")
ANSWER_SUBJECT = N_("Answer to your feedback %(reference)s")
INTERIM_SUBJECT = N_("Your feedback %(reference)s: we need more time")
EMAIL_FOOTER = N_("Replies to this message are not read. You can give feedback on our feedback form. Send anything about your own accounts, such as account numbers or identity codes, through the netbank's secure messages.")
# Instead of the footer and the confirmation's last lines while the feedback mailbox is read
# (INBOUND_ADDRESS): replies then come back to the case, but no number belongs in them.
YOU_MAY_REPLY = N_("You can reply to this email, and your reply will go to the same case. Please do not send personal identity codes, account or card numbers, payment details, passwords or banking codes by email; use the netbank's secure messages for them. Attachments are not kept.")
BANK_NAME = N_("The Bank")
LETTER_REFERENCE = N_("Reference")
# What a letter is, at the top of each page (SFS 2487 calls it the document's name).
LETTER_ANSWER = N_("Answer")
LETTER_INTERIM = N_("Interim notice")
LETTER_INTERIM_SUBJECT = N_("Interim notice on your feedback %(reference)s")
# A complaint's final answer given by phone, confirmed in writing.
LETTER_CALL_CONFIRMATION = N_("Written confirmation")
CALL_CONFIRMATION_SUBJECT = N_("Confirmation of our answer to your feedback %(reference)s")
AS_TOLD_ON_THE_PHONE = N_("As we told you on the phone on %(date)s, we confirm our answer to your feedback in writing:")
CONFIRMATION_SUBJECT = N_("We received your feedback %(reference)s")
INTERIM_NOTICE = N_("Looking into your matter %(reference)s is taking longer than we expected. We estimate that you will have a decision by %(estimate)s. Thank you for your patience.")
CONFIRMATION = {
    "thanks": N_("Thank you for your feedback."),
    "reference": N_("Your reference: %(reference)s"),
    # The bank's own promise, word for word on the confirmation page and in the email.
    "promise": N_("We aim to answer your feedback within 3 banking days, that is by %(date)s. If looking into the matter takes longer, we will let you know and give an estimate of when you will have a decision."),
    "no_answer": N_("You did not ask for an answer. We read every piece of feedback and use it to develop our services."),
    "quote": N_("Please quote the reference if you contact us about this matter."),
    "security": N_("For your security, never send account numbers, personal identity codes or payment details by email. Use the encrypted messages in the netbank for them."),
    "automatic": N_("This message was sent automatically; replies to it are not read."),
    "reply": YOU_MAY_REPLY,
    "sender": N_("Customer service"),
}


def say(language, message, **values):
    """`message` in `language` (fi, sv or en), with its placeholders filled in."""
    with force_locale(str(language)):
        return gettext(message, **values)
