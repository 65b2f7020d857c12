"""Mail that comes back: customers' replies, new feedback by email, automatic replies and
delivery reports, read from the feedback mailbox over IMAP (`flask --app wsgi inbound fetch`)."""
