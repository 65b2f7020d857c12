"""Asking the bank's directory over LDAP (ldap3): find a user's entry with the service account,
check their password by binding as the entry, read their details and groups.

Every failure to reach or use the directory raises DirectoryUnavailable, whatever ldap3 said.
"""

import math
import ssl
import uuid
from dataclasses import dataclass

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

from .groups import in_chain_filter, members_filter, normalise

# Active Directory's LDAP_MATCHING_RULE_BIT_AND on userAccountControl's ACCOUNTDISABLE bit
# (OpenLDAP knows the rule too).
DISABLED_FILTER = "(userAccountControl:1.2.840.113556.1.4.803:=2)"
# Deeper nesting than this is a loop a cycle check missed or a mistake in the directory.
MAX_NESTING = 20
LANGUAGES = ("fi", "sv", "en")


class DirectoryUnavailable(Exception):
    """The directory cannot be reached, refused the service account or failed a search."""


@dataclass(frozen=True)
class Entry:
    """A person as the directory has them."""

    directory_id: str
    dn: str
    full_name: str
    email: str
    # fi, sv or en when the directory has one of them.
    language: str | None
    disabled: bool
    # The keys (groups.normalise) of every group they are in, nested ones included.
    group_keys: frozenset
    # In LDAP_ALLOWED_GROUP, or no such group is set.
    allowed: bool


@dataclass(frozen=True)
class Settings:
    url: str
    bind_dn: str
    bind_password: str
    user_base: str
    user_filter: str
    group_base: str
    ca_file: str
    start_tls: bool
    id_attribute: str
    nested_groups: str
    allowed_group: str
    timeout: float

    @classmethod
    def from_config(cls, config):
        return cls(
            url=config["LDAP_URL"], bind_dn=config["LDAP_BIND_DN"],
            bind_password=config["LDAP_BIND_PASSWORD"], user_base=config["LDAP_USER_BASE"],
            user_filter=config["LDAP_USER_FILTER"], group_base=config["LDAP_GROUP_BASE"],
            ca_file=config["LDAP_CA_FILE"], start_tls=bool(config["LDAP_START_TLS"]),
            id_attribute=config["LDAP_ID_ATTRIBUTE"], nested_groups=config["LDAP_NESTED_GROUPS"],
            allowed_group=config["LDAP_ALLOWED_GROUP"],
            timeout=float(config["LDAP_TIMEOUT_SECONDS"]))


def configured(config):
    return bool(config.get("LDAP_URL"))


