"""What each audit event says, written in the reader's language when the page or CSV is.

An event keeps its kind and facts (ids, codes, counts, a masked path), never a sentence. Rows
written before the facts (migration 0030) have none: the log is append-only, so they read as
they were stored, in English.
"""

from datetime import date
from urllib.parse import unquote_plus

from .. import audit
from ..i18n import gettext as _
from ..i18n import ngettext
from ..inboxes.queries import FILTERS
from ..models import AuditKind, DirectoryRole
from ..reports.tables import REPORTS
from ..rules import N_
from ..rules.dates import format_date, format_day_range

_LOGIN_FAILED = {
    None: N_("Wrong username or password."),
    "locked": N_("The account is locked."),
    "inactive": N_("The account is not in use."),
    "throttled": N_("Too many attempts from this address (one a minute is recorded)."),
    "directory_down": N_("The directory could not be reached."),
    "disabled": N_("The directory account is disabled."),
    "outside_group": N_("The directory account is not in the group allowed to sign in."),
    "username_held": N_("The directory account's username belongs to a local account not "
                        "linked to it."),
}
# Where a login's password was checked, when a directory is configured.
_VIA = {
    "directory": N_("Checked against the directory."),
    "local": N_("Checked against the intranet's own password."),
}
_DIRECTORY_CHANGES = {
    "created": N_("Created at the first sign-in with the directory."),
    "details": N_("Name, email or language updated from the directory."),
    "renamed": N_("Renamed in the directory; the username was %(previous)s."),
    "member": N_("The directory made them a member of unit %(unit)s."),
    "no_longer_member": N_("The directory no longer makes them a member of unit %(unit)s."),
    "team_lead": N_("The directory made them team lead of unit %(unit)s."),
    "no_longer_team_lead": N_("The directory no longer makes them team lead of unit %(unit)s."),
    "admin": N_("The directory made them an administrator."),
    "no_longer_admin": N_("The directory no longer makes them an administrator."),
    "reactivated": N_("Reactivated: the directory enables the account again."),
}
_DEACTIVATED = {
    "disabled": N_("Deactivated: the directory account is disabled."),
    "gone": N_("Deactivated: the directory no longer has the account."),
    "outside_group": N_("Deactivated: the directory account is not in the group allowed to "
                        "sign in."),
}
_REFUSED = {
    401: N_("%(method)s %(path)s: not logged in (401)."),
    403: N_("%(method)s %(path)s: no access (403)."),
    404: N_("%(method)s %(path)s: not found or not visible (404)."),
}
# What an admin saved, by the table of its record.
_SAVED = {
    "staff_user": N_("Saved staff user %(id)s."),
    "unit": N_("Saved unit %(id)s."),
    "topic": N_("Saved topic %(id)s."),
    "routing_rule": N_("Saved routing rule %(id)s."),
    "reply_template": N_("Saved reply template %(id)s."),
    "deviating_hours": N_("Saved deviating service hours %(id)s."),
}
_CHANGES = {
    "closing_day_added": N_("Added %(day)s as a closing day."),
    "closing_day_withdrawn": N_("Withdrew the closing day %(day)s."),
    "deviating_hours_removed": N_("Removed deviating service hours %(id)s."),
    "user_created": N_("Created staff user %(id)s on the command line."),
    "user_deactivated": N_("Deactivated staff user %(id)s."),
    "deactivation_lifted": N_("Lifted the deactivation of staff user %(id)s."),
    "directory_linked": N_("Linked staff user %(id)s, until then %(username)s, to the directory "
                           "entry %(dn)s."),
    "directory_unlinked": N_("Unlinked staff user %(id)s from the directory."),
    "group_mapping_added": N_("Mapped the directory group %(dn)s: %(role)s."),
    "group_mapping_removed": N_("Removed the directory group %(dn)s: %(role)s."),
}
_ROLES = {role.value for role in DirectoryRole}
# The rows a retention run or a masking run counts, by their key in the facts.
_ROWS = {
    "cases": lambda n: ngettext("%(num)d case", "%(num)d cases", n),
    "answers": lambda n: ngettext("%(num)d answer", "%(num)d answers", n),
    "events": lambda n: ngettext("%(num)d timeline event", "%(num)d timeline events", n),
    "emails": lambda n: ngettext("%(num)d email", "%(num)d emails", n),
    "calls": lambda n: ngettext("%(num)d call", "%(num)d calls", n),
    "letters": lambda n: ngettext("%(num)d letter", "%(num)d letters", n),
    "inbound_mail": lambda n: ngettext("%(num)d inbound mail record",
                                       "%(num)d inbound mail records", n),
    "form_tokens": lambda n: ngettext("%(num)d used form token", "%(num)d used form tokens", n),
}
# A masking run reaches only the emails not yet sent and the letters not yet posted.
_MASKED_ROWS = _ROWS | {
    "emails": lambda n: ngettext("%(num)d unsent email", "%(num)d unsent emails", n),
    "letters": lambda n: ngettext("%(num)d waiting letter", "%(num)d waiting letters", n),
}


