"""Signing in with the bank's directory, against a real OpenLDAP (tests/ldap_server.py) that
carries Active Directory's user schema."""

import ssl

import ldap3
import pytest
import sqlalchemy as sa

from feedback_intranet.extensions import db
from feedback_intranet.models import (
    AuditEvent,
    AuditKind,
    DirectoryRole,
    GroupMapping,
    Membership,
    User,
)
from tests import ldap_server
from tests.conftest import PASSWORD


def test_the_test_directory_speaks_ldaps_with_active_directorys_user_schema(directory_server):
    connection = directory_server.admin_connection()
    # sAMAccountName compares without case, and the disabled bit is found by AD's bitwise rule.
    connection.search(ldap_server.USER_BASE, "(sAMAccountName=AINO)", attributes=["cn"])
    assert [e.cn.value for e in connection.entries] == ["Aino Virtanen"]
    connection.search(ldap_server.USER_BASE, "(userAccountControl:1.2.840.113556.1.4.803:=2)",
                      attributes=["cn"])
    assert [e.cn.value for e in connection.entries] == ["Olli Suljettu"]


def test_the_test_directory_refuses_a_client_that_does_not_trust_its_ca(directory_server):
    tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file="/etc/ssl/certs/ca-certificates.crt")
    server = ldap3.Server(directory_server.url, use_ssl=True, tls=tls, get_info=ldap3.NONE)
    with pytest.raises(ldap3.core.exceptions.LDAPSocketOpenError):
        ldap3.Connection(server, ldap_server.ROOT_DN, ldap_server.ROOT_PASSWORD, auto_bind=True)


# The client, on its own.

def _client(directory, **settings):
    from feedback_intranet.directory.client import Directory, Settings

    return Directory(Settings.from_config({**directory.settings(), "LDAP_ALLOWED_GROUP": "",
                                           "LDAP_TIMEOUT_SECONDS": 3, **settings}))


def test_the_directory_finds_a_person_by_username_and_password(directory_server):
    entry = _client(directory_server).authenticate(" Aino ", "password")
    assert (entry.full_name, entry.email, entry.language, entry.disabled) == (
        "Aino Virtanen", "aino.virtanen@bank.test", "fi", False)
    assert entry.dn == ldap_server.person_dn("Aino Virtanen")
    assert entry.group_keys == {"cn=fb-helsinki-centre,ou=groups,dc=bank,dc=test",
                                "cn=fb-staff,ou=groups,dc=bank,dc=test"}
    # The stable id is OpenLDAP's entryUUID here (objectGUID on AD), and finds the entry again.
    assert _client(directory_server).lookup(entry.directory_id) == entry


@pytest.mark.parametrize("username, password", [
    ("aino", "wrong"), ("aino", ""), ("nobody", "password"),
    # LDAP injection: escaped, these match no sAMAccountName.
    ("*)(uid=*", "password"), ("*", "password"), ("aino)(|(cn=*", "password"),
])
def test_the_directory_knows_nobody_by_a_wrong_password_or_a_username_made_to_inject(
        directory_server, username, password):
    assert _client(directory_server).authenticate(username, password) is None


def test_the_directory_is_reached_over_start_tls_too(directory_server):
    client = _client(directory_server, LDAP_URL=directory_server.start_tls_url,
                     LDAP_START_TLS=True)
    assert client.authenticate("aino", "password").full_name == "Aino Virtanen"


def test_a_disabled_account_is_found_disabled_by_the_bitwise_rule(directory_server):
    assert _client(directory_server).authenticate("olli", "password").disabled


def test_nested_groups_are_followed_by_the_recursive_lookup_through_a_cycle(directory_server):
    entry = _client(directory_server).authenticate("nina", "password")
    assert {key.split(",")[0] for key in entry.group_keys} == {
        "cn=fb-turku-tellers", "cn=fb-turku", "cn=fb-staff", "cn=fb-loop-a", "cn=fb-loop-b"}


