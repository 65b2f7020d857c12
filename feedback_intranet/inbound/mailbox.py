"""The feedback mailbox over IMAP (the standard library's imaplib): read a mail without marking
it seen, then take it out of the folder, by deleting it or moving it to quarantine.

Every failure to reach or use the mailbox raises MailboxUnavailable, whatever imaplib said.
"""

import contextlib
import imaplib
import re
import ssl
from dataclasses import dataclass
from datetime import date
from urllib.parse import unquote, urlsplit

_COPYUID = re.compile(rb"\d+ [\d:,]+ (\d+)$")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class MailboxUnavailable(Exception):
    """The mailbox cannot be reached, refused the login or failed a command."""


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    user: str
    password: str
    folder: str
    # "imaps", or "imap" with STARTTLS (start_tls), or plain "imap" (development only).
    scheme: str
    start_tls: bool
    ca_file: str
    timeout: float
    quarantine_folder: str

    @classmethod
    def from_config(cls, config):
        url = urlsplit(config["IMAP_URL"])
        if url.scheme not in ("imap", "imaps") or not url.hostname:
            raise ValueError(f"IMAP_URL must be imaps://user@host/Folder, not {url.geturl()!r}")
        return cls(host=url.hostname, port=url.port or (993 if url.scheme == "imaps" else 143),
                   user=unquote(url.username or ""), password=config["IMAP_PASSWORD"],
                   folder=unquote(url.path.lstrip("/")) or "INBOX", scheme=url.scheme,
                   start_tls=bool(config["IMAP_START_TLS"]), ca_file=config["IMAP_CA_FILE"],
                   timeout=float(config["IMAP_TIMEOUT_SECONDS"]),
                   quarantine_folder=config["IMAP_QUARANTINE_FOLDER"])

    @property
    def name(self):
        """The mailbox as the inbound record names it: account, server and folder."""
        return f"{self.user}@{self.host}/{self.folder}"[:200]


def configured(config):
    return bool(config.get("IMAP_URL"))


class Mailbox:
    """One session with the folder selected: `with Mailbox(settings) as box: ...`."""

    def __init__(self, settings):
        self.settings = settings
        self.connection = None
        self.uidvalidity = None
        # What the server can do, after login (MOVE, UIDPLUS, ...).
        self.capabilities = frozenset()

    def __enter__(self):
        settings = self.settings
        context = ssl.create_default_context(cafile=settings.ca_file or None)
        try:
            if settings.scheme == "imaps":
                self.connection = imaplib.IMAP4_SSL(settings.host, settings.port,
                                                    ssl_context=context, timeout=settings.timeout)
            else:
                self.connection = imaplib.IMAP4(settings.host, settings.port,
                                                timeout=settings.timeout)
                if settings.start_tls:
                    self.connection.starttls(context)
            self.connection.login(settings.user, settings.password)
            self.capabilities = frozenset(
                self._ok(self.connection.capability())[0].decode().upper().split())
            self._select(settings.folder)
        except (imaplib.IMAP4.error, OSError) as error:
            self._close()
            raise MailboxUnavailable(f"cannot use {settings.name}: {error}") from error
        return self

    def __exit__(self, *_exc):
        self._close()

    def _close(self):
        if self.connection is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                self.connection.logout()
            self.connection = None

    @staticmethod
    def _ok(response):
        typ, data = response
        if typ != "OK":
            raise MailboxUnavailable(f"the mail server said {typ}: {data!r}")
        return data

    def _select(self, folder):
        self._ok(self.connection.select(_quoted(folder)))
        self.uidvalidity = int(self.connection.response("UIDVALIDITY")[1][0])

    def _command(self, *args):
        try:
            return self._ok(self.connection.uid(*args))
        except (imaplib.IMAP4.error, OSError) as error:
            raise MailboxUnavailable(f"{args[0]} failed on {self.settings.name}: {error}") from error

    def uids(self):
        """The UIDs of the mail in the folder that is not yet taken out, oldest first."""
        found = self._command("SEARCH", "UNDELETED")[0] or b""
        return sorted(int(uid) for uid in found.split())

    def size(self, uid):
        """The mail's size in bytes, without reading it; None when it is gone."""
        for item in self._command("FETCH", str(uid), "(RFC822.SIZE)"):
            found = _SIZE.search(item if isinstance(item, bytes) else item[0])
            if found:
                return int(found.group(1))
        return None

    def read(self, uid):
        """The mail's bytes, leaving it unseen (BODY.PEEK[]); None when it is gone."""
        for item in self._command("FETCH", str(uid), "(BODY.PEEK[])"):
            if isinstance(item, tuple):
                return item[1]
        return None

    def delete(self, uid):
        """Take the mail out of the folder for good."""
        self._command("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
        self._expunge(uid)

    def move(self, uid, folder):
        """Move the mail to `folder` (made if missing): UID MOVE, or where the server lacks it
        copy, flag deleted and expunge. Returns its UID there when the server says it."""
        try:
            self.connection.create(_quoted(folder))  # "already exists" is answered NO: fine
        except (imaplib.IMAP4.error, OSError) as error:
            raise MailboxUnavailable(f"cannot make {folder}: {error}") from error
        if "MOVE" in self.capabilities:
            self._command("MOVE", str(uid), _quoted(folder))
        else:
            self._command("COPY", str(uid), _quoted(folder))
            self._command("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
            self._expunge(uid)
        copied = self.connection.response("COPYUID")[1]
        found = _COPYUID.search(copied[-1]) if copied and copied[-1] else None
        return int(found.group(1)) if found else None

    def _expunge(self, uid):
        if "UIDPLUS" in self.capabilities:
            self._command("EXPUNGE", str(uid))
        else:
            # Without UIDPLUS every mail flagged deleted goes: only ours are.
            try:
                self._ok(self.connection.expunge())
            except (imaplib.IMAP4.error, OSError) as error:
                raise MailboxUnavailable(f"EXPUNGE failed: {error}") from error

    def purge(self, folder, before):
        """Delete the mail that arrived in `folder` before the day `before`; returns how many."""
        try:
            if self.connection.select(_quoted(folder))[0] != "OK":
                return 0
        except (imaplib.IMAP4.error, OSError) as error:
            raise MailboxUnavailable(f"cannot open {folder}: {error}") from error
        found = self._command("SEARCH", "BEFORE", _imap_date(before))[0] or b""
        uids = found.split()
        if uids:
            uid_set = b",".join(uids).decode()
            self._command("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
            self._expunge(uid_set)
        self._select(self.settings.folder)
        return len(uids)


def _quoted(folder):
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_date(day: date):
    return f"{day.day}-{_MONTHS[day.month - 1]}-{day.year}"
