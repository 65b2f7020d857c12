"""timeline facts: events keep facts, and the timeline writes their sentence in the reader's
language

Until now every event stored an English sentence ("Taken by Aino Virtanen.", "Closed:
Answered."), read as English in every language. The sentence is now written when the page is,
from `facts`; `text` keeps only what a person wrote (a note, an answer, a reason). This migration
reads each stored sentence back into facts. A sentence it cannot read keeps its text, with no
facts, and the timeline shows it as stored.

Call windows are kept as the text they were written in (the bank's local hours), dates as ISO
dates.

Revision ID: 0028_timeline_facts
Revises: 0027_unit_names
Create Date: 2026-11-29 23:30:00

"""
import re
from datetime import date

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0028_timeline_facts'
down_revision = '0027_unit_names'
branch_labels = None
depends_on = None

BATCH = 20000
events = sa.table('case_event', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                  sa.column('text', sa.Text), sa.column('facts', sa.JSON))

# The words the sentences used on this day, English titles of the enums included.
CHANNELS = {'email': 'email', 'phone call': 'phone', 'letter': 'letter'}
FAILED_CHANNELS = {'Email': 'email', 'Phone call': 'phone', 'Letter': 'letter'}
PURPOSES = {'Answer': 'answer', 'Interim notice': 'interim_notice'}
RESOLUTIONS = {'Answered': 'answered', 'No answer wanted': 'no_answer_wanted',
               'Duplicate': 'duplicate', 'Withdrawn by the customer': 'withdrawn',
               'Other': 'other'}
FIELDS = {'name': 'contact_name', 'street address': 'contact_street',
          'postal code': 'contact_postal_code', 'city': 'contact_city', 'phone': 'contact_phone',
          'email': 'contact_email', 'topic': 'topic_id', 'type': 'case_type',
          'segment': 'segment'}
OUTCOMES = {'reached': 'reached', 'no answer': 'no_answer', 'busy': 'busy',
            'wrong number': 'wrong_number'}
NOT_CLOSED = {'Not closed again: the case was already closed.': 'already_closed',
              'No answer has been sent yet: the case cannot be closed as answered.':
              'not_answered'}
DAY = r'(\d{1,2}\.\d{1,2}\.\d{4}|\d{4}-\d{2}-\d{2})'
WINDOW = r'(\d{1,2}\.\d{1,2}\.\d{4} \d{2}–\d{2})'


class Unreadable(Exception):
    pass


def _day(text):
    if '-' in text:
        return date.fromisoformat(text).isoformat()
    day, month, year = (int(part) for part in text.split('.'))
    return date(year, month, day).isoformat()


def _match(pattern, text):
    found = re.fullmatch(pattern, text, re.S)
    if found is None:
        raise Unreadable(text)
    return found


def _split(text):
    """The sentence, and what a person wrote after a blank line."""
    head, _blank, rest = text.partition('\n\n')
    return head, rest


def _sent(how):
    if how.startswith('queued by email to '):
        return {'channel': 'email', 'to': how.removeprefix('queued by email to ')}
    if how == 'letter waiting in the print queue':
        return {'channel': 'letter'}
    found = _match(r'callback to (.*) planned for ' + WINDOW, how)
    return {'channel': 'phone', 'to': found[1], 'window': found[2]}


def _received(text):
    if text == '' or text == 'Received through the feedback form.' or text.startswith(
            'Registered by '):
        return {}, ''
    raise Unreadable(text)


def _routed(text):
    return {'rule': _match(r'Routed by rule “(.*)”\.', text)[1]}, ''


def _assigned(text):
    if text == '':
        return {'taken': True}, ''
    found = re.fullmatch(r'Taken by (.+?)(?: from (.+))?\.', text, re.S)
    if found:
        return {'taken': True, 'holder': found[1],
                **({'previous': found[2]} if found[2] else {})}, ''
    found = _match(r'Assigned to (.+?)(?:, was (.+))?\.', text)
    return {'holder': found[1], **({'previous': found[2]} if found[2] else {})}, ''


def _unassigned(text):
    found = re.fullmatch(r'Returned to the inbox: (.+) was deactivated\.', text, re.S)
    if found:
        return {'deactivated': found[1]}, ''
    return {'previous': _match(r'Returned to the inbox by .+?, was held by (.+)\.', text)[1]}, ''


