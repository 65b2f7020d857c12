"""Who gets a morning summary, what it holds and how it reads.

A person's summary has a section for their own cases (unless they turned it off) and one for
each unit they lead; a unit without an active team lead with an email address goes to its
escalation address, in the unit's escalation language, or else to every administrator. The
summary names cases by reference, topic and badge and links to them: never the customer's
message, name or contact details, which it is never given.
"""

from dataclasses import dataclass, field

from flask_babel import force_locale

from ..emails import intranet_link, render_bodies
from ..i18n import gettext, ngettext
from ..models import Topic
from ..rules import N_
from ..rules.badges import badge_for
from ..rules.banking_days import local_date
from ..rules.dates import format_date
from . import queries as q

# The lists of a person's own cases and of a unit, in the order the summary gives them.
OWN_LISTS = (q.OWN_OVERDUE, q.INTERIM_NOTICE_DUE, q.DUE_TODAY, q.DUE_NEXT)
UNIT_LISTS = (q.OVERDUE, q.UNASSIGNED, q.LETTERS, q.CALLBACKS, q.LEFT)

HEADINGS = {
    q.OWN_OVERDUE: N_("Overdue"),
    q.INTERIM_NOTICE_DUE: N_("Due today: send an interim notice with an estimate"),
    q.DUE_TODAY: N_("Due today"),
    q.DUE_NEXT: N_("Due on the next banking day"),
    q.OVERDUE: N_("Overdue"),
    q.UNASSIGNED: N_("Unassigned for too long"),
    q.LETTERS: N_("Letters not marked posted by the next banking day"),
    q.CALLBACKS: N_("Callbacks not made on their day"),
    q.LEFT: N_("Held by people who have left the unit"),
}
EXPLANATIONS = {
    q.INTERIM_NOTICE_DUE: N_("These cases have been forwarded or are held by a central unit. "
                             "If one cannot be answered today, tell the customer so with an "
                             "estimate of when they will have a decision."),
    q.UNASSIGNED: N_("Nobody holds these cases, and they are due on the next banking day or "
                     "earlier."),
}
# Where the whole of each list is: (endpoint, its values besides the unit's code, link text).
LIST_LINKS = {
    q.OVERDUE: ("inboxes.inbox", {"filter": "attention"}, N_("Open the list in the inbox")),
    q.UNASSIGNED: ("inboxes.inbox", {"filter": "attention"}, N_("Open the list in the inbox")),
    q.LETTERS: ("replies.print_queue", {}, N_("Open the print queue")),
    q.CALLBACKS: ("replies.callbacks", {}, N_("Open the callbacks")),
    q.LEFT: ("inboxes.inbox", {}, N_("Open the inbox")),
}
OWN_HEADING = N_("Your cases")
OWN_LINK = N_("Open my cases")
SUBJECT = N_("Morning summary %(date)s")
GREETING = N_("Good morning, %(name)s.")
GREETING_NO_NAME = N_("Good morning.")
INTRODUCTION = N_("This is what needs attention today, %(date)s.")
ESCALATED = N_("%(unit)s has no team lead, so its summary comes to you.")
AUTOMATIC = N_("This summary is sent automatically on banking day mornings when there is "
               "something to tell.")
OWN_OFF = N_("You can turn off the summary of your own cases under Your settings.")
LEADS_ANYWAY = N_("The sections of the units you lead come all the same.")


@dataclass
class Recipient:
    key: str  # MorningDigest.recipient: "user:<id>" or "address:<email>"
    email: str
    language: str
    user_id: int | None = None
    name: str = ""
    own: bool = False  # wants the summary of their own cases
    led: list = field(default_factory=list)  # ids of the units they lead
    escalated: list = field(default_factory=list)  # ids of units without a lead

    @property
    def unit_ids(self):
        return [*self.led, *self.escalated]


def recipients(people, units):
    """Everyone who would get a summary on a morning with something to tell, and what for."""
    by_key = {}
    led_units = set()
    admins = []
    for person in people:
        recipient = by_key[f"user:{person.id}"] = Recipient(
            f"user:{person.id}", person.email, person.language, person.id, person.name,
            own=person.wants_own, led=list(person.leads))
        led_units.update(person.leads)
        if person.is_admin:
            admins.append(recipient)
    for unit in units:
        if unit.id in led_units:
            continue
        if unit.escalation_email:
            key = f"address:{unit.escalation_email}"
            by_key.setdefault(key, Recipient(key, unit.escalation_email,
                                             unit.escalation_language)).escalated.append(unit.id)
        else:
            for admin in admins:
                admin.escalated.append(unit.id)
    return [r for r in by_key.values() if r.own or r.unit_ids]


@dataclass
class Morning:
    """Everything read for one morning: the lists by (member or unit id, list)."""

    today: object
    calendar: object
    units: dict  # id: queries.UnitInfo
    own: dict
    unit_lists: dict
    held_since: dict  # case id: when its holder took it (the units' overdue lists)


