"""What each timeline event says, written in the reader's language when the page is.

An event stores facts (its kind, the people, units, dates, channel, resolution, reason), never
a sentence: the same event reads as Finnish to a Finnish reader and as Swedish to a Swedish one.
Events older than the facts whose English sentence the migration could not read keep that text
and have no facts; they read as their actor alone.
"""

from datetime import date, datetime

from flask_babel import get_locale

from .. import clock
from ..countries import country_name
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..i18n import lazy_pgettext, ngettext
from ..models import CaseType, EventKind, Resolution, Segment
from ..models.organisation import NamedInThreeLanguages
from ..rules import N_
from ..rules.dates import format_date, format_moment
from ..rules.masking import KIND_TITLES

_BY_CHANNEL = {
    "answered": {"email": N_("%(actor)s answered by email."),
                 "phone": N_("%(actor)s answered by phone."),
                 "letter": N_("%(actor)s answered by letter.")},
    "asked_for": {"email": N_("The customer had asked for an answer by email."),
                  "phone": N_("The customer had asked for an answer by phone."),
                  "letter": N_("The customer had asked for an answer by letter.")},
    "cancelled_answer": {"email": N_("%(actor)s cancelled the email answer before it went out."),
                         "phone": N_("%(actor)s cancelled the callback before the call was made."),
                         "letter": N_("%(actor)s cancelled the letter before it was posted.")},
    "cancelled_interim_notice": {
        "email": N_("%(actor)s cancelled the interim notice email before it went out."),
        "phone": N_("%(actor)s cancelled the interim notice call before it was made."),
        "letter": N_("%(actor)s cancelled the interim notice letter before it was posted.")},
    "cancelled_written_confirmation": {
        "email": N_("%(actor)s cancelled the written confirmation email before it went out."),
        "letter": N_("%(actor)s cancelled the written confirmation letter before it was posted.")},
}
_DELIVERED = {
    ("answer", "email"): N_("The answer was handed to the mail server."),
    ("answer", "phone"): N_("The answer was given to the customer by phone."),
    ("answer", "letter"): N_("The answer was posted as a letter on %(date)s."),
    ("interim_notice", "email"): N_("The interim notice was handed to the mail server."),
    ("interim_notice", "phone"): N_("The interim notice was given to the customer by phone."),
    ("interim_notice", "letter"): N_("The interim notice was posted as a letter on %(date)s."),
    ("written_confirmation", "email"): N_("The written confirmation of the phone answer was "
                                          "handed to the mail server."),
    ("written_confirmation", "letter"): N_("The written confirmation of the phone answer was "
                                           "posted as a letter on %(date)s."),
    # Events from before the channel was kept with the delivery.
    ("answer", None): N_("The answer reached the customer."),
    ("interim_notice", None): N_("The interim notice reached the customer."),
}
_NOT_DELIVERED = {
    "answer": N_("The answer did not reach the customer."),
    "interim_notice": N_("The interim notice did not reach the customer."),
    "confirmation": N_("The confirmation email did not reach the customer."),
    "written_confirmation": N_("The written confirmation of the phone answer did not reach the "
                               "customer."),
}
# Why an answer sent with "close when delivered" did not close the case on delivery.
_NOT_CLOSED = {
    "already_closed": N_("The case was not closed again: it was already closed."),
    "not_answered": N_("The case was not closed: no answer had been sent."),
    "waiting": N_("The case was not closed: something addressed to the customer still waits."),
    "confirmation": N_("The case closes once the written confirmation has been delivered too."),
}
_CALLED = {
    "reached": N_("%(actor)s reached the customer at %(phone)s (call %(attempt)s)."),
    "no_answer": N_("%(actor)s called %(phone)s (call %(attempt)s): no answer."),
    "busy": N_("%(actor)s called %(phone)s (call %(attempt)s): busy."),
    "wrong_number": N_("%(actor)s called %(phone)s (call %(attempt)s): wrong number."),
}
# Lazy: two of the labels need their context, and each is said in the reader's language.
_FIELDS = {
    "contact_name": _l("Name"), "contact_street": _l("Street address"),
    "contact_postal_code": _l("Postal code"), "contact_city": _l("City"),
    "contact_country": _l("Country"),
    "contact_phone": lazy_pgettext("contact", "Phone"),
    "contact_email": lazy_pgettext("contact", "Email"), "topic_id": _l("Topic"),
    "case_type": _l("Type"), "segment": _l("Segment"),
}
_ENUMS = {"case_type": CaseType, "segment": Segment}


