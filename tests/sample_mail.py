"""Mail as customers' mail programs and mail servers write it, for the tests and the demo."""

import secrets
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime

# The bank's own mail server, as it names itself in Authentication-Results.
BANK_MTA = "mx.bank.example"
CUSTOMER = "aino@example.fi"


def mail(*, sender=f"Aino Asiakas <{CUSTOMER}>", subject="Re: Palautteenne", body="Kiitos!",
         in_reply_to=None, dmarc=None, headers=(), html=None, attachments=()):
    """A mail as the bank's mail server would file it: its own Authentication-Results on top
    when `dmarc` says what it found."""
    message = EmailMessage()
    if dmarc is not None:
        domain = sender.rsplit("@", 1)[-1].rstrip(">")
        message["Authentication-Results"] = f"{BANK_MTA}; dmarc={dmarc} header.from={domain}"
    message["From"] = sender
    message["To"] = "replies@bank.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<{secrets.token_hex(8)}@example.fi>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in headers:
        message[name] = value
    if html is not None:
        message.set_content(html, subtype="html")
    else:
        message.set_content(body)
    for filename in attachments:
        message.add_attachment(b"%PDF-1.4 statement", maintype="application", subtype="pdf",
                               filename=filename)
    return message.as_bytes()


def delivery_report(original, action="failed", status="5.1.1"):
    """A Postfix-style delivery status notification (RFC 3464) about `original`."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "MAILER-DAEMON@mx.bank.example (Mail Delivery System)"
    report["To"] = "replies@bank.example"
    report["Return-Path"] = "<>"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText("I'm sorry to have to inform you that your message could not be "
                           "delivered to one or more recipients."))
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mx.bank.example"
    per_recipient["Final-Recipient"] = f"rfc822; {original.recipient}"
    per_recipient["Action"] = action
    per_recipient["Status"] = status
    per_recipient["Diagnostic-Code"] = f"smtp; 550 {status} User unknown"
    delivery_status = Message()
    delivery_status.set_type("message/delivery-status")
    delivery_status.set_payload([per_message, per_recipient])
    report.attach(delivery_status)
    returned = Message()
    returned["Message-ID"] = original.message_id
    returned["Subject"] = original.subject
    report.attach(MIMEMessage(returned))
    return report.as_bytes()
