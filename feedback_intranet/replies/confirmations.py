"""The written confirmation of a complaint's final answer given by phone.

The call answers the customer (the promise is measured on it), but the paragraph on where to turn
if not satisfied must also reach them in writing: once the call is recorded as reached, the
summary and that paragraph go by email, or by letter when email is closed (the customer's own
banking matters, no address, a refused address). The case closes only once it has been delivered.
"""

from ..cases.common import add_event
from ..i18n import gettext as _
from ..models import EventKind, Purpose, ReplyChannel
from ..refusals import Refusal
from ..rules.banking_days import local_date
from .channels import channel_problems, dispatch
from .delivery import new_answer
from .texts import call_confirmation

# Email first: it reaches the customer the same day; a letter when email may not be used.
WRITTEN_CHANNELS = (ReplyChannel.EMAIL, ReplyChannel.LETTER)


def needs_confirmation(answer):
    """A phone answer that had the complaint paragraph read out: a complaint's final answer."""
    return (answer.purpose == Purpose.ANSWER and answer.channel == ReplyChannel.PHONE
            and bool(answer.read_out))


def confirmation_channel(case):
    """The way the written confirmation goes, or None when neither email nor letter can."""
    problems = channel_problems(case)
    return next((c for c in WRITTEN_CHANNELS if c not in problems), None)


def refuse_without_written_channel(case, field):
    """A complaint's final answer by phone needs a way to confirm it in writing: that way."""
    channel = confirmation_channel(case)
    if channel is None:
        raise Refusal(_("The final answer to a complaint given by phone is confirmed in writing, "
                        "but this case has neither a usable email address nor a full postal "
                        "address. Add one in the contact details first."), field)
    return channel


def queue_confirmation(actor, case, answer, summary, *, now, calendar, deviations):
    """Queue the written confirmation of `answer`, reached by phone at `now` with `summary`; it
    closes the case when delivered if the answer was to."""
    channel = refuse_without_written_channel(case, "summary")
    unit = case.current_unit
    today = local_date(now, calendar.tz)
    text = call_confirmation(case, unit, summary, today, answer.read_out)
    confirmation = new_answer(case, actor, channel, text, Purpose.WRITTEN_CONFIRMATION, now)
    confirmation.close_when_delivered = answer.close_when_delivered
    sent = dispatch(confirmation, case, unit, now=now, today=today, calendar=calendar,
                    deviations=deviations)
    add_event(case, EventKind.REPLIED, actor, now, text, channel=str(channel), sent=sent,
              purpose=str(Purpose.WRITTEN_CONFIRMATION), called_on=today.isoformat())
    return confirmation
