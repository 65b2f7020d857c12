"""Who may see and do what: the one place permission rules live."""


def member_unit_ids(user):
    return {m.unit_id for m in user.memberships}


def led_unit_ids(user):
    return {m.unit_id for m in user.memberships if m.is_team_lead}


def can_view_unit(user, unit_id):
    """Admins see every inbox; others only those of their own units."""
    return user.is_admin or unit_id in member_unit_ids(user)


def can_view_case(user, case):
    """The unit holding the case sees it; so does the customer service unit that received it
    from the form, wherever it has gone since."""
    if can_view_unit(user, case.current_unit_id):
        return True
    return case.service_unit_id is not None and case.service_unit_id in member_unit_ids(user)


def can_set_customer(user, case):
    """Customer service, and the unit holding the case, link an unclosed case to the register."""
    return case.status != "closed" and can_view_case(user, case)