def test_membership_of_the_allowed_group_counts_through_nesting(directory_server):
    client = _client(directory_server, LDAP_ALLOWED_GROUP="CN=FB-Staff, OU=Groups,DC=bank,DC=test")
    assert client.authenticate("nina", "password").allowed
    assert not client.authenticate("erik", "password").allowed


def test_the_in_chain_filter_asks_active_directory_for_nested_membership_escaped():
    from feedback_intranet.directory.groups import in_chain_filter

    assert in_chain_filter("CN=Virtanen\\, Aino (HKI),OU=People,DC=bank") == (
        "(member:1.2.840.113556.1.4.1941:=CN=Virtanen\\5c, Aino \\28HKI\\29,OU=People,DC=bank)")


@pytest.mark.parametrize("dn", ["CN=FB-Admins, OU=Groups,DC=Bank", " cn = fb-admins ,ou=groups, dc=bank"])
def test_a_group_is_known_by_its_dn_in_any_case_and_spacing(dn):
    from feedback_intranet.directory.groups import normalise

    assert normalise(dn) == "cn=fb-admins,ou=groups,dc=bank"


def test_a_directory_that_cannot_be_reached_says_so_with_one_exception(directory_server):
    from feedback_intranet.directory.client import DirectoryUnavailable

    closed = f"ldaps://127.0.0.1:{ldap_server.free_port()}"
    with pytest.raises(DirectoryUnavailable):
        _client(directory_server, LDAP_URL=closed).authenticate("aino", "password")
    with pytest.raises(DirectoryUnavailable):
        _client(directory_server, LDAP_BIND_PASSWORD="wrong").authenticate("aino", "password")


def test_production_refuses_a_directory_reached_without_tls():
    from config import ConfigurationError, ProductionConfig

    with pytest.raises(ConfigurationError, match="LDAP_START_TLS"):
        ProductionConfig.check_directory({"LDAP_URL": "ldap://dc.bank.internal",
                                          "LDAP_START_TLS": False, "LDAP_NESTED_GROUPS": "in_chain"})
    ProductionConfig.check_directory({"LDAP_URL": "ldap://dc.bank.internal", "LDAP_START_TLS": True,
                                      "LDAP_NESTED_GROUPS": "in_chain"})
    ProductionConfig.check_directory({"LDAP_URL": "ldaps://dc.bank.internal",
                                      "LDAP_START_TLS": False, "LDAP_NESTED_GROUPS": "recursive"})


# Signing in.

def _map(group, role, unit=None):
    from feedback_intranet.directory.groups import normalise

    dn = ldap_server.group_dn(group)
    db.session.add(GroupMapping(group_dn=dn, group_key=normalise(dn), role=role,
                                unit_id=unit.id if unit else None))


@pytest.fixture
def mapped(units):
    """The bank's mappings: Helsinki Centre's members and leads, Turku, Vaasa, the admins."""
    _map("FB-Helsinki-Centre", DirectoryRole.MEMBER, units["helsinki"])
    _map("FB-Helsinki-Centre-Leads", DirectoryRole.TEAM_LEAD, units["helsinki"])
    _map("FB-Turku", DirectoryRole.MEMBER, units["turku"])
    _map("FB-Vaasa", DirectoryRole.MEMBER, units["vaasa"])
    _map("FB-Admins", DirectoryRole.ADMIN)
    db.session.commit()
    return units


def _user(username):
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.username == username))


def _roles(user):
    return {(m.unit.code, m.is_team_lead, m.by_hand, m.from_directory) for m in user.memberships}


def _audit(kind):
    return [(e.username, e.facts) for e in db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id))]


