"""A local directory for the demo: OpenLDAP's slapd with the demo's people, in AD's shape.

    .venv/bin/python scripts/demo_ldap.py [--port 6636] [--map]

Run it from the checkout, beside a demo made with `flask --app wsgi seed-demo`; it prints the
settings to export before starting the intranet, and runs until Ctrl-C. Each person of the
demo (demo.STAFF) is in the directory as firstname.lastname (AD's usual sAMAccountName), with
the demo password; the role-named demo accounts (cs.agent, admin, ...) stay local accounts.
Groups: FB-<unit code> (members), FB-<unit code>-Leads (team leads), FB-Admins, and FB-Staff
holding them all; ville.suljettu is disabled. `--map` also saves the group mappings into the
demo database (as an admin would on the mappings page). The directory is kept in
instance/demo-ldap, so its people keep their ids between runs; delete the folder to start over.
"""

import argparse
import signal
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from feedback_intranet.demo import DEMO_PASSWORD, STAFF, UNITS  # noqa: E402
from tests import ldap_server  # noqa: E402


def sam_account_name(full_name):
    """"Johan Nyström" → johan.nystrom."""
    ascii_name = unicodedata.normalize("NFKD", full_name).encode("ascii", "ignore").decode()
    return ascii_name.lower().replace(" ", ".")


def entries():
    people, members, leads, admins = [], {}, {}, []
    for _username, full_name, units, is_admin in STAFF:
        people.append(ldap_server.person(
            sam_account_name(full_name), full_name, password=DEMO_PASSWORD,
            email=f"{sam_account_name(full_name)}@bank.example"))
        for code, lead in units.items():
            (leads if lead else members).setdefault(code, []).append(
                ldap_server.person_dn(full_name))
        if is_admin:
            admins.append(ldap_server.person_dn(full_name))
    people.append(ldap_server.person("ville.suljettu", "Ville Suljettu", disabled=True,
                                     password=DEMO_PASSWORD, email="ville.suljettu@bank.example"))
    groups = [ldap_server.group("FB-Admins", admins)]
    for code, *_rest in UNITS:
        groups.append(ldap_server.group(f"FB-{code}", members.get(code, [])))
        groups.append(ldap_server.group(f"FB-{code}-Leads", leads.get(code, [])))
    groups.append(ldap_server.group("FB-Staff", [
        ldap_server.group_dn(name) for code, *_rest in UNITS
        for name in (f"FB-{code}", f"FB-{code}-Leads")] + [ldap_server.group_dn("FB-Admins")]))
    return people + groups


def save_mappings():
    """The demo's mappings, as an admin would save them (kept if there already)."""
    import os

    import sqlalchemy as sa

    from config import checkout_config
    from feedback_intranet import create_app
    from feedback_intranet.directory.groups import normalise
    from feedback_intranet.extensions import db
    from feedback_intranet.models import DirectoryRole, GroupMapping, Unit

    # The checkout's configuration, as the flask command reads it (the quick start's demo).
    name = os.environ.get("FLASK_CONFIG") or checkout_config()
    with create_app({"CONFIG": name} if name else None).app_context():
        units = dict(db.session.execute(sa.select(Unit.code, Unit.id)).all())
        wanted = [(ldap_server.group_dn("FB-Admins"), DirectoryRole.ADMIN, None)]
        for code, unit_id in units.items():
            wanted.append((ldap_server.group_dn(f"FB-{code}"), DirectoryRole.MEMBER, unit_id))
            wanted.append((ldap_server.group_dn(f"FB-{code}-Leads"), DirectoryRole.TEAM_LEAD,
                           unit_id))
        for dn, role, unit_id in wanted:
            key = normalise(dn)
            if db.session.scalar(sa.select(GroupMapping).where(
                    GroupMapping.group_key == key, GroupMapping.role == role,
                    GroupMapping.unit_id == unit_id)) is None:
                db.session.add(GroupMapping(group_dn=dn, group_key=key, role=role,
                                            unit_id=unit_id))
        db.session.commit()
        print(f"Group mappings saved for {len(units)} units and the admins.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=6636)
    parser.add_argument("--folder", default=str(ROOT / "instance" / "demo-ldap"))
    parser.add_argument("--map", action="store_true",
                        help="save the group mappings into the demo database (DATABASE_URL)")
    args = parser.parse_args()
    if not ldap_server.available():
        sys.exit("OpenLDAP's slapd is not installed: apt-get install slapd ldap-utils")
    directory = ldap_server.Directory(args.folder, entries(), port=args.port).start()
    if args.map:
        save_mappings()
    print("The demo directory runs. Export these before starting the intranet:\n")
    for name, value in directory.settings().items():
        shown = str(value).lower() if isinstance(value, bool) else value
        print(f"export {name}='{shown}'")
    print(f"export LDAP_ALLOWED_GROUP='{ldap_server.group_dn('FB-Staff')}'")
    print(f"\nDirectory logins (password {DEMO_PASSWORD!r}): "
          + ", ".join(sam_account_name(full_name) for _u, full_name, _m, _a in STAFF)
          + "; ville.suljettu is disabled. Ctrl-C stops the directory.")
    # A service manager's TERM stops the directory as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        directory.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        directory.stop()


if __name__ == "__main__":
    main()