def summary(event):
    """The event's sentences in the reader's language ("" when it has nothing to say)."""
    facts = event.facts or {}
    actor = event.actor.full_name if event.actor else _("The system")
    if not facts and event.kind not in _WITHOUT_FACTS:
        return actor
    return " ".join(part for part in _SENTENCES[event.kind](event, facts, actor) if part)


def receipt(event):
    """Who registered feedback given to staff (none for the feedback form)."""
    if event is None or event.actor is None:
        return ""
    registered = (event.facts or {}).get("registered_at")
    if registered:
        # Received earlier (a letter, a message taken at the counter): when it was put in.
        return _("registered by %(name)s on %(moment)s", name=event.actor.full_name,
                 moment=format_moment(datetime.fromisoformat(registered), clock.timezone()))
    return _("registered by %(name)s", name=event.actor.full_name)


def _say(message, **values):
    """A message chosen from the tables above, in the reader's language. (`_` called on a table
    lookup with string keys would have the catalogue's extractor read those keys as msgids.)"""
    return _(message, **values)


def _unit(unit):
    return unit.local_name if isinstance(unit, NamedInThreeLanguages) else "—"


def _day(value):
    return format_date(date.fromisoformat(value)) if value else "—"


def _window(window):
    """A call window: [start, end] as ISO moments, or as text the migration kept."""
    if isinstance(window, str):
        return window
    start, end = (datetime.fromisoformat(moment).astimezone(clock.timezone())
                  for moment in window)
    return f"{format_date(start.date())} {start:%H}–{end:%H}"


def _sent(sent):
    """How an answer or notice left: the facts a channel's dispatch gave."""
    channel = sent.get("channel")
    if channel == "email":
        return _("It goes by email to %(address)s.", address=sent.get("to", ""))
    if channel == "letter":
        return _("It waits in the print queue as a letter.")
    if channel == "phone":
        window = sent.get("window") or [sent["start"], sent["end"]]
        return _("A callback to %(phone)s is planned for %(window)s.", phone=sent.get("to", ""),
                 window=_window(window))
    return ""


def _received(event, facts, actor):
    if not facts.get("by_email"):
        yield ""
        return
    yield _("Received by email.")
    attachments = facts.get("attachments") or 0
    if attachments:
        yield ngettext("%(num)d attachment was not kept.", "%(num)d attachments were not kept.",
                       attachments)


def _routed(event, facts, actor):
    yield _("Routed from %(from_unit)s to %(to_unit)s by the rule “%(rule)s”.",
            from_unit=_unit(event.from_unit), to_unit=_unit(event.to_unit),
            rule=facts.get("rule", ""))


def _forwarded(event, facts, actor):
    yield _("%(actor)s forwarded the case from %(from_unit)s to %(to_unit)s.", actor=actor,
            from_unit=_unit(event.from_unit), to_unit=_unit(event.to_unit))


def _assigned(event, facts, actor):
    previous = facts.get("previous")
    if facts.get("taken"):
        yield (_("%(actor)s took the case over from %(previous)s.", actor=actor, previous=previous)
               if previous else _("%(actor)s took the case.", actor=actor))
    else:
        holder = facts.get("holder", "")
        yield (_("%(actor)s assigned the case to %(holder)s (it was with %(previous)s).",
                 actor=actor, holder=holder, previous=previous) if previous
               else _("%(actor)s assigned the case to %(holder)s.", actor=actor, holder=holder))


def _unassigned(event, facts, actor):
    if facts.get("deactivated"):
        yield _("Returned to the inbox: %(name)s's account was deactivated.",
                name=facts["deactivated"])
    else:
        yield _("%(actor)s returned the case to the inbox; %(previous)s held it.", actor=actor,
                previous=facts.get("previous", ""))


def _note(event, facts, actor):
    yield actor


def _interim_notice(event, facts, actor):
    previous = facts.get("previous")
    if facts.get("reply"):
        yield _("%(actor)s moved the deadline of the answer to the customer's reply from "
                "%(previous)s to %(estimate)s.", actor=actor, previous=_day(previous),
                estimate=_day(facts.get("estimate")))
        yield _sent(facts.get("sent", {}))
        return
    yield (_("%(actor)s moved the estimated decision date from %(previous)s to %(estimate)s.",
             actor=actor, previous=_day(previous), estimate=_day(facts.get("estimate")))
           if previous else
           _("%(actor)s estimated the decision date as %(estimate)s.", actor=actor,
             estimate=_day(facts.get("estimate"))))
    yield _sent(facts.get("sent", {}))


