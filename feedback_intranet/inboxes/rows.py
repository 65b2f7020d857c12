"""Inbox rows rendered once and cached by everything they show.

After a change to one case, the first view of its unit's inbox reads the page's rows again (one
statement) but renders only the rows whose key is new: a row's key digests the
values it shows (the case's id and version, its names, the first line of its message), its
due-date badge for today, the reader's language and whether the reader may select it. The
version stands for everything the case's own row holds; an answer on its way is not read for the
key either: everything that starts, moves or ends one moves the case's version in the same
transaction (cases.common.claim_version). Names live in other tables, so the key has them.
"""

import hashlib

from flask import get_template_attribute, url_for

from . import cache, queries


def key(row, badge, language, selectable):
    names = "\x1f".join((row.topic_name, row.shown_customer_name, row.assignee_name or ""))
    return cache.key("row", row.id, row.version, language, int(selectable), badge.state,
                     badge.days, badge.day, int(badge.estimate), int(badge.reply),
                     hashlib.blake2b(names.encode(), digest_size=12).hexdigest())


def rendered(rows, badges, language, selectable):
    """The rows' HTML in their order: one cache read for the page, the missing ones rendered
    (with the answers they wait to deliver, one statement) and stored."""
    keys = [key(row, badges[row.id], language, selectable) for row in rows]
    found = cache.get_many(keys)
    missing = [(row, row_key) for row, row_key in zip(rows, keys, strict=True)
               if row_key not in found]
    if missing:
        waiting = queries.waiting_answers([row.id for row, _key in missing])
        case_row = get_template_attribute("inboxes/_case_row.html", "case_row")
        # One url_for for the rows, not one per row: references are already URL-safe.
        case_path = url_for("cases.show", reference="_")[:-1]
        fresh = {row_key: str(case_row(row, badges[row.id], waiting.get(row.id), selectable,
                                       case_path))
                 for row, row_key in missing}
        cache.set_many(fresh)
        found = {**found, **fresh}
    return [cache.html(found[row_key]) for row_key in keys]
