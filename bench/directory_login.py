"""Logins against a directory that answers promptly, timed: a local slapd (as the demo's,
scripts/demo_ldap.py) and the intranet in-process on a fresh SQLite demo.

    .venv/bin/python bench/directory_login.py [--logins 200]

Each login is the whole POST /login of a directory user (search, bind as the entry, groups
followed level by level, the user and memberships brought in line, the audit row, the session)
and the logout after it, then the same for a local account; prints p50 and p95 of each and
the load average.
"""

import argparse
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--logins", type=int, default=200)
    args = parser.parse_args()
    import flask_migrate
    from demo_ldap import entries, sam_account_name, save_mappings

    from feedback_intranet import create_app, demo
    from feedback_intranet.closing_days import banking_calendar
    from feedback_intranet.extensions import db
    from feedback_intranet.rules.banking_days import HELSINKI
    from tests import ldap_server

    folder = Path(tempfile.mkdtemp(prefix="bench-ldap-"))
    directory = ldap_server.Directory(folder / "ldap", entries(), port=6639).start()
    url = f"sqlite:///{folder / 'demo.sqlite'}"
    os.environ.update({"FLASK_CONFIG": "development", "DATABASE_URL": url})
    try:
        settings = {"CONFIG": "development", "SQLALCHEMY_DATABASE_URI": url,
                    "WTF_CSRF_ENABLED": False, "OUTBOX_WORKER_THREAD": False,
                    **directory.settings()}
        app = create_app(settings)
        with app.app_context():
            flask_migrate.upgrade(directory=str(ROOT / "migrations"))
            demo.seed_demo(datetime.now(UTC), banking_calendar(HELSINKI), cases=200)
            db.session.commit()
        save_mappings()
        client = app.test_client()
        # A local account's login beside it: its password hash (argon2id) is the cost the
        # directory's round trips replace.
        for what, username in (("directory", sam_account_name("Johan Nyström")),
                               ("local", "cs.agent")):
            times = []
            for _ in range(args.logins + 10):
                started = time.perf_counter()
                answer = client.post("/login", data={"username": username,
                                                     "password": demo.DEMO_PASSWORD})
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
                client.post("/logout")
            times = sorted(times[10:])
            p50, p95 = times[len(times) // 2], times[int(len(times) * 0.95) - 1]
            print(f"{args.logins} {what} logins, in-process: p50 {p50:.1f} ms, p95 {p95:.1f} ms;"
                  f" load average {os.getloadavg()[0]:.2f}")
    finally:
        directory.stop()


if __name__ == "__main__":
    main()