def _replied(event, facts, actor):
    channel = facts.get("channel")
    if facts.get("purpose") == "written_confirmation":
        yield _("The answer given by phone on %(date)s is confirmed to the customer in writing, "
                "with the paragraph on FINE and the Consumer Disputes Board.",
                date=_day(facts.get("called_on")))
        yield _sent(facts.get("sent", {}))
        return
    yield _say(_BY_CHANNEL["answered"][channel], actor=actor) if channel else actor
    yield _sent(facts.get("sent", {}))
    if facts.get("asked_for"):
        yield _say(_BY_CHANNEL["asked_for"][facts["asked_for"]])
        if facts.get("reason"):
            yield _("Reason: %(reason)s", reason=facts["reason"])
    if facts.get("read_out"):
        yield _("The paragraph on FINE and the Consumer Disputes Board is read out on the call, "
                "and confirmed in writing after it.")
    if facts.get("close_when_delivered"):
        yield _("The case closes when the answer is delivered.")


def _closed(event, facts, actor):
    if facts.get("duplicate_of"):
        yield _("%(actor)s closed the case as a duplicate of %(original)s.", actor=actor,
                original=facts["duplicate_of"])
    elif facts.get("on_delivery_for"):
        yield _("Closed when the answer was delivered, as %(name)s asked when sending it.",
                name=facts["on_delivery_for"])
    else:
        resolution = Resolution(facts["resolution"]).title if facts.get("resolution") else "—"
        yield _("%(actor)s closed the case: %(resolution)s.", actor=actor, resolution=resolution)


def _reopened(event, facts, actor):
    if facts.get("delivery_failed"):
        yield _("Reopened: the answer the case closed on did not reach the customer.")
    elif facts.get("customer_replied"):
        yield _("Open again: the customer replied. The answer to the reply is due by %(date)s.",
                date=_day(facts.get("reply_due")))
        if event.to_unit is not None:
            yield _("The case went from %(from_unit)s back to %(to_unit)s, the unit that "
                    "answered.", from_unit=_unit(event.from_unit), to_unit=_unit(event.to_unit))
    else:
        yield _("%(actor)s reopened the case.", actor=actor)


def _customer_matched(event, facts, actor):
    if facts.get("previous"):
        yield _("%(actor)s linked the case to %(customer)s (%(number)s) instead of %(previous)s "
                "(%(previous_number)s).", actor=actor, customer=facts.get("customer", ""),
                number=facts.get("number", ""), previous=facts["previous"],
                previous_number=facts.get("previous_number", ""))
    else:
        yield _("%(actor)s linked the case to %(customer)s (%(number)s).", actor=actor,
                customer=facts.get("customer", ""), number=facts.get("number", ""))


def _corrected_value(field, value):
    if value in (None, ""):
        return "—"
    if isinstance(value, dict):  # a topic, with its name in each language
        return NamedInThreeLanguages.name_for(str(get_locale() or "en"), value.get("en", ""),
                                              value.get("fi", ""), value.get("sv", ""))
    if field == "contact_country":
        return country_name(value, str(get_locale() or "en"))
    if field in _ENUMS:
        try:
            return str(_ENUMS[field](value).title)
        except ValueError:
            return value
    return str(value)


def _corrected(event, facts, actor):
    changes = facts.get("changes", [])
    yield _("%(actor)s corrected the case:", actor=actor)
    yield "; ".join(f"{str(_FIELDS[field]) if field in _FIELDS else field}: "
                    f"{_corrected_value(field, old)} → {_corrected_value(field, new)}"
                    for field, old, new in changes)


def _duplicate(event, facts, actor):
    yield _("%(actor)s closed %(duplicate)s as a duplicate of this case.", actor=actor,
            duplicate=facts.get("duplicate", ""))


def _delivered(event, facts, actor):
    message = _DELIVERED.get((facts.get("purpose"), facts.get("channel")))
    if message:
        yield _say(message, date=_day(facts.get("posted_on")))
    if facts.get("not_closed") in _NOT_CLOSED:
        yield _say(_NOT_CLOSED[facts["not_closed"]])


def _delivery_failed(event, facts, actor):
    yield _say(_NOT_DELIVERED.get(facts.get("purpose"), _NOT_DELIVERED["answer"]))
    problem = facts.get("problem")
    if problem == "wrong_number":
        yield _("The phone number is wrong: correct it, or answer by letter or email.")
    elif problem == "not_reached":
        attempts = facts.get("attempts", 0)
        yield ngettext("%(num)d call did not reach the customer: answer by letter or email "
                       "instead.", "%(num)d calls did not reach the customer: answer by letter "
                       "or email instead.", attempts)
    elif facts.get("bounced"):
        yield _("The customer's mail server returned it (%(status)s): %(detail)s",
                status=facts["bounced"], detail=facts.get("detail") or "—")
    elif facts.get("detail"):
        yield _("The mail server said: %(detail)s", detail=facts["detail"])


