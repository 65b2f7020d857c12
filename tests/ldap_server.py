"""A throwaway OpenLDAP directory for the tests and the demo: Debian's slapd with its own
cn=config in a temporary folder, over LDAPS on a loopback port, with a test CA.

The schema is what an Active Directory login needs to be tested as it runs against AD: core,
cosine, inetorgperson, nis, then a copy of Debian's msuser (AD's user schema) that gives
sAMAccountName the equality rule Debian's file lacks. Users are AD `user` entries (with
extensibleObject for sAMAccountName, which AD's schema hangs on a class of its own); groups are
groupOfNames. OpenLDAP has AD's bitwise rule (1.2.840.113556.1.4.803) built in, not its in-chain
rule, so nested groups are followed by the recursive lookup here.
"""

import shutil
import socket
import subprocess  # nosec B404: runs Debian's slapd tools, with arguments of our own
import time
from pathlib import Path

SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")

SUFFIX = "dc=bank,dc=test"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "root-secret"  # nosec B105: a throwaway test directory's
SERVICE_DN = f"cn=intranet,ou=services,{SUFFIX}"
SERVICE_PASSWORD = "service-secret"  # nosec B105
USER_BASE = f"ou=people,{SUFFIX}"
GROUP_BASE = f"ou=groups,{SUFFIX}"
# AD's userAccountControl: 512 is a normal account, bit 2 disables it.
ENABLED, DISABLED = 512, 514


def available():
    return all(Path(tool).exists() for tool in (SLAPD, SLAPADD)) and \
        (SCHEMA_DIR / "msuser.ldif").exists()


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)  # nosec B603 B607


def make_certificates(folder):
    """A test CA and a server certificate for 127.0.0.1 signed by it (EC keys: quick to make)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
             "/CN=Test directory CA", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1", cwd=folder)
    (folder / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
             cwd=folder)


def msuser_copy():
    """Debian's msuser schema with an equality rule on sAMAccountName, as AD has."""
    text = (SCHEMA_DIR / "msuser.ldif").read_text()
    old = "NAME 'sAMAccountName'\n  SYNTAX"
    assert old in text, "Debian's msuser.ldif changed: sAMAccountName not found as expected"
    return text.replace(old, "NAME 'sAMAccountName'\n  EQUALITY caseIgnoreMatch\n  SYNTAX")


def config_ldif(folder):
    return f"""\
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: {folder}/slapd.pid
olcTLSCACertificateFile: {folder}/ca.pem
olcTLSCertificateFile: {folder}/server.pem
olcTLSCertificateKeyFile: {folder}/server.key
olcLogLevel: none

dn: cn=module{{0}},cn=config
objectClass: olcModuleList
cn: module{{0}}
olcModulePath: {MODULE_DIR}
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://{SCHEMA_DIR}/core.ldif

include: file://{SCHEMA_DIR}/cosine.ldif

include: file://{SCHEMA_DIR}/inetorgperson.ldif

include: file://{SCHEMA_DIR}/nis.ldif

include: file://{folder}/msuser.ldif

dn: olcDatabase={{-1}}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {{-1}}frontend
olcSizeLimit: 500

dn: olcDatabase={{0}}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {{0}}config
olcAccess: {{0}}to * by * none

dn: olcDatabase={{1}}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {{1}}mdb
olcSuffix: {SUFFIX}
olcDbDirectory: {folder}/data
olcDbMaxSize: 104857600
olcRootDN: {ROOT_DN}
olcRootPW: {ROOT_PASSWORD}
olcDbIndex: objectClass eq
olcDbIndex: member eq
olcDbIndex: sAMAccountName eq
olcAccess: {{0}}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {{1}}to * by dn.exact="{SERVICE_DN}" read by self read by * none
"""


def person(username, full_name, *, email=None, language=None, disabled=False,
           password="password"):  # nosec B107
    """An AD user entry's LDIF."""
    lines = [f"dn: cn={full_name},{USER_BASE}", "objectClass: user", "objectClass: extensibleObject",
             f"cn: {full_name}", f"sn: {full_name.split()[-1]}", f"displayName: {full_name}",
             f"sAMAccountName: {username}", f"userPrincipalName: {username}@bank.test",
             f"userAccountControl: {DISABLED if disabled else ENABLED}",
             # What AD's user class requires, with values of no meaning here.
             "instanceType: 4", "nTSecurityDescriptor: none",
             f"objectCategory: cn=Person,cn=Schema,cn=Configuration,{SUFFIX}",
             f"userPassword: {password}"]
    if email:
        lines.append(f"mail: {email}")
    if language:
        lines.append(f"preferredLanguage: {language}")
    return "\n".join(lines) + "\n"


def group(name, members):
    """A groupOfNames; `members` are DNs (people or groups). An empty group names nobody."""
    lines = [f"dn: cn={name},{GROUP_BASE}", "objectClass: groupOfNames", f"cn: {name}"]
    lines += [f"member: {dn}" for dn in (members or [f"cn=nobody,{SUFFIX}"])]
    return "\n".join(lines) + "\n"


def person_dn(full_name):
    return f"cn={full_name},{USER_BASE}"


def group_dn(name):
    return f"cn={name},{GROUP_BASE}"