def test_the_first_directory_login_creates_the_user_with_units_from_groups(
        client, login, directory, mapped):
    response = login("Aino", "password")
    assert response.status_code == 302
    user = _user("aino")
    assert (user.full_name, user.email, user.language.value, user.password_hash) == (
        "Aino Virtanen", "aino.virtanen@bank.test", "fi", None)
    assert user.directory_dn == ldap_server.person_dn("Aino Virtanen")
    assert len(user.directory_id) == 36  # entryUUID, never the username
    assert _roles(user) == {("helsinki-centre", False, False, True)}
    assert not user.is_admin
    assert client.get("/inbox/helsinki-centre").status_code == 200
    assert _audit(AuditKind.LOGIN) == [("aino", {"via": "directory"})]
    assert [facts["change"] for _, facts in _audit(AuditKind.DIRECTORY_CHANGE)] == [
        "created", "member"]


def test_a_lead_group_makes_a_team_lead_and_the_admin_group_an_administrator(
        client, login, directory, mapped):
    login("bertil", "password")
    client.post("/logout")
    login("carla", "password")
    bertil, carla = _user("bertil"), _user("carla")
    assert _roles(bertil) == {("helsinki-centre", True, False, True)}
    assert bertil.language.value == "sv"
    assert (carla.is_admin, carla.admin_from_directory, carla.admin_by_hand) == (True, True, False)
    # "en-GB" in the directory is English here.
    assert carla.language.value == "en"


def test_nested_groups_give_their_units_through_the_recursive_lookup(login, directory, mapped):
    login("nina", "password")
    assert _roles(_user("nina")) == {("turku", False, False, True)}


@pytest.mark.parametrize("username, password", [
    ("aino", "wrong password"), ("*)(uid=*", "password"), ("*", "password")])
def test_a_wrong_password_or_an_injected_username_gets_nobody_in(
        client, login, directory, mapped, username, password):
    response = login(username, password)
    assert b"Wrong username or password" in response.data
    assert client.get("/").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_an_empty_password_gets_nobody_in(client, login, directory, mapped):
    # The form asks for one; the directory client refuses one too (an unauthenticated bind).
    assert login("aino", "").status_code == 200
    assert client.get("/").status_code == 302
    assert _user("aino") is None


def test_a_disabled_directory_account_is_refused_and_not_created(client, login, directory, mapped):
    response = login("olli", "password")
    assert b"may not sign in to the intranet" in response.data
    assert _user("olli") is None
    assert _audit(AuditKind.LOGIN_FAILED) == [
        ("olli", {"reason": "disabled", "via": "directory"})]


def test_someone_outside_the_allowed_group_is_refused(app, client, login, directory, mapped):
    app.config["LDAP_ALLOWED_GROUP"] = ldap_server.group_dn("FB-Staff")
    assert b"may not sign in" in login("erik", "password").data
    assert login("nina", "password").status_code == 302


def test_a_local_account_with_the_same_username_stays_separate(
        client, login, directory, mapped, make_user):
    local = make_user("lasse", units=[mapped["vaasa"]])
    response = login("lasse", "password")
    assert b"An administrator must link the two" in response.data
    assert client.get("/").status_code == 302
    assert _user("lasse").id == local.id and _user("lasse").directory_id is None
    assert _roles(_user("lasse")) == {("vaasa", False, True, False)}
    assert _audit(AuditKind.LOGIN_FAILED) == [
        ("lasse", {"reason": "username_held", "via": "directory"})]
    # The local account's own password still works for it.
    client.post("/logout")
    assert login("lasse", PASSWORD).status_code == 302
    assert _audit(AuditKind.LOGIN) == [("lasse", {"via": "local"})]


def test_only_local_admins_may_use_a_local_password_when_told_so(
        app, client, login, directory, make_user):
    app.config["LDAP_ONLY_LOCAL_ADMINS"] = True
    make_user("clerk")
    make_user("breakglass", is_admin=True)
    assert b"Wrong username or password" in login("clerk", PASSWORD).data
    assert login("breakglass", PASSWORD).status_code == 302


