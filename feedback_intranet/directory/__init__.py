"""Signing in with the bank's directory (Active Directory or another LDAP server).

client: asks the directory (search, bind, groups); memberships: what the directory's groups
grant a user here; operations: login and `directory sync` apply what the directory says.
"""