def base_ldif():
    return f"""\
dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: bank
o: Test bank

dn: ou=services,{SUFFIX}
objectClass: organizationalUnit
ou: services

dn: {SERVICE_DN}
objectClass: person
cn: intranet
sn: intranet
userPassword: {SERVICE_PASSWORD}

dn: {USER_BASE}
objectClass: organizationalUnit
ou: people

dn: {GROUP_BASE}
objectClass: organizationalUnit
ou: groups
"""


class Directory:
    """A running slapd; `stop()` ends it, `start()` brings it back on the same port and data."""

    def __init__(self, folder, entries, port=None):
        """A directory in `folder`, made with `entries` unless the folder holds one already."""
        self.folder = Path(folder)
        self.port = port or free_port()
        self.url = f"ldaps://127.0.0.1:{self.port}"
        # The same directory on plain LDAP, for StartTLS.
        self.start_tls_url = f"ldap://127.0.0.1:{free_port()}"
        self.ca_file = str(self.folder / "ca.pem")
        self.process = None
        if (self.folder / "slapd.d").exists():
            return
        (self.folder / "data").mkdir(parents=True)
        (self.folder / "slapd.d").mkdir()
        make_certificates(self.folder)
        (self.folder / "msuser.ldif").write_text(msuser_copy())
        (self.folder / "config.ldif").write_text(config_ldif(self.folder))
        (self.folder / "entries.ldif").write_text(base_ldif() + "\n" + "\n".join(entries))
        self._run(SLAPADD, "-n0", "-F", "slapd.d", "-l", "config.ldif")
        self._run(SLAPADD, "-F", "slapd.d", "-b", SUFFIX, "-l", "entries.ldif")

    def _run(self, *args):
        result = subprocess.run(args, cwd=self.folder, capture_output=True, text=True)  # nosec B603
        if result.returncode:
            raise RuntimeError(f"{' '.join(args)} failed: {result.stderr.strip()}")

    def settings(self):
        """The intranet's settings for this directory (recursive lookup: OpenLDAP)."""
        return {
            "LDAP_URL": self.url, "LDAP_CA_FILE": self.ca_file, "LDAP_START_TLS": False,
            "LDAP_BIND_DN": SERVICE_DN, "LDAP_BIND_PASSWORD": SERVICE_PASSWORD,
            "LDAP_USER_BASE": USER_BASE, "LDAP_GROUP_BASE": GROUP_BASE,
            "LDAP_USER_FILTER": "(sAMAccountName={username})",
            "LDAP_ID_ATTRIBUTE": "entryUUID", "LDAP_NESTED_GROUPS": "recursive",
        }

    def start(self):
        # -d 0 keeps slapd in the foreground, so it is our child to stop.
        self.process = subprocess.Popen(  # nosec B603
            [SLAPD, "-d", "0", "-F", str(self.folder / "slapd.d"), "-h",
             f"{self.url} {self.start_tls_url}"],
            cwd=self.folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {self.process.stderr.read().decode()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("slapd did not start listening within 10 seconds")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def admin_connection(self):
        """An ldap3 connection bound as the directory's root, for changing entries in tests."""
        import ssl

        import ldap3

        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=self.ca_file)
        server = ldap3.Server(self.url, use_ssl=True, tls=tls, get_info=ldap3.NONE)
        return ldap3.Connection(server, ROOT_DN, ROOT_PASSWORD, auto_bind=True)


def test_entries():
    """The tests' people and groups (README: what each is for is said in tests/test_directory)."""
    people = [
        person("aino", "Aino Virtanen", email="aino.virtanen@bank.test", language="fi"),
        person("bertil", "Bertil Lindqvist", email="bertil.lindqvist@bank.test", language="sv"),
        person("carla", "Carla Admin", email="carla@bank.test", language="en-GB"),
        person("olli", "Olli Suljettu", email="olli@bank.test", disabled=True),
        person("erik", "Erik Outside", email="erik@bank.test"),
        person("nina", "Nina Nested", email="nina@bank.test"),
        person("mikko", "Mikko Mover", email="mikko@bank.test"),
        person("lasse", "Lasse Directory", email="lasse.directory@bank.test"),
        person("lotta", "Lotta Locked", email="lotta@bank.test"),
        person("sami", "Sami Sessions", email="sami@bank.test"),
    ]
    groups = [
        group("FB-Helsinki-Centre", [person_dn("Aino Virtanen"), person_dn("Olli Suljettu"),
                                     person_dn("Lasse Directory"), person_dn("Lotta Locked"),
                                     person_dn("Sami Sessions")]),
        group("FB-Helsinki-Centre-Leads", [person_dn("Bertil Lindqvist")]),
        group("FB-Admins", [person_dn("Carla Admin")]),
        # Nested: the tellers are in the Turku group through their own group.
        group("FB-Turku-Tellers", [person_dn("Nina Nested")]),
        group("FB-Turku", [group_dn("FB-Turku-Tellers")]),
        group("FB-Vaasa", [person_dn("Mikko Mover")]),
        # A cycle the recursive lookup must survive.
        group("FB-Loop-A", [group_dn("FB-Loop-B"), person_dn("Nina Nested")]),
        group("FB-Loop-B", [group_dn("FB-Loop-A")]),
        # Everyone allowed to sign in, through the unit groups.
        group("FB-Staff", [group_dn(name) for name in (
            "FB-Helsinki-Centre", "FB-Helsinki-Centre-Leads", "FB-Admins", "FB-Turku",
            "FB-Vaasa")]),
    ]
    return people + groups
