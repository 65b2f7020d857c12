"""The intranet side of directory sign-in: what an admin sets by hand beside what the directory
grants, password forms, an admin's deactivation, linking accounts and the group mappings."""

import random

import pytest
import sqlalchemy as sa

from feedback_intranet.demo import seed_reference_data
from feedback_intranet.extensions import db
from feedback_intranet.models import Membership, User

from .conftest import PASSWORD


@pytest.fixture
def admin(client, login, make_user, units):
    user = make_user("admin", is_admin=True)
    login("admin")
    return user


@pytest.fixture
def directory_user(make_user, units):
    """Maija signs in with the directory: it makes her a member of Turku and lead of Vaasa."""
    user = make_user("maija")
    user.directory_id, user.directory_dn = "6f1c2a00-guid", "CN=Maija,OU=Staff,DC=bank,DC=internal"
    user.password_hash = None
    user.memberships.append(Membership(unit_id=units["turku"].id, by_hand=False,
                                       from_directory=True))
    user.memberships.append(Membership(unit_id=units["vaasa"].id, by_hand=False,
                                       from_directory=True, lead_from_directory=True,
                                       is_team_lead=True))
    db.session.commit()
    return user


def form(user, **changes):
    data = {"username": user.username, "full_name": user.full_name, "email": user.email,
            "password": "", "language": "en", "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def roles_of(user):
    db.session.expire_all()
    return {m.unit.code: (m.by_hand, m.lead_by_hand, m.from_directory, m.lead_from_directory,
                          m.is_team_lead)
            for m in db.session.get(User, user.id).memberships}


def test_an_admin_who_creates_a_user_sets_rights_by_hand(client, admin, units):
    response = client.post("/admin/users/new", data=form(
        User(username="new.lead", full_name="New Lead", email="new.lead@bank.example"),
        password="a long enough password", is_admin="y",
        **{f"role-{units['turku'].id}": "lead", f"role-{units['vaasa'].id}": "member"}))
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "new.lead"))
    assert user.is_admin and user.admin_by_hand and not user.admin_from_directory
    assert roles_of(user) == {"turku": (True, True, False, False, True),
                              "vaasa": (True, False, False, False, False)}


def test_create_user_on_the_command_line_sets_rights_by_hand(runner, units):
    result = runner.invoke(args=["create-user", "--username", "break.glass", "--full-name",
                                 "Break Glass", "--email", "bg@bank.example", "--admin",
                                 "--lead", "turku", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "break.glass"))
    assert user.admin_by_hand and user.is_admin and user.password_hash
    assert roles_of(user) == {"turku": (True, True, False, False, True)}


def test_the_demo_people_have_their_rights_by_hand(data):
    seed_reference_data(PASSWORD, random.Random(1))
    users = db.session.scalars(sa.select(User)).all()
    assert any(u.is_admin for u in users)
    assert all(u.is_admin == u.admin_by_hand for u in users)
    memberships = db.session.scalars(sa.select(Membership)).all()
    assert any(m.is_team_lead for m in memberships)
    assert all(m.by_hand and m.is_team_lead == m.lead_by_hand for m in memberships)


def test_editing_a_directory_users_units_never_removes_what_the_directory_grants(
    client, admin, units, directory_user
):
    # The admin makes Maija lead of Turku by hand, and sets nothing for Vaasa.
    response = client.post(f"/admin/users/{directory_user.id}", data=form(
        directory_user, **{f"role-{units['turku'].id}": "lead"}))
    assert response.status_code == 302
    assert roles_of(directory_user) == {"turku": (True, True, True, False, True),
                                        "vaasa": (False, False, True, True, True)}
    # Taking the hand-set lead away leaves the directory's membership of Turku.
    client.post(f"/admin/users/{directory_user.id}", data=form(directory_user))
    assert roles_of(directory_user) == {"turku": (False, False, True, False, False),
                                        "vaasa": (False, False, True, True, True)}


def test_a_hand_set_membership_goes_when_the_admin_removes_it(client, admin, units, make_user):
    clerk = make_user("clerk", units=[units["turku"]])
    client.post(f"/admin/users/{clerk.id}", data=form(clerk))
    assert roles_of(clerk) == {}


def test_admin_rights_from_the_directory_stay_when_the_admin_unticks_them(
    client, admin, directory_user
):
    directory_user.admin_from_directory = directory_user.is_admin = True
    db.session.commit()
    client.post(f"/admin/users/{directory_user.id}", data=form(directory_user, is_admin="y"))
    db.session.expire_all()
    assert directory_user.admin_by_hand and directory_user.is_admin
    client.post(f"/admin/users/{directory_user.id}", data=form(directory_user))
    db.session.expire_all()
    assert not directory_user.admin_by_hand and directory_user.is_admin


def test_an_admin_from_the_directory_may_drop_the_by_hand_right_of_their_own(
    client, login, make_user
):
    boss = make_user("boss", is_admin=True)
    boss.admin_from_directory = True
    db.session.commit()
    login("boss")
    response = client.post(f"/admin/users/{boss.id}", data=form(boss))
    assert response.status_code == 302
    db.session.expire_all()
    assert boss.is_admin and not boss.admin_by_hand