def test_a_directory_that_is_down_is_said_so_and_local_admins_still_get_in(
        app, client, login, directory, mapped, make_user):
    make_user("breakglass", is_admin=True)
    directory.stop()
    response = login("aino", "password")
    assert response.status_code == 200
    assert b"directory cannot be reached just now" in response.data
    assert _audit(AuditKind.LOGIN_FAILED) == [
        ("aino", {"reason": "directory_down", "via": "directory"})]
    assert login("breakglass", PASSWORD).status_code == 302


def test_a_directory_on_a_closed_port_is_said_so(app, login, directory):
    app.config["LDAP_URL"] = f"ldaps://127.0.0.1:{ldap_server.free_port()}"
    assert b"directory cannot be reached just now" in login("aino", "password").data


def _move(admin, person, old_group, new_group):
    """Move `person` between groups in the directory (Vaasa's only member leaves a placeholder:
    a groupOfNames must name someone)."""
    placeholder = f"cn=nobody,{ldap_server.SUFFIX}"
    assert admin.modify(new_group, {"member": [(ldap3.MODIFY_ADD, [person])]})
    admin.search(old_group, "(objectClass=*)", ldap3.BASE, attributes=["member"])
    if admin.entries[0].member.values == [person]:
        assert admin.modify(old_group, {"member": [(ldap3.MODIFY_ADD, [placeholder])]})
    assert admin.modify(old_group, {"member": [(ldap3.MODIFY_DELETE, [person])]})


def test_later_logins_follow_the_directorys_details_and_groups(
        client, login, directory, mapped):
    login("mikko", "password")
    client.post("/logout")
    admin = directory.admin_connection()
    mikko, vaasa, turku = (ldap_server.person_dn("Mikko Mover"),
                           ldap_server.group_dn("FB-Vaasa"), ldap_server.group_dn("FB-Turku"))
    _move(admin, mikko, vaasa, turku)
    assert admin.modify(mikko, {"displayName": [(ldap3.MODIFY_REPLACE, ["Mikko Moved"])]})
    try:
        assert login("mikko", "password").status_code == 302
        user = _user("mikko")
        assert _roles(user) == {("turku", False, False, True)}
        assert user.full_name == "Mikko Moved"
    finally:
        _move(admin, mikko, turku, vaasa)
        admin.modify(mikko, {"displayName": [(ldap3.MODIFY_REPLACE, ["Mikko Mover"])]})


def test_a_person_renamed_in_the_directory_keeps_their_account_under_the_new_name(
        client, login, directory, mapped, make_user):
    login("mikko", "password")
    client.post("/logout")
    first = _user("mikko")
    admin = directory.admin_connection()
    mikko = ldap_server.person_dn("Mikko Mover")
    assert admin.modify(mikko, {"sAMAccountName": [(ldap3.MODIFY_REPLACE, ["mikko.mover"])]})
    try:
        assert login("mikko.mover", "password").status_code == 302
        client.post("/logout")
        renamed = _user("mikko.mover")
        assert renamed.id == first.id and _user("mikko") is None
        assert _audit(AuditKind.DIRECTORY_CHANGE)[-1][1] == {"change": "renamed",
                                                             "previous": "mikko"}
        # The old name is no longer the directory's: nobody gets in with it.
        assert b"Wrong username or password" in login("mikko", "password").data
        # A local account holding the new name is never renamed over: the entry's account
        # keeps its name and still signs in.
        make_user("mikko.m")
        assert admin.modify(mikko, {"sAMAccountName": [(ldap3.MODIFY_REPLACE, ["mikko.m"])]})
        assert login("mikko.m", "password").status_code == 302
        assert _user("mikko.mover").id == first.id
    finally:
        admin.modify(mikko, {"sAMAccountName": [(ldap3.MODIFY_REPLACE, ["mikko"])]})


def test_what_an_admin_set_by_hand_stays_when_the_directory_takes_its_grant_away(
        client, login, directory, mapped):
    login("aino", "password")
    client.post("/logout")
    user = _user("aino")
    user.memberships[0].by_hand = True
    user.admin_by_hand = user.is_admin = True
    db.session.commit()
    db.session.execute(sa.delete(GroupMapping))
    db.session.commit()
    login("aino", "password")
    user = _user("aino")
    assert _roles(user) == {("helsinki-centre", False, True, False)}
    assert user.is_admin


