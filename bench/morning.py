"""One banking morning's reminders on a bench database, timed: called by `bench/run.py --reminders`.

    python bench/morning.py DATABASE_URL

Runs `reminders send` as cron would, with the clock at 7.30 Helsinki time on the first banking day
from the demo's today, then again the same morning (which must send nothing); prints one JSON line
with the wall time, SQL statements, summaries sent and cases escalated of each run.
"""

import json
import sys
import time
from datetime import datetime, timedelta

import sqlalchemy as sa


def main(url):
    from feedback_intranet import create_app
    from feedback_intranet.closing_days import banking_calendar
    from feedback_intranet.extensions import db
    from feedback_intranet.models import OutboxKind, OutboxMessage
    from feedback_intranet.reminders.operations import send_morning
    from feedback_intranet.rules.banking_days import HELSINKI

    app = create_app({"CONFIG": "development", "SQLALCHEMY_DATABASE_URI": url,
                      "OUTBOX_WORKER_THREAD": False})
    with app.app_context():
        calendar = banking_calendar(HELSINKI)
        day = datetime.now(HELSINKI).date()
        while not calendar.is_banking_day(day):
            day += timedelta(days=1)
        morning = datetime(day.year, day.month, day.day, 7, 30, tzinfo=HELSINKI)
        app.config["CLOCK"] = lambda: morning
        statements = []
        sa.event.listen(db.engine, "before_cursor_execute",
                        lambda *args: statements.append(1))
        runs = []
        for _ in range(2):
            statements.clear()
            started = time.perf_counter()
            run = send_morning(morning, calendar)
            runs.append({"seconds": round(time.perf_counter() - started, 3),
                         "statements": len(statements), "sent": run.sent,
                         "nothing_to_tell": run.nothing_to_tell,
                         "already_sent": run.already_sent, "escalated": run.escalated})
        biggest = db.session.scalar(
            sa.select(sa.func.max(sa.func.length(OutboxMessage.body_html)))
            .where(OutboxMessage.kind == OutboxKind.MORNING_DIGEST))
    print(json.dumps({"morning": morning.isoformat(), "runs": runs, "largest_html_bytes": biggest}))


if __name__ == "__main__":
    main(sys.argv[1])