def _callback(event, facts, actor):
    if facts.get("moved_from"):
        yield _("%(actor)s moved the callback from %(before)s to %(after)s.", actor=actor,
                before=_window(facts["moved_from"]), after=_window(facts["moved_to"]))
        return
    outcome = facts.get("outcome")
    if outcome in _CALLED:
        yield _say(_CALLED[outcome], actor=actor, phone=facts.get("phone", ""),
                attempt=facts.get("attempt", ""))
    if facts.get("outside_window"):
        yield _("Recorded outside the planned window %(window)s.",
                window=_window(facts["outside_window"]))
    hours = facts.get("outside_hours")
    if hours == "closed":
        yield _("Recorded on a day without service hours.")
    elif hours:
        yield _("Recorded outside the service hours %(opens)s–%(closes)s.", opens=hours[0],
                closes=hours[1])
    if facts.get("next"):
        yield _("Next attempt %(window)s.", window=_window(facts["next"]))


def _banking_matter(event, facts, actor):
    yield (_("%(actor)s marked the case as concerning the customer's own banking matters: "
             "answers by phone or letter only.", actor=actor) if facts.get("own_banking")
           else _("%(actor)s removed the mark of the customer's own banking matters.",
                  actor=actor))


def _reply_cancelled(event, facts, actor):
    purpose, channel = facts.get("purpose", "answer"), facts.get("channel", "email")
    yield _say(_BY_CHANNEL[f"cancelled_{purpose}"].get(channel)
               or _BY_CHANNEL["cancelled_answer"][channel], actor=actor)
    if facts.get("answer_waits"):
        yield _("Its answer was on its way too, so the notice would have told the customer "
                "nothing new.")
    if facts.get("estimate_holds"):
        yield _("The estimated decision date %(date)s holds again.",
                date=_day(facts["estimate_holds"]))
    elif facts.get("due_date_holds"):
        yield _("The due date %(date)s holds again.", date=_day(facts["due_date_holds"]))
    elif facts.get("reply_due_holds"):
        yield _("The answer to the customer's reply is due by %(date)s again.",
                date=_day(facts["reply_due_holds"]))


def _customer_replied(event, facts, actor):
    subject = facts.get("subject")
    yield (_("The customer replied by email: “%(subject)s”.", subject=subject) if subject
           else _("The customer replied by email."))
    attachments = facts.get("attachments") or 0
    if attachments:
        yield ngettext("%(num)d attachment was not kept.", "%(num)d attachments were not kept.",
                       attachments)
    if facts.get("masked"):
        yield _("Removed on arrival: %(items)s. The original was never stored.", items=", ".join(
            _say(KIND_TITLES[kind]) for kind in facts["masked"] if kind in KIND_TITLES))
    if facts.get("close_cancelled"):
        yield _("The answer on its way no longer closes the case when delivered: the reply "
                "is to be read first.")


# Why a mail was taken for an automatic reply (inbound.reading's words).
_AUTOMATIC = {
    "out-of-office-subject": N_("An out-of-office reply came from the customer's address."),
    "list": N_("Mail from a mailing list came about this case."),
}


def _automatic_reply(event, facts, actor):
    yield _say(_AUTOMATIC.get(facts.get("reason"),
                              N_("An automatic reply came from the customer's address.")))
    yield _("Nothing was sent in return.")


_SENTENCES = {
    EventKind.RECEIVED: _received,
    EventKind.ROUTED: _routed,
    EventKind.FORWARDED: _forwarded,
    EventKind.ASSIGNED: _assigned,
    EventKind.UNASSIGNED: _unassigned,
    EventKind.NOTE: _note,
    EventKind.INTERIM_NOTICE: _interim_notice,
    EventKind.REPLIED: _replied,
    EventKind.CLOSED: _closed,
    EventKind.REOPENED: _reopened,
    EventKind.CUSTOMER_MATCHED: _customer_matched,
    EventKind.CORRECTED: _corrected,
    EventKind.DUPLICATE: _duplicate,
    EventKind.DELIVERED: _delivered,
    EventKind.DELIVERY_FAILED: _delivery_failed,
    EventKind.CALLBACK: _callback,
    EventKind.BANKING_MATTER: _banking_matter,
    EventKind.REPLY_CANCELLED: _reply_cancelled,
    EventKind.CUSTOMER_REPLIED: _customer_replied,
    EventKind.AUTOMATIC_REPLY: _automatic_reply,
}
# Kinds whose sentence needs no facts: units and actor are columns of their own.
_WITHOUT_FACTS = {EventKind.FORWARDED, EventKind.NOTE, EventKind.REOPENED}