def test_lockout_counts_wrong_directory_passwords(app, client, login, directory, mapped):
    app.config.update(LOCKOUT_FAILURES=3)
    login("lotta", "password")
    client.post("/logout")
    for _ in range(3):
        login("lotta", "wrong")
    assert _user("lotta").locked_until is not None
    # Locked: even the right directory password does not get in, and the directory is not
    # asked (its own lockout would count the guesses).
    assert b"Wrong username or password" in login("lotta", "password").data
    assert [f.get("reason") for _, f in _audit(AuditKind.LOGIN_FAILED)] == [
        None, None, None, "locked"]


def test_an_admins_deactivation_holds_whatever_the_directory_says(
        client, login, directory, mapped):
    login("aino", "password")
    client.post("/logout")
    user = _user("aino")
    user.active, user.deactivated_by_admin = False, True
    db.session.commit()
    assert b"Wrong username or password" in login("aino", "password").data
    assert not _user("aino").active


def test_a_user_disabled_in_the_directory_is_deactivated_at_login_and_their_sessions_end(
        app, client, login, directory, mapped):
    theirs = app.test_client()
    theirs.post("/login", data={"username": "sami", "password": "password"})
    assert theirs.get("/inbox/helsinki-centre").status_code == 200
    admin = directory.admin_connection()
    sami = ldap_server.person_dn("Sami Sessions")
    admin.modify(sami, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [ldap_server.DISABLED])]})
    try:
        assert b"may not sign in" in login("sami", "password").data
        assert not _user("sami").active
        assert theirs.get("/inbox/helsinki-centre").headers["Location"].startswith("/login")
    finally:
        admin.modify(sami, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [ldap_server.ENABLED])]})
    # Enabled again in the directory: the next login reactivates them.
    assert login("sami", "password").status_code == 302
    assert _user("sami").active


# `flask --app wsgi directory sync`.

def _gone_user(mapped):
    """A directory user whose entry the directory no longer has."""
    user = User(username="left.bank", full_name="Left Bank", email="left@bank.test",
                directory_id="00000000-0000-4000-8000-000000000000",
                memberships=[Membership(unit_id=mapped["turku"].id, by_hand=False,
                                        from_directory=True)])
    db.session.add(user)
    db.session.commit()
    return user


def test_sync_moves_a_person_to_their_new_unit_without_them_logging_in(
        client, login, runner, directory, mapped):
    login("mikko", "password")
    client.post("/logout")
    admin = directory.admin_connection()
    mikko, vaasa, turku = (ldap_server.person_dn("Mikko Mover"),
                           ldap_server.group_dn("FB-Vaasa"), ldap_server.group_dn("FB-Turku"))
    _move(admin, mikko, vaasa, turku)
    try:
        result = runner.invoke(args=["directory", "sync"])
    finally:
        _move(admin, mikko, turku, vaasa)
    assert result.exit_code == 0, result.output
    assert "mikko: now a member of Turku; no longer a member of Vaasa." in result.output
    assert "Checked 1 directory user: 1 changed, 0 deactivated, 0 reactivated." in result.output
    assert _roles(_user("mikko")) == {("turku", False, False, True)}
    assert _audit(AuditKind.DIRECTORY_SYNC) == [
        ("(command line)", {"checked": 1, "changed": 1, "deactivated": 0, "reactivated": 0})]