class Directory:
    def __init__(self, settings):
        self.settings = settings
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file or None)
        self.server = ldap3.Server(settings.url, tls=tls, get_info=ldap3.NONE,
                                   connect_timeout=settings.timeout)

    def authenticate(self, username, password):
        """The entry of the user with this username and password, or None (no such user, more
        than one, or a wrong password). An empty password is refused before any bind: LDAP
        takes a bind without one as an anonymous bind, and that succeeds."""
        if not password or not username.strip():
            return None
        with self._service() as connection:
            found = self._only_one(connection, username)
            if found is None or not self._password_is_right(found["dn"], password):
                return None
            return self._entry(connection, found)

    def find(self, username):
        """The entry of the user with this username (no password asked), or None when the
        directory has nobody, or more than one, by it: what an admin links an account to."""
        if not username.strip():
            return None
        with self._service() as connection:
            found = self._only_one(connection, username)
            return None if found is None else self._entry(connection, found)

    def lookup(self, directory_id):
        """The entry with this stable id, or None when the directory no longer has it."""
        with self._service() as connection:
            found = self._search(connection, self.settings.user_base, self._id_filter(directory_id))
            return self._entry(connection, found[0]) if len(found) == 1 else None

    def _only_one(self, connection, username):
        found = self._search(connection, self.settings.user_base, self._user_filter(username))
        return found[0] if len(found) == 1 else None

    def _user_filter(self, username):
        return self.settings.user_filter.replace(
            "{username}", escape_filter_chars(username.strip()))

    def _id_filter(self, directory_id):
        attribute = self.settings.id_attribute
        if attribute.lower() == "objectguid":
            # AD compares the GUID's bytes, in the order it stores them.
            value = "".join(f"\\{byte:02x}" for byte in uuid.UUID(directory_id).bytes_le)
        else:
            value = escape_filter_chars(directory_id)
        return f"({attribute}={value})"

    def _connection(self, dn, password):
        return ldap3.Connection(self.server, user=dn, password=password,
                                # ldap3 packs it into a socket option: whole seconds.
                                receive_timeout=max(1, math.ceil(self.settings.timeout)),
                                auto_bind=ldap3.AUTO_BIND_NONE, read_only=True)

    def _open(self, connection):
        connection.open()
        if self.settings.start_tls:
            connection.start_tls()

    def _service(self):
        connection = self._connection(self.settings.bind_dn, self.settings.bind_password)
        try:
            self._open(connection)
            bound = connection.bind()
        except LDAPException as error:
            connection.unbind()
            raise DirectoryUnavailable(f"cannot reach {self.settings.url}: {error}") from error
        if not bound:
            connection.unbind()
            raise DirectoryUnavailable(
                f"{self.settings.url} refused the service account: {connection.result['description']}")
        return _Closing(connection)

    def _password_is_right(self, dn, password):
        connection = self._connection(dn, password)
        try:
            self._open(connection)
            return connection.bind()
        except LDAPException as error:
            raise DirectoryUnavailable(f"cannot reach {self.settings.url}: {error}") from error
        finally:
            connection.unbind()

    def _search(self, connection, base, search_filter, attributes=None, scope=ldap3.SUBTREE):
        """[{"dn": ..., "attributes": {name: [raw values]}}] of what the search finds."""
        if attributes is None:
            attributes = [self.settings.id_attribute, "displayName", "cn", "mail",
                          "preferredLanguage"]
        try:
            connection.search(base, search_filter, search_scope=scope, attributes=attributes)
        except LDAPException as error:
            raise DirectoryUnavailable(f"search in {base} failed: {error}") from error
        if connection.result["result"] not in (0, 32):  # 32: the base does not exist
            raise DirectoryUnavailable(
                f"search in {base} failed: {connection.result['description']}")
        return [{"dn": item["dn"], "attributes": item.get("raw_attributes", {})}
                for item in connection.response if item.get("type") == "searchResEntry"]

    def _entry(self, connection, found):
        dn, attributes = found["dn"], found["attributes"]
        raw_id = _first(attributes, self.settings.id_attribute, text=False)
        if not raw_id:
            raise DirectoryUnavailable(
                f"{dn} has no {self.settings.id_attribute}: check LDAP_ID_ATTRIBUTE")
        language = (_first(attributes, "preferredLanguage") or "")[:2].lower()
        group_keys = self._group_keys(connection, dn)
        allowed = (not self.settings.allowed_group
                   or normalise(self.settings.allowed_group) in group_keys)
        return Entry(
            directory_id=_stable_id(self.settings.id_attribute, raw_id), dn=dn,
            full_name=(_first(attributes, "displayName") or _first(attributes, "cn") or dn)[:120],
            email=(_first(attributes, "mail") or "")[:254],
            language=language if language in LANGUAGES else None,
            disabled=bool(self._search(connection, dn, DISABLED_FILTER, attributes=[],
                                       scope=ldap3.BASE)),
            group_keys=frozenset(group_keys), allowed=allowed)

    def _group_keys(self, connection, dn):
        base = self.settings.group_base or self.settings.user_base
        if self.settings.nested_groups == "in_chain":
            return {normalise(found["dn"]) for found in
                    self._search(connection, base, in_chain_filter(dn), attributes=[])}
        # Level by level: the groups holding the user, then the groups holding those, ...;
        # a group seen before is not asked about again, so a cycle ends the walk.
        keys, level = set(), [dn]
        for _depth in range(MAX_NESTING):
            found = self._search(connection, base, members_filter(level), attributes=[])
            level = [item["dn"] for item in found if normalise(item["dn"]) not in keys]
            keys.update(normalise(group_dn) for group_dn in level)
            if not level:
                break
        return keys


class _Closing:
    """The service connection, unbound when the `with` block ends."""

    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return self.connection

    def __exit__(self, *_exc):
        self.connection.unbind()


def _first(attributes, name, *, text=True):
    for key, values in attributes.items():
        if key.lower() == name.lower() and values:
            value = values[0]
            return value.decode("utf-8", "replace") if text else value
    return None


def _stable_id(attribute, raw):
    """objectGUID's 16 bytes as the GUID AD shows; other ids (entryUUID) as their text."""
    if attribute.lower() == "objectguid" and len(raw) == 16:
        return str(uuid.UUID(bytes_le=raw))
    return raw.decode("ascii", "replace").lower()