def username(event):
    """Who acted, as the log's user column shows it."""
    return _("(command line)") if event.username == audit.COMMAND_LINE else event.username


def describe(event):
    """The event's sentence in the current locale: from its facts, or its stored detail."""
    if event.facts is None:
        return event.detail
    write = _SENTENCES.get(event.kind)
    return write(event.facts) if write else ""


def _rows(counts, words=_ROWS):
    return ", ".join(words[key](count) for key, count in counts.items() if key in words and count)


def _login_failed(facts):
    reason = _(_LOGIN_FAILED.get(facts.get("reason"), _LOGIN_FAILED[None]))
    # A directory that could not be reached checked nothing.
    return reason if facts.get("reason") == "directory_down" else " ".join(
        filter(None, [reason, _login(facts)]))


def _login(facts):
    via = _VIA.get(facts.get("via"))
    return _(via) if via else ""


def _directory_change(facts):
    change = facts.get("change")
    if change == "deactivated":
        text = _(_DEACTIVATED.get(facts.get("reason"), _DEACTIVATED["disabled"]))
    elif change in _DIRECTORY_CHANGES:
        # Events written before the unit's code was recorded name it by its id.
        text = _(_DIRECTORY_CHANGES[change], unit=facts.get("unit") or facts.get("unit_id", ""),
                 previous=facts.get("previous", ""))
    else:
        return ""
    if facts.get("actor"):
        text += " " + _("Applied by %(admin)s.", admin=facts["actor"])
    return text


def _directory_sync(facts):
    return ngettext("Checked %(num)d directory user: %(changed)s changed, %(deactivated)s "
                    "deactivated, %(reactivated)s reactivated.",
                    "Checked %(num)d directory users: %(changed)s changed, %(deactivated)s "
                    "deactivated, %(reactivated)s reactivated.", facts.get("checked", 0),
                    changed=facts.get("changed", 0), deactivated=facts.get("deactivated", 0),
                    reactivated=facts.get("reactivated", 0))


def _locked(facts):
    return ngettext("Locked for %(minutes)s minutes after %(num)d failed login in a row.",
                    "Locked for %(minutes)s minutes after %(num)d failed logins in a row.",
                    facts.get("failures", 0), minutes=facts.get("minutes", ""))


def _password_changed(facts):
    if facts.get("set_by"):
        return _("Set by %(admin)s.", admin=facts["set_by"])
    if facts.get("command_line"):
        return _("Set on the command line.")
    return _("Changed by the user.")


def _session_ended(facts):
    return _("Last page: %(path)s", path=facts.get("path", ""))


def _refused(facts):
    text = _(_REFUSED.get(facts.get("status"), _REFUSED[403]), method=facts.get("method", ""),
             path=facts.get("path", ""))
    if facts.get("unrecorded"):
        text += " " + ngettext(
            "One more was refused from this address since its previous row.",
            "%(num)d more were refused from this address since its previous row.",
            facts["unrecorded"])
    return text


def _export(facts):
    what = facts.get("export")
    if what == "inbox":
        listing = FILTERS.get(facts.get("filter"))
        return _("Inbox %(unit)s, list “%(list)s”.", unit=facts.get("unit", ""),
                 list=listing if listing is not None else facts.get("filter", ""))
    if what == "report":
        report = REPORTS.get(facts.get("report"))
        title = report.title if report is not None else facts.get("report", "")
        if facts.get("start") and facts.get("end"):
            return _("Report “%(report)s”, table %(table)s, %(period)s.", report=title,
                     table=facts.get("table", ""), period=format_day_range(
                         date.fromisoformat(facts["start"]), date.fromisoformat(facts["end"])))
        return _("Report “%(report)s”, table %(table)s.", report=title,
                 table=facts.get("table", ""))
    if what == "audit_log":
        if facts.get("filters"):
            return _("Audit log, filtered: %(filters)s", filters=unquote_plus(facts["filters"]))
        return _("Audit log, unfiltered.")
    return ""


