"""A local feedback mailbox for the demo: Debian's Dovecot with a few customers' mails in it.

    .venv/bin/python scripts/demo_mailbox.py [--no-samples]

Run it from the checkout, beside a demo made with `flask --app wsgi seed-demo`; it prints the
settings to export before `flask --app wsgi inbound fetch` (or before starting the intranet),
and runs until Ctrl-C. Unless told not to, it puts in: a customer's reply to the demo's latest
email answer (naming it in In-Reply-To), feedback from someone unknown, an out-of-office reply,
a delivery report that another answer failed, and a mail from the intranet's own address
(quarantined). The mailbox lives in a temporary folder and goes with the script.
"""

import argparse
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import imap_server  # noqa: E402
from tests.sample_mail import BANK_MTA, delivery_report, mail  # noqa: E402

REPLIES_TO = "feedback-replies@bank.example"


def demo_answers():
    """The demo's two latest emails to customers carrying an answer."""
    import os

    import sqlalchemy as sa

    from config import checkout_config
    from feedback_intranet import create_app
    from feedback_intranet.extensions import db
    from feedback_intranet.models import OutboxKind, OutboxMessage

    # The checkout's configuration, as the flask command reads it (the quick start's demo).
    name = os.environ.get("FLASK_CONFIG") or checkout_config()
    with create_app({"CONFIG": name} if name else None).app_context():
        return db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.ANSWER,
                                           OutboxMessage.recipient != "")
            .order_by(OutboxMessage.id.desc()).limit(2)).all()


def samples():
    answers = demo_answers()
    found = []
    if answers:
        answer = answers[0]
        found.append(mail(sender=answer.recipient, subject=f"Re: {answer.subject}",
                          in_reply_to=answer.message_id, dmarc="pass",
                          body="Kiitos vastauksesta, mutta kuukausimaksu näkyy yhä tiliotteellani. "
                               "Korttini numero on 4111 1111 1111 1111.\n\n"
                               f"{answer.recipient} kirjoitti:\n> {answer.subject}"))
    if len(answers) > 1:
        found.append(delivery_report(answers[1]))
    found.append(mail(sender="Pekka Puupää <pekka.puupaa@example.net>",
                      subject="Konttorin aukioloajat",
                      body="Miksi Kampin konttori on kiinni lauantaisin?"))
    found.append(mail(sender="Maija Lomalla <maija@example.net>",
                      subject="Automaattinen vastaus: Palautteenne",
                      headers=[("Auto-Submitted", "auto-replied")],
                      body="Olen lomalla 7.12. asti."))
    found.append(mail(sender="feedback@bank.example", subject="A loop?", body="Hello"))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-samples", action="store_true", help="Start with an empty mailbox.")
    args = parser.parse_args()
    if not imap_server.available():
        sys.exit("Dovecot is not installed: apt-get install dovecot-imapd")
    server = imap_server.MailServer()
    server.start()
    if not args.no_samples:
        for raw in samples():
            server.deliver(raw)
    settings = {**server.settings(), "INBOUND_ADDRESS": REPLIES_TO, "INBOUND_AUTHSERV_ID": BANK_MTA}
    print("The demo mailbox runs. Export these before `flask --app wsgi inbound fetch`:\n")
    for name, value in settings.items():
        value = "true" if value is True else "false" if value is False else value
        print(f"export {name}='{value}'")
    print(f"\n{len(server.uids())} mails wait in INBOX. Ctrl-C stops the mailbox.")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.remove()


if __name__ == "__main__":
    main()
