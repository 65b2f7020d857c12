"""The intranet side of directory sign-in: what an admin sets by hand beside what the directory
grants, password forms, an admin's deactivation, linking accounts and the group mappings."""

import random
import re

import pytest
import sqlalchemy as sa

from feedback_intranet.demo import seed_reference_data
from feedback_intranet.extensions import db
from feedback_intranet.models import AuditEvent, AuditKind, GroupMapping, Membership, User

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
    assert admin_changes()[-2] == {"change": "set_by_hand", "id": directory_user.id,
                                   "admin": False, "units": ["turku:lead"]}
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert f"Set by hand for staff user {directory_user.id}: units: turku (team lead)." in audit_page
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


def admin_changes():
    return [e.facts for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.kind == AuditKind.ADMIN_CHANGE)
        .order_by(AuditEvent.id))]


def test_the_user_page_keeps_the_directorys_part_apart_from_what_was_set_by_hand(
    client, admin, units, directory_user
):
    directory_user.admin_from_directory = directory_user.is_admin = True
    db.session.commit()
    client.post(f"/admin/users/{directory_user.id}", data=form(
        directory_user, **{f"role-{units['helsinki'].id}": "member"}))
    page = client.get(f"/admin/users/{directory_user.id}").get_data(as_text=True)
    assert "Signed in with the bank's directory" in page
    assert "CN=Maija,OU=Staff,DC=bank,DC=internal" in page and "Not yet" in page
    assert "Yes, from the directory" in page
    assert "Administrator, set by hand" in page and "Role set by hand" in page
    # No password to set or to force a change of.
    assert 'name="password"' not in page and 'name="must_change_password"' not in page
    # Helsinki is set by hand (selected in its select); Vaasa's lead comes from the directory.
    assert f'<select id="role-{units["helsinki"].id}"' in page
    assert page.count('value="member" selected') == 1
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "The bank's directory" in listing and "A local password" in listing


def test_a_directory_users_name_and_email_are_the_directorys_shown_and_kept(
    client, admin, directory_user
):
    before = (directory_user.username, directory_user.full_name, directory_user.email)
    page = client.get(f"/admin/users/{directory_user.id}").get_data(as_text=True)
    for name in ("username", "full_name", "email"):
        assert re.search(rf'<input[^>]*id="{name}"[^>]*readonly', page), name
    assert "come from the directory; change them there" in page
    # A page posted with other values (a browser ignoring readonly) leaves them as they were,
    # while the language, which is the admin's, is saved.
    client.post(f"/admin/users/{directory_user.id}", data=form(
        directory_user, username="someone.else", full_name="Someone Else",
        email="else@bank.example", language="sv"))
    db.session.expire_all()
    user = db.session.get(User, directory_user.id)
    assert (user.username, user.full_name, user.email) == before
    assert user.language == "sv"


def test_a_local_users_page_has_the_password_and_the_link_form(
        client, admin, make_user, directory):
    clerk = make_user("clerk")
    page = client.get(f"/admin/users/{clerk.id}").get_data(as_text=True)
    assert 'name="password"' in page and 'name="directory_username"' in page
    assert "Signed in with the bank" not in page


def test_a_password_set_for_a_directory_user_is_refused(client, admin, directory_user):
    response = client.post(f"/admin/users/{directory_user.id}", data=form(
        directory_user, password="a long enough password", must_change_password="y"))
    assert response.status_code == 200
    assert "has no password here" in response.get_data(as_text=True)
    db.session.expire_all()
    assert directory_user.password_hash is None and not directory_user.must_change_password


def test_a_directory_user_is_never_made_to_change_a_password(client, admin, directory_user):
    client.post(f"/admin/users/{directory_user.id}", data=form(
        directory_user, must_change_password="y"))
    db.session.expire_all()
    assert not directory_user.must_change_password


@pytest.fixture
def maija_logged_in(client, login, make_user):
    user = make_user("maija")
    login("maija")
    # Maija's session began before she became a directory user.
    user.directory_id, user.password_hash = "6f1c2a00-guid", None
    db.session.commit()
    return user


