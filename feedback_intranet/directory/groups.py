"""Directory groups: the key a group's DN is compared by, and the filters that find groups."""

import re

from ldap3.utils.conv import escape_filter_chars

# Active Directory's LDAP_MATCHING_RULE_IN_CHAIN: membership through any depth of nesting.
IN_CHAIN = "1.2.840.113556.1.4.1941"


def normalise(dn):
    """The key a group is compared by: lower case, no spaces around its commas and equals signs
    ("CN=FB Admins, OU=Groups" and "cn=fb admins,ou=groups" are one group)."""
    return re.sub(r"\s*([,=])\s*", r"\1", dn.strip()).lower()


def in_chain_filter(member_dn):
    """The groups `member_dn` is in, directly or through nested groups, on Active Directory."""
    return f"(member:{IN_CHAIN}:={escape_filter_chars(member_dn)})"


def members_filter(member_dns):
    """The groups that directly hold any of `member_dns`."""
    terms = "".join(f"(member={escape_filter_chars(dn)})" for dn in member_dns)
    return terms if len(member_dns) == 1 else f"(|{terms})"