def test_sync_deactivates_the_disabled_and_the_gone_and_ends_their_sessions(
        app, login, runner, directory, mapped):
    theirs = app.test_client()
    theirs.post("/login", data={"username": "sami", "password": "password"})
    gone = _gone_user(mapped)
    admin = directory.admin_connection()
    sami = ldap_server.person_dn("Sami Sessions")
    admin.modify(sami, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [ldap_server.DISABLED])]})
    try:
        result = runner.invoke(args=["directory", "sync"])
    finally:
        admin.modify(sami, {"userAccountControl": [(ldap3.MODIFY_REPLACE, [ldap_server.ENABLED])]})
    assert result.exit_code == 0, result.output
    assert ("left.bank: no longer a member of Turku; deactivated (no longer in the directory), "
            "sessions ended.") in result.output
    assert "sami: deactivated (disabled in the directory), sessions ended." in result.output
    assert not _user("sami").active and not _user("left.bank").active
    assert _user("left.bank").memberships == [] and gone.id
    assert theirs.get("/inbox/helsinki-centre").headers["Location"].startswith("/login")
    # Enabled again: the next sync reactivates Sami.
    result = runner.invoke(args=["directory", "sync"])
    assert "sami: reactivated (the directory enables them again)." in result.output
    assert _user("sami").active


def test_sync_leaves_an_admins_deactivation_alone(login, client, runner, directory, mapped):
    login("aino", "password")
    client.post("/logout")
    user = _user("aino")
    user.active, user.deactivated_by_admin = False, True
    db.session.commit()
    result = runner.invoke(args=["directory", "sync"])
    assert result.exit_code == 0, result.output
    assert not _user("aino").active
    assert "Checked 1 directory user: 0 changed" in result.output


def test_sync_changes_nothing_when_the_directory_is_down(data, runner, directory, mapped):
    _gone_user(mapped)
    data.config["LDAP_URL"] = f"ldaps://127.0.0.1:{ldap_server.free_port()}"
    result = runner.invoke(args=["directory", "sync"])
    assert result.exit_code == 1
    assert "The directory cannot be reached, nothing changed" in result.output
    assert _user("left.bank").active
    assert _audit(AuditKind.DIRECTORY_SYNC) == []


def test_sync_without_a_directory_says_what_to_set(runner):
    result = runner.invoke(args=["directory", "sync"])
    assert result.exit_code == 1 and "LDAP_URL is not set" in result.output


def test_the_audit_log_says_whether_a_login_used_the_directory(client, login, directory, mapped):
    from flask_babel import force_locale

    from feedback_intranet.admin.audit_texts import describe

    login("aino", "password")
    directory.stop()
    client.post("/logout")
    login("aino", "password")
    events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.kind.in_(
        [AuditKind.LOGIN, AuditKind.LOGIN_FAILED, AuditKind.DIRECTORY_CHANGE]))
        .order_by(AuditEvent.id)).all()
    with force_locale("en"):
        assert [describe(event) for event in events] == [
            "Created at the first sign-in with the directory.",
            "The directory made them a member of unit helsinki-centre.",
            "Checked against the directory.",
            "The directory could not be reached."]


def test_an_active_directory_objectguid_is_kept_as_the_guid_ad_shows_and_searched_by_its_bytes():
    import uuid

    from feedback_intranet.directory.client import Directory, Settings, _stable_id

    guid = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    assert _stable_id("objectGUID", guid.bytes_le) == str(guid)
    settings = Settings.from_config({
        "LDAP_URL": "ldaps://dc.bank.internal", "LDAP_BIND_DN": "", "LDAP_BIND_PASSWORD": "",
        "LDAP_USER_BASE": "", "LDAP_USER_FILTER": "", "LDAP_GROUP_BASE": "", "LDAP_CA_FILE": "",
        "LDAP_START_TLS": False, "LDAP_ID_ATTRIBUTE": "objectGUID",
        "LDAP_NESTED_GROUPS": "in_chain", "LDAP_ALLOWED_GROUP": "", "LDAP_TIMEOUT_SECONDS": 5})
    assert Directory(settings)._id_filter(str(guid)) == (
        "(objectGUID=\\e0\\04\\25\\3f\\89\\4f\\d3\\11\\9a\\0c\\03\\05\\e8\\2c\\33\\01)")
