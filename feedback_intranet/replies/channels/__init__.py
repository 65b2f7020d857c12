"""The reply channels: one module each, with the same small interface, chosen from one mapping.

Each channel module offers:
- `problem(case)`: why the channel cannot be used for this case now, or None;
- `preview(case, text)`: what the customer would receive, as (subject or None, the whole text);
- `dispatch(answer, case, unit, *, now, today, calendar, deviations)`: hand the answer to the
  channel in the current transaction, returning the facts the timeline says it with.

A new channel is one module and one entry in CHANNELS.
"""

from ...models import ReplyChannel
from . import email, letter, phone

CHANNELS = {ReplyChannel.EMAIL: email, ReplyChannel.PHONE: phone, ReplyChannel.LETTER: letter}


def channel_problems(case):
    """For each channel, why it cannot be used for this case now (empty: it can)."""
    problems = {}
    for channel, module in CHANNELS.items():
        problem = module.problem(case)
        if problem:
            problems[channel] = problem
    return problems


def preview(case, channel, text):
    """What the customer will receive by `channel`: (subject or None, the whole text)."""
    return CHANNELS[ReplyChannel(channel)].preview(case, text)


def dispatch(answer, case, unit, *, now, today, calendar, deviations):
    """Hand the answer to its channel in the current transaction; returns a timeline line."""
    return CHANNELS[ReplyChannel(answer.channel)].dispatch(
        answer, case, unit, now=now, today=today, calendar=calendar, deviations=deviations)