@dataclass
class Digest:
    recipient: Recipient
    own: list  # [(list name, Listed)]
    units: list  # [(UnitInfo, escalated, [(list name, Listed)])]

    @property
    def empty(self):
        return not self.own and not self.units

    @property
    def overdue_unit_ids(self):
        """The units whose overdue cases this summary reports: escalated to its reader."""
        return [unit.id for unit, _escalated, lists in self.units
                if any(name == q.OVERDUE for name, _listed in lists)]


def compose(recipient, morning):
    own = ([(name, morning.own[recipient.user_id, name]) for name in OWN_LISTS
            if (recipient.user_id, name) in morning.own] if recipient.own else [])
    units = []
    for unit_id in recipient.unit_ids:
        lists = [(name, morning.unit_lists[unit_id, name]) for name in UNIT_LISTS
                 if (unit_id, name) in morning.unit_lists]
        if lists:
            units.append((morning.units[unit_id], unit_id in recipient.escalated, lists))
    return Digest(recipient, own, units)


def _line(item, name, morning, language):
    """What the summary says of one case: its reference, topic and badge, and what its list
    adds (the holder, a letter's day, a call's time)."""
    badge = badge_for(item.status, item.reply_wanted, item.due_date, item.estimate,
                      morning.today, morning.calendar, item.reply_due)
    extra = ""
    tz = morning.calendar.tz
    if name == q.OVERDUE and item.holder is None:
        extra = gettext("held by nobody")
    elif name == q.OVERDUE:
        taken = morning.held_since.get(item.case_id)
        days = (morning.calendar.banking_days_between(local_date(taken, tz), morning.today)
                if taken else None)
        extra = (gettext("held by %(name)s", name=item.holder) if days is None
                 else gettext("held by %(name)s since today", name=item.holder) if days <= 0
                 else ngettext("held by %(name)s for %(num)d banking day",
                               "held by %(name)s for %(num)d banking days", days,
                               name=item.holder))
    elif name == q.LEFT:
        extra = gettext("held by %(name)s", name=item.holder)
    elif name == q.LETTERS:
        extra = gettext("made on %(date)s", date=format_date(local_date(item.at, tz)))
    elif name == q.CALLBACKS:
        local = item.at.astimezone(tz)
        extra = gettext("to call on %(date)s at %(time)s", date=format_date(local),
                        time=f"{local:%H:%M}")
    return {"reference": item.reference, "link": intranet_link("cases.show", reference=item.reference),
            "topic": Topic.name_for(language, *item.topic), "badge": badge, "extra": extra}


def _list(name, listed, morning, language, link):
    more = listed.total - len(listed.items)
    return {"heading": gettext(HEADINGS[name]),
            "explanation": gettext(EXPLANATIONS[name]) if name in EXPLANATIONS else "",
            "lines": [_line(item, name, morning, language) for item in listed.items],
            "more": ngettext("and %(num)d more", "and %(num)d more", more) if more > 0 else "",
            "link": link}


def render(digest, morning):
    """(subject, plain text, HTML) of a summary, in its reader's language."""
    recipient = digest.recipient
    language = recipient.language
    day = format_date(morning.today)
    with force_locale(language):
        own = [_list(name, listed, morning, language, None) for name, listed in digest.own]
        units = []
        for unit, escalated, lists in digest.units:
            unit_name = unit.name_in(language)
            shown = []
            for name, listed in lists:
                endpoint, values, text = LIST_LINKS[name]
                link = {"url": intranet_link(endpoint, unit_code=unit.code, **values),
                        "text": gettext(text)}
                shown.append(_list(name, listed, morning, language, link))
            units.append({"name": unit_name, "lists": shown,
                          "escalated": gettext(ESCALATED, unit=unit_name) if escalated else ""})
        footer = [gettext(AUTOMATIC)]
        if recipient.user_id is not None:
            footer.append(gettext(OWN_OFF))
            if recipient.led:
                footer.append(gettext(LEADS_ANYWAY))
        context = {
            "greeting": (gettext(GREETING, name=recipient.name) if recipient.name
                         else gettext(GREETING_NO_NAME)),
            "introduction": gettext(INTRODUCTION, date=day),
            "own_heading": gettext(OWN_HEADING), "own": own, "units": units,
            "own_link": {"url": intranet_link("inboxes.my_cases"), "text": gettext(OWN_LINK)},
            "footer": " ".join(footer),
        }
        subject = gettext(SUBJECT, date=day)
        body_text, body_html = render_bodies("morning_digest", language, **context)
    return subject, body_text, body_html


def describe(digest):
    """The summary in a line of English for the operator (`reminders send --dry-run`)."""
    def counts(lists):
        return ", ".join(f"{listed.total} {name.replace('_', ' ')}" for name, listed in lists)

    parts = [f"own cases: {counts(digest.own)}"] if digest.own else []
    parts += [f"{unit.code}{' (no team lead)' if escalated else ''}: {counts(lists)}"
              for unit, escalated, lists in digest.units]
    recipient = digest.recipient
    return f"{recipient.email} ({recipient.language}): {'; '.join(parts)}"
