"""Signing in with the bank's directory, against a real OpenLDAP (tests/ldap_server.py) that
carries Active Directory's user schema."""

import ssl

import ldap3
import pytest

from tests import ldap_server


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