def _interim_notice(text):
    head, rest = _split(text)
    if rest == '' and head.startswith('Estimated decision date ') and 'Notice' not in head:
        return {'estimate': _day(_match(r'Estimated decision date ' + DAY + r'\.', head)[1])}, ''
    found = _match(r'Estimated decision date ' + DAY + r'(?:, was ' + DAY + r')?\. Notice (.+)\.',
                   head)
    return {'estimate': _day(found[1]), 'sent': _sent(found[3]),
            **({'previous': _day(found[2])} if found[2] else {})}, rest


def _replied(text):
    head, rest = _split(text)
    if head == '' and rest == '':
        return {}, ''
    facts = {}
    if head.endswith(' The case closes when the answer is delivered.'):
        head = head.removesuffix(' The case closes when the answer is delivered.')
        facts['close_when_delivered'] = True
    found = re.fullmatch(r'(.*?)\. The customer asked for (email|phone call|letter); (.*)', head,
                         re.S)
    if found:
        head = found[1] + '.'
        facts.update(asked_for=CHANNELS[found[2]], reason=found[3])
    found = _match(r'Answer by (email|phone call|letter): (.+)\.', head)
    return {'channel': CHANNELS[found[1]], 'sent': _sent(found[2]), **facts}, rest


def _closed(text):
    if text == '':
        return {}, ''
    head, rest = _split(text)
    resolution = RESOLUTIONS[_match(r'Closed: (.+)\.', head)[1]] if head.startswith(
        'Closed: ') and head.removeprefix('Closed: ').removesuffix('.') in RESOLUTIONS else None
    if resolution is None:
        raise Unreadable(text)
    facts = {'resolution': resolution}
    found = re.fullmatch(r'Duplicate of (\S+)\.', rest)
    if found:
        return {**facts, 'duplicate_of': found[1]}, ''
    found = re.fullmatch(r'Closed on delivery, as (.+) asked when sending the answer\.', rest,
                         re.S)
    if found:
        return {**facts, 'on_delivery_for': found[1]}, ''
    return facts, rest


def _reopened(text):
    if text == 'Reopened: the answer the case closed on did not reach the customer.':
        return {'delivery_failed': True}, ''
    return {}, text


def _customer_matched(text):
    found = _match(r'Customer set to (.+?) \((\S+)\)(?:, was (.+?) \((\S+)\))?\.', text)
    return {'customer': found[1], 'number': found[2],
            **({'previous': found[3], 'previous_number': found[4]} if found[3] else {})}, ''


def _value(field, value):
    if value == '—':
        return None
    return {'en': value} if field == 'topic_id' else value


def _corrected(text):
    changes = []
    for line in text.split('\n'):
        found = _match(r'([a-z ]+): (.*) → (.*)', line)
        if found[1] not in FIELDS:
            raise Unreadable(text)
        field = FIELDS[found[1]]
        changes.append([field, _value(field, found[2]), _value(field, found[3])])
    return {'changes': changes}, ''


def _duplicate(text):
    return {'duplicate': _match(r'(\S+) was closed as a duplicate of this case\.', text)[1]}, ''


def _delivered(text):
    if text == 'Answer delivered.':
        return {'purpose': 'answer'}, ''
    found = _match(r'(Answer|Interim notice) (was handed to the mail server|reached the customer '
                   r'by phone|was posted as a letter on ' + DAY + r')\.(?: (.+))?', text)
    facts = {'purpose': PURPOSES[found[1]]}
    if found[2].startswith('was handed'):
        facts['channel'] = 'email'
    elif found[2].startswith('reached'):
        facts['channel'] = 'phone'
    else:
        facts.update(channel='letter', posted_on=_day(found[3]))
    if found[4]:
        facts['not_closed'] = NOT_CLOSED.get(found[4]) or (
            'waiting' if found[4].startswith('Not closed: ') else None)
        if facts['not_closed'] is None:
            raise Unreadable(text)
    return facts, ''


