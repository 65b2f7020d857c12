"""Default customer-facing texts offered to staff, in the customer's language."""

from .. import customer_texts as ct
from ..rules.dates import format_date


def default_interim_notice(case, estimate):
    return ct.say(case.language, ct.INTERIM_NOTICE, reference=case.reference,
                  estimate=format_date(estimate) if estimate else "…")