def test_a_directory_user_has_no_password_form(client, maija_logged_in):
    profile = client.get("/profile").get_data(as_text=True)
    assert "change your password there" in profile
    assert "/profile/password" not in profile
    response = client.get("/profile/password")
    assert response.status_code == 403
    assert "change your password there" in response.get_data(as_text=True)
    assert 'name="new"' not in response.get_data(as_text=True)


def test_a_directory_user_cannot_post_a_new_password(client, maija_logged_in):
    response = client.post("/profile/password", data={
        "current": "", "new": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 403
    db.session.expire_all()
    assert maija_logged_in.password_hash is None


def test_an_admins_deactivation_overrides_the_directory_until_lifted(
    client, admin, directory_user
):
    version = directory_user.session_version
    client.post(f"/admin/users/{directory_user.id}", data=form(directory_user, active=None))
    db.session.expire_all()
    assert directory_user.deactivated_by_admin and not directory_user.active
    assert directory_user.session_version > version
    page = client.get(f"/admin/users/{directory_user.id}").get_data(as_text=True)
    assert "the directory decides again" in page
    client.post(f"/admin/users/{directory_user.id}", data=form(directory_user))
    db.session.expire_all()
    # Lifted: whether Maija may work again is the directory's to say at the next check.
    assert not directory_user.deactivated_by_admin and not directory_user.active
    assert [f["change"] for f in admin_changes() if f["change"] != "saved"] == [
        "user_deactivated", "deactivation_lifted"]


def test_lifting_a_local_users_deactivation_makes_them_active_again(client, admin, make_user):
    clerk = make_user("clerk", active=False)
    assert clerk.deactivated_by_admin
    client.post(f"/admin/users/{clerk.id}", data=form(clerk))
    db.session.expire_all()
    assert clerk.active and not clerk.deactivated_by_admin
    assert "deactivation_lifted" in [f["change"] for f in admin_changes()]


@pytest.fixture
def helsinki_group(units):
    from feedback_intranet.directory.groups import normalise
    from feedback_intranet.models import DirectoryRole
    from tests import ldap_server

    dn = ldap_server.group_dn("FB-Helsinki-Centre")
    db.session.add(GroupMapping(group_dn=dn, group_key=normalise(dn), role=DirectoryRole.MEMBER,
                                unit_id=units["helsinki"].id))
    db.session.commit()


def test_admin_links_a_local_account_to_the_entry_the_directory_finds_by_username(
        client, admin, make_user, login, directory, helsinki_group):
    from tests import ldap_server

    clerk = make_user("clerk", is_admin=False)
    response = client.post(f"/admin/users/{clerk.id}/link", data={"directory_username": " Aino "})
    assert response.status_code == 302
    db.session.expire_all()
    # Linked by the entry's stable id (entryUUID here), and following the entry at once.
    assert len(clerk.directory_id) == 36 and clerk.password_hash is None
    assert clerk.directory_dn == ldap_server.person_dn("Aino Virtanen")
    assert (clerk.full_name, clerk.email) == ("Aino Virtanen", "aino.virtanen@bank.test")
    assert roles_of(clerk) == {"helsinki-centre": (False, False, True, False, False)}
    # The account takes the username the person signs in with.
    assert clerk.username == "aino"
    assert admin_changes()[-1] == {"change": "directory_linked", "id": clerk.id,
                                   "directory_id": clerk.directory_id, "dn": clerk.directory_dn,
                                   "local_username": "clerk"}
    assert "clerk now signs in with the bank&#39;s directory as aino" in client.get(
        response.location).get_data(as_text=True)
    # The link and the membership it brought are audited, the unit named by its code.
    page = client.get("/admin/audit").get_data(as_text=True)
    assert f"Linked staff user {clerk.id}, until then clerk, to the directory entry" in page
    assert "member of unit helsinki-centre" in page
    client.post("/logout")
    # The local password is gone with the link; the directory's lets the same account in.
    assert b"Wrong username or password" in login("clerk").data
    assert login("aino", "password").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2


@pytest.mark.parametrize("username, message", [
    ("", "This field is required."),
    ("nobody", "The bank&#39;s directory has no user nobody."),
    ("*", "The bank&#39;s directory has no user *."),
    ("olli", "That directory account is disabled"),
    ("erik", "outside the group allowed to use the intranet"),
    ("aino", "That directory entry is already linked to maija."),
    ("Bertil", "Another account has the username bertil: rename it first."),
])
def test_linking_is_refused_with_the_username_kept(
        app, client, admin, make_user, directory, username, message):
    from feedback_intranet.directory.operations import directory_from_config

    app.config["LDAP_ALLOWED_GROUP"] = "CN=FB-Staff,OU=Groups,DC=bank,DC=test"
    maija = make_user("maija")
    aino = directory_from_config(app.config).find("aino")
    maija.directory_id, maija.password_hash = aino.directory_id, None
    make_user("bertil")
    clerk = make_user("clerk")
    db.session.commit()
    response = client.post(f"/admin/users/{clerk.id}/link", data={"directory_username": username})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page and f'value="{username}"' in page
    db.session.expire_all()
    assert clerk.directory_id is None and clerk.password_hash is not None


def test_linking_while_the_directory_is_down_says_so(client, admin, make_user, directory):
    clerk = make_user("clerk")
    directory.stop()
    response = client.post(f"/admin/users/{clerk.id}/link", data={"directory_username": "aino"})
    assert "directory cannot be reached just now" in response.get_data(as_text=True)
    db.session.expire_all()
    assert clerk.directory_id is None and clerk.password_hash is not None


def test_without_a_directory_there_is_nothing_to_link_to(client, admin, make_user):
    clerk = make_user("clerk")
    assert "directory_username" not in client.get(f"/admin/users/{clerk.id}").get_data(
        as_text=True)
    response = client.post(f"/admin/users/{clerk.id}/link", data={"directory_username": "aino"})
    assert "not configured here" in response.get_data(as_text=True)
    db.session.expire_all()
    assert clerk.directory_id is None


def test_an_account_already_linked_is_not_linked_again(app, admin, directory, directory_user):
    from feedback_intranet.admin.operations import link_to_directory
    from feedback_intranet.directory.operations import directory_from_config
    from feedback_intranet.refusals import Refusal

    with pytest.raises(Refusal, match="already linked to a directory entry"):
        link_to_directory(admin, directory_user, directory_from_config(app.config), "aino",
                          None)


def test_unlinking_makes_a_local_account_without_the_directorys_grants(
    client, admin, units, directory_user
):
    client.post(f"/admin/users/{directory_user.id}", data=form(
        directory_user, **{f"role-{units['turku'].id}": "member"}))
    response = client.post(f"/admin/users/{directory_user.id}/unlink")
    assert response.status_code == 302
    db.session.expire_all()
    assert directory_user.directory_id is None and directory_user.password_hash is None
    assert roles_of(directory_user) == {"turku": (True, False, False, False, False)}
    assert admin_changes()[-1] == {"change": "directory_unlinked", "id": directory_user.id}


def test_staff_cannot_link_or_unlink(client, login, make_user, directory_user):
    make_user("clerk")
    login("clerk")
    assert client.post(f"/admin/users/{directory_user.id}/unlink").status_code == 403
    assert client.post(f"/admin/users/{directory_user.id}/link",
                       data={"directory_username": "aino"}).status_code == 403
    db.session.expire_all()
    assert directory_user.directory_id == "6f1c2a00-guid"


def mappings():
    db.session.expire_all()
    return [(m.group_dn, m.group_key, m.role.value, m.unit.code if m.unit else None)
            for m in db.session.scalars(sa.select(GroupMapping).order_by(GroupMapping.id))]


def test_admin_maps_directory_groups_to_units_and_rights(client, admin, units):
    helsinki = units["helsinki"].id
    for dn, role, unit in [
        ("CN=FB-Helsinki-Centre, OU=Groups,DC=bank,DC=internal", "member", helsinki),
        ("CN = FB-Helsinki-Centre-Leads,OU=Groups,DC=bank,DC=internal", "team_lead", helsinki),
        ("CN=FB-Admins,OU=Groups,DC=bank,DC=internal", "admin", helsinki),
    ]:
        response = client.post("/admin/directory-groups", data={
            "group_dn": dn, "role": role, "unit": unit})
        assert response.status_code == 302
    assert mappings() == [
        ("CN=FB-Helsinki-Centre, OU=Groups,DC=bank,DC=internal",
         "cn=fb-helsinki-centre,ou=groups,dc=bank,dc=internal", "member", "helsinki-centre"),
        ("CN = FB-Helsinki-Centre-Leads,OU=Groups,DC=bank,DC=internal",
         "cn=fb-helsinki-centre-leads,ou=groups,dc=bank,dc=internal", "team_lead",
         "helsinki-centre"),
        # An administrators' group gives no unit.
        ("CN=FB-Admins,OU=Groups,DC=bank,DC=internal", "cn=fb-admins,ou=groups,dc=bank,dc=internal",
         "admin", None),
    ]
    page = client.get("/admin/directory-groups").get_data(as_text=True)
    assert "CN=FB-Admins,OU=Groups,DC=bank,DC=internal" in page
    assert "Team lead of the unit" in page
    assert "/admin/directory-groups" in client.get("/admin/").get_data(as_text=True)
    added = [f for f in admin_changes() if f["change"] == "group_mapping_added"]
    assert added[0]["dn"] == "CN=FB-Helsinki-Centre, OU=Groups,DC=bank,DC=internal"
    assert added[0]["role"] == "member" and added[0]["unit"] == "helsinki-centre"
    audit_page = client.get("/admin/audit").get_data(as_text=True)
    assert "Mapped the directory group CN=FB-Admins,OU=Groups,DC=bank,DC=internal: Administrator." \
        in audit_page


def test_the_same_group_mapped_twice_is_refused_with_the_input_kept(client, admin, units):
    turku = units["turku"].id
    client.post("/admin/directory-groups", data={
        "group_dn": "CN=FB-Turku,OU=Groups,DC=bank", "role": "member", "unit": turku})
    response = client.post("/admin/directory-groups", data={
        "group_dn": "cn=fb-turku , ou=groups,dc=bank", "role": "member", "unit": turku})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "That group is already mapped so." in page
    assert 'value="cn=fb-turku , ou=groups,dc=bank"' in page
    assert len(mappings()) == 1


@pytest.mark.parametrize("posted, message", [
    ({"group_dn": "FB-Turku", "role": "member"}, "Write the group&#39;s DN"),
    ({"group_dn": "CN=FB-Turku", "role": "member", "unit": 0}, "Choose the unit"),
    ({"group_dn": "", "role": "member"}, "This field is required."),
    ({"group_dn": "CN=FB-Turku", "role": "owner"}, "Not a valid choice."),
])
def test_a_group_mapping_needs_a_dn_and_a_unit(client, admin, units, posted, message):
    response = client.post("/admin/directory-groups",
                           data={"unit": units["turku"].id} | posted)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert mappings() == []


def test_admin_removes_a_group_mapping(client, admin, units):
    client.post("/admin/directory-groups", data={
        "group_dn": "CN=FB-Vaasa,OU=Groups", "role": "team_lead", "unit": units["vaasa"].id})
    mapping_id = db.session.scalar(sa.select(GroupMapping.id))
    response = client.post(f"/admin/directory-groups/{mapping_id}/remove")
    assert response.status_code == 302
    assert mappings() == []
    assert admin_changes()[-1]["change"] == "group_mapping_removed"
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Removed the directory group CN=FB-Vaasa,OU=Groups: Team lead of the unit vaasa." in page


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/directory-groups"), ("post", "/admin/directory-groups"),
    ("post", "/admin/directory-groups/1/remove"),
])
def test_staff_who_are_not_admins_cannot_touch_the_group_mappings(
    client, login, make_user, units, method, path
):
    db.session.add(GroupMapping(group_dn="CN=FB-Turku", group_key="cn=fb-turku",
                                role="member", unit_id=units["turku"].id))
    db.session.commit()
    make_user("lead", lead_of=[units["turku"]])
    login("lead")
    response = getattr(client, method)(path, data={
        "group_dn": "CN=FB-Admins", "role": "admin"})
    assert response.status_code == 403
    assert [m[0] for m in mappings()] == ["CN=FB-Turku"]
