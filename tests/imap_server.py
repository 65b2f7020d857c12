"""A throwaway IMAP server for the tests and the demo: Debian's Dovecot with its own
configuration in a temporary folder, on loopback ports (IMAPS with a test CA, and plain IMAP
for STARTTLS), one Maildir account whose password is PASSWORD.

Run as root, Dovecot's login processes must be another user: they run as `dovenull` and the
mail as `dovecot`, Debian's users; run as anyone else, everything runs as that user.
"""

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import socket
import ssl
import subprocess  # nosec B404: runs Debian's dovecot, with arguments of our own
import tempfile
import time
from pathlib import Path

from tests.ldap_server import free_port, make_certificates

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "feedback"
PASSWORD = "mailbox-secret"  # nosec B105: a throwaway test mailbox's


def available():
    return Path(DOVECOT).exists() and Path("/usr/lib/dovecot/imap").exists()


def _users():
    """(login user, internal user, mail user, mail group) Dovecot's processes run as."""
    if os.geteuid() == 0:
        return "dovenull", "dovecot", "dovecot", "dovecot"
    me = pwd.getpwuid(os.geteuid()).pw_name
    return me, me, me, grp.getgrgid(os.getegid()).gr_name


def config(folder, imap_port, imaps_port):
    login_user, internal_user, mail_user, mail_group = _users()
    return f"""\
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
default_internal_user = {internal_user}
default_internal_group = {mail_group}
default_login_user = {login_user}
first_valid_uid = 0
ssl = yes
ssl_cert = <{folder}/server.pem
ssl_key = <{folder}/server.key
# Plain IMAP is for STARTTLS; the login itself still needs TLS.
disable_plaintext_auth = yes
auth_mechanisms = plain login
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_group} home={folder}/mail/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
"""


class MailServer:
    """A running Dovecot; `stop()` ends it, `start()` brings it back on the same ports and mail."""

    def __init__(self):
        # Not under pytest's tmp_path: Dovecot's own users must be able to reach the folder.
        self.folder = Path(tempfile.mkdtemp(prefix="dovecot-"))
        self.folder.chmod(0o755)  # nosec B103: the login processes run as another user
        self.imap_port, self.imaps_port = free_port(), free_port()
        self.ca_file = str(self.folder / "ca.pem")
        self.process = None
        make_certificates(self.folder)
        _, _, mail_user, mail_group = _users()
        (self.folder / "mail").mkdir()
        shutil.chown(self.folder / "mail", mail_user, mail_group)
        (self.folder / "dovecot.conf").write_text(
            config(self.folder, self.imap_port, self.imaps_port))

    def settings(self, folder="INBOX"):
        """The intranet's settings for this mailbox, over IMAPS."""
        return {"IMAP_URL": f"imaps://{USER}@127.0.0.1:{self.imaps_port}/{folder}",
                "IMAP_PASSWORD": PASSWORD, "IMAP_CA_FILE": self.ca_file,
                "IMAP_START_TLS": False, "IMAP_TIMEOUT_SECONDS": 5}

    def start(self):
        self.process = subprocess.Popen(  # nosec B603
            [DOVECOT, "-F", "-c", str(self.folder / "dovecot.conf")],
            cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.process.stderr.read().decode()}"
                                   f"{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.imaps_port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not start listening within 10 seconds: {self.log()}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def remove(self):
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def log(self):
        path = self.folder / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def connect(self):
        """An imaplib connection logged in to the test mailbox, for putting mail in and looking."""
        context = ssl.create_default_context(cafile=self.ca_file)
        connection = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context,
                                       timeout=10)
        connection.login(USER, PASSWORD)
        return connection

    def deliver(self, raw, folder="INBOX", arrived=None):
        """Put a mail into a folder as the mail server would, arrived now or at the aware
        datetime `arrived`; returns its UID."""
        with self._session() as connection:
            connection.create(folder)
            typ, data = connection.append(
                folder, None, imaplib.Time2Internaldate(arrived) if arrived else None, raw)
            assert typ == "OK", data
            return int(connection.response("APPENDUID")[1][0].split()[1])

    def uids(self, folder="INBOX"):
        """The UIDs of the mail in a folder (none if the folder does not exist)."""
        with self._session() as connection:
            typ, _data = connection.select(folder, readonly=True)
            if typ != "OK":
                return []
            return [int(uid) for uid in connection.uid("SEARCH", "ALL")[1][0].split()]

    def empty(self, folders=("INBOX", "Quarantine")):
        """The folders emptied, for the next test."""
        with self._session() as connection:
            for folder in folders:
                if connection.select(folder)[0] == "OK" and connection.search(None, "ALL")[1][0]:
                    connection.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                    connection.expunge()

    def _session(self):
        return _Session(self.connect())


class _Session:
    def __init__(self, connection):
        self.connection = connection

    def __enter__(self):
        return self.connection

    def __exit__(self, *_exc):
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.connection.logout()
