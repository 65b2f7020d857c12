"""The header's "needs attention" for a team lead: how many cases in the units they lead are
overdue or long unassigned, and which unit's list the count opens."""

from typing import NamedTuple


class NeedsAttention(NamedTuple):
    count: int
    unit_code: str | None  # the led unit with the most such cases

    @classmethod
    def of(cls, user, count, unit_id):
        """From the user loader's sums; None when there is nothing to show."""
        if not count:
            return None
        codes = {m.unit_id: m.unit.code for m in user.memberships if m.is_team_lead}
        return cls(count, codes.get(unit_id)) if unit_id in codes else None
