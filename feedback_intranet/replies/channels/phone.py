"""Answers by phone: a callback task in the unit's list, in a window inside service hours."""

from ...extensions import db
from ...i18n import lazy_gettext as _l
from ...models import CallbackTask
from ...rules.phones import for_dialling, tel_uri
from ...rules.service_hours import next_windows


def problem(case):
    return None if case.contact_phone else _l("no phone number")


def first_window(case, now, calendar, deviations):
    """The first call window: before the due date if possible, else the next one."""
    return next_windows(now, str(case.segment), calendar, deviations, count=1)[0]


def preview(case, text):
    return None, text


def number(phone):
    """The number to call, as the caller reads it and as a link that dials it."""
    return {"shown": for_dialling(phone), "tel": tel_uri(phone)}


def dispatch(answer, case, unit, *, now, today, calendar, deviations):
    window = first_window(case, now, calendar, deviations)
    due = calendar.end_of_day(case.effective_due_date)
    db.session.add(CallbackTask(
        case_id=case.id, answer=answer, unit_id=unit.id, phone=case.contact_phone,
        segment=case.segment, window_start=window.start, window_end=window.end,
        due_at=max(due, window.end), created_at=now,
    ))
    return {"channel": "phone", "to": case.contact_phone, "start": window.start.isoformat(),
            "end": window.end.isoformat()}