def _letter_download(facts):
    if "waiting_letters" in facts:
        return ngettext("%(num)d waiting letter of %(unit)s.", "%(num)d waiting letters of %(unit)s.",
                        facts["waiting_letters"], unit=facts.get("unit", ""))
    return _("Letter %(id)s.", id=facts.get("letter", ""))


def _admin_change(facts):
    change = facts.get("change")
    if change == "saved":
        saved = _SAVED.get(facts.get("record"))
        if saved is not None and facts.get("id") is not None:
            return _(saved, id=facts["id"])
        return _("Saved the page %(path)s.", path=facts.get("path", ""))
    if change == "masking_reapply":
        counts = _rows(facts.get("counts", {}), _MASKED_ROWS)
        if not counts:
            text = _("Masking run again: nothing to mask.")
        elif facts.get("dry_run"):
            text = _("Masking run again, a dry run: would mask numbers in %(counts)s.",
                     counts=counts)
        else:
            text = _("Masking run again: masked numbers in %(counts)s.", counts=counts)
        if facts.get("changed_meanwhile"):
            text += " " + ngettext(
                "%(num)d was changed by someone meanwhile and left for the next run.",
                "%(num)d were changed by someone meanwhile and left for the next run.",
                facts["changed_meanwhile"])
        return text
    if change == "set_by_hand":
        units = ", ".join(
            f"{code} {_('(team lead)')}" if role == "lead" else code
            for code, _sep, role in (unit.partition(":") for unit in facts.get("units", [])))
        if facts.get("admin"):
            return _("Set by hand for staff user %(id)s: administrator; units: %(units)s.",
                     id=facts.get("id", ""), units=units or "—")
        return _("Set by hand for staff user %(id)s: units: %(units)s.", id=facts.get("id", ""),
                 units=units or "—")
    if change in _CHANGES:
        day = facts.get("day")
        role = facts.get("role")
        # A mapped role with its unit's code: "Team lead of the unit turku".
        role = " ".join(filter(None, (str(DirectoryRole(role).title) if role in _ROLES else "",
                                      facts.get("unit"))))
        return _(_CHANGES[change], id=facts.get("id", ""),
                 day=format_date(date.fromisoformat(day)) if day else "",
                 dn=facts.get("dn") or "—", role=role, username=facts.get("local_username", "—"))
    return change or ""


def _retention(facts):
    cases, months = facts.get("cases", 0), facts.get("months", "")
    if facts.get("dry_run"):
        text = ngettext(
            "A dry run: %(num)d case closed more than %(months)s months ago would be anonymised",
            "A dry run: %(num)d cases closed more than %(months)s months ago would be anonymised",
            cases, months=months)
    else:
        text = ngettext(
            "%(num)d case closed more than %(months)s months ago was anonymised",
            "%(num)d cases closed more than %(months)s months ago were anonymised",
            cases, months=months)
    rows = _rows(facts.get("rows", {}))
    return f"{text} ({rows})." if rows else f"{text}."


def _data_request(facts):
    if facts.get("found_by") == "email":
        return ngettext("Found by email address: %(num)d case.",
                        "Found by email address: %(num)d cases.", facts.get("cases", 0))
    return ngettext("Found by customer number: %(num)d case.",
                    "Found by customer number: %(num)d cases.", facts.get("cases", 0))


# Logouts and case views say all in their kind and columns.
_SENTENCES = {
    AuditKind.LOGIN: _login,
    AuditKind.LOGIN_FAILED: _login_failed,
    AuditKind.DIRECTORY_CHANGE: _directory_change,
    AuditKind.DIRECTORY_SYNC: _directory_sync,
    AuditKind.LOCKED: _locked,
    AuditKind.PASSWORD_CHANGED: _password_changed,
    AuditKind.SESSION_ENDED: _session_ended,
    AuditKind.REFUSED: _refused,
    AuditKind.EXPORT: _export,
    AuditKind.LETTER_DOWNLOAD: _letter_download,
    AuditKind.ADMIN_CHANGE: _admin_change,
    AuditKind.RETENTION: _retention,
    AuditKind.DATA_REQUEST: _data_request,
}
