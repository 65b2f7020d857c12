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
