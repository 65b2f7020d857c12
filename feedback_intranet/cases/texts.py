"""Default customer-facing texts, in the customer's language."""

from ..badges import format_date

INTERIM_NOTICE = {
    "fi": ("Asiasi {reference} selvittäminen vie arvioitua kauemmin. Arvioimme, että saat "
           "päätöksen viimeistään {estimate}. Kiitos kärsivällisyydestäsi."),
    "sv": ("Utredningen av ditt ärende {reference} tar längre tid än väntat. Vi beräknar att du "
           "får ett beslut senast {estimate}. Tack för ditt tålamod."),
    "en": ("Looking into your matter {reference} is taking longer than we expected. We estimate "
           "that you will have a decision by {estimate}. Thank you for your patience."),
}


def default_interim_notice(case, estimate):
    template = INTERIM_NOTICE.get(str(case.language), INTERIM_NOTICE["en"])
    return template.format(reference=case.reference,
                           estimate=format_date(estimate) if estimate else "…")