def _problem(reason):
    if reason == 'wrong phone number; correct it or answer by letter or email':
        return {'problem': 'wrong_number'}
    found = re.fullmatch(r'(\d+) calls did not reach the customer; answer by letter or email '
                         r'instead', reason)
    if found:
        return {'problem': 'not_reached', 'attempts': int(found[1])}
    return {'detail': reason}


def _delivery_failed(text):
    found = re.fullmatch(r'Confirmation email could not be delivered: (.*)', text, re.S)
    if found:
        return {'purpose': 'confirmation', 'detail': found[1]}, ''
    found = _match(r'(Answer|Interim notice): (Email|Phone call|Letter) could not be delivered: '
                   r'(.*)', text)
    return {'purpose': PURPOSES[found[1]], 'channel': FAILED_CHANNELS[found[2]],
            **_problem(found[3])}, ''


def _callback(text):
    found = re.fullmatch(r'Callback moved from ' + WINDOW + ' to ' + WINDOW + r'\.', text)
    if found:
        return {'moved_from': found[1], 'moved_to': found[2]}, ''
    head, rest = _split(text)
    found = _match(r'Call (\d+) to (.+?): (reached|no answer|busy|wrong number)\.'
                   r'(?: Next attempt ' + WINDOW + r'\.)?', head)
    return {'attempt': int(found[1]), 'phone': found[2], 'outcome': OUTCOMES[found[3]],
            **({'next': found[4]} if found[4] else {})}, rest


def _banking_matter(text):
    if text.startswith("Concerns the customer's own banking matters"):
        return {'own_banking': True}, ''
    if text.startswith("No longer marked as concerning the customer's own banking matters"):
        return {'own_banking': False}, ''
    raise Unreadable(text)


def _reply_cancelled(text):
    found = _match(r'(Answer|Interim notice) by (email|phone call|letter) cancelled by .+? before '
                   r'it went out\.(?: The (estimated decision date|due date) ' + DAY +
                   r' holds again\.)?', text)
    facts = {'purpose': PURPOSES[found[1]], 'channel': CHANNELS[found[2]]}
    if found[3]:
        key = 'estimate_holds' if found[3] == 'estimated decision date' else 'due_date_holds'
        facts[key] = _day(found[4])
    return facts, ''


def _as_written(text):
    return {}, text


READERS = {
    'received': _received, 'routed': _routed, 'forwarded': _as_written, 'assigned': _assigned,
    'unassigned': _unassigned, 'note': _as_written, 'interim_notice': _interim_notice,
    'replied': _replied, 'closed': _closed, 'reopened': _reopened,
    'customer_matched': _customer_matched, 'corrected': _corrected, 'duplicate': _duplicate,
    'delivered': _delivered, 'delivery_failed': _delivery_failed, 'callback': _callback,
    'banking_matter': _banking_matter, 'reply_cancelled': _reply_cancelled,
}


def read_event(kind, text):
    """(facts, text) of a stored event: None facts, and the text unchanged, when the sentence
    cannot be read."""
    text = text or ''
    try:
        return READERS[kind](text)
    except (Unreadable, KeyError, ValueError):
        return None, text


def upgrade():
    with op.batch_alter_table('case_event') as batch:
        batch.add_column(sa.Column('facts', sa.JSON(), nullable=True))
    connection = op.get_bind()
    # Notes and forwards never held a sentence: what they hold is what a person wrote.
    connection.execute(events.update().where(events.c.kind.in_(('note', 'forwarded')))
                       .values(facts={}))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(events.c.id, events.c.kind, events.c.text)
            .where(events.c.id > last, events.c.kind.notin_(('note', 'forwarded')))
            .order_by(events.c.id).limit(BATCH)).all()
        if not rows:
            break
        last = rows[-1].id
        changed = []
        for row in rows:
            facts, text = read_event(row.kind, row.text)
            if facts is not None:
                changed.append({'event_id': row.id, 'new_facts': facts, 'new_text': text})
        if changed:
            connection.execute(
                events.update().where(events.c.id == sa.bindparam('event_id'))
                .values(facts=sa.bindparam('new_facts', type_=sa.JSON),
                        text=sa.bindparam('new_text')), changed)


def downgrade():
    with op.batch_alter_table('case_event') as batch:
        batch.drop_column('facts')
