"""Reading one mail from the feedback mailbox: who sent it, what it answers, the new text the
customer wrote (quotes, attributions, header blocks and signatures cut), and whether it is an
automatic reply, a delivery report or spam. Pure: bytes in, a `Mail` out.

Authentication-Results (RFC 8601) are trusted on one assumption, the one §5 of the RFC asks of
every server that adds them: the bank's mail server removes from incoming mail any such header
that claims its own authserv-id. On top of that only the topmost header with the trusted id is
read (the one the server added on delivery), so a header the sender wrote further down never
counts even where that removal is missing. The server must therefore write its DMARC verdict
into that topmost header.

Mail is parsed with the `email` package's compat32 policy, every header value it reads cut to a
sane length: policy.default's header parser takes seconds on hostile headers (a 180 kB
Content-Type, or thousands of small parts), compat32 only string work. Subject and From are
decoded with policy.default's header classes, on values cut to a length no real header reaches.
"""

import html
import re
from dataclasses import dataclass
from email import policy
from email.errors import InvalidHeaderDefect
from email.parser import BytesParser, HeaderParser
from email.policy import Compat32

# What is read of a mail: more than any customer writes, little enough to stay fast.
_MAX_HEADER = 2000
_MAX_PARTS = 200
_MAX_DEPTH = 20
_MAX_TEXT = 100_000
_MAX_HTML = 500_000
_MAX_TOKENS = 50_000
# A mail with more boundary lines, lines or blank lines than these is no customer's: the parser
# would take seconds over it (each boundary is a part, each blank line in a delivery report a
# block, each line a step).
_MAX_BOUNDARY_LINES = 1000
_MAX_LINES = 300_000
_MAX_BLANK_LINES = 20_000
_MAX_REFERENCES = 30
_MAX_DIAGNOSTIC = 200


class Unreadable(Exception):
    """The bytes are not a mail we can read."""


@dataclass(frozen=True)
class Bounce:
    """An RFC 3464 delivery status notification."""

    original_message_id: str  # "<...>" from the returned message's headers; "" if none
    failed: bool  # some recipient has Action: failed and a 5.x.x status
    delayed: bool  # nothing failed for good (delayed, 4.x.x, or no verdict)
    recipient: str  # the failed (else first) Final-Recipient address
    status: str  # e.g. "5.1.1"; "" if none
    diagnostic: str  # Diagnostic-Code text, at most 200 characters


@dataclass(frozen=True)
class Mail:
    message_id: str  # "<...>" or ""
    references: tuple[str, ...]  # In-Reply-To's ids, then References' newest first; no repeats
    from_address: str  # addr-spec lower-cased; "" when missing, several or unparsable
    from_name: str  # display name, decoded, one line ("" if none)
    subject: str  # decoded, one line
    text: str  # the new text only: quotes, attributions, header blocks, signatures cut
    attachments: int  # parts with a filename or Content-Disposition: attachment
    automatic: str  # why it is automatic, "" if not
    bounce: Bounce | None  # a multipart/report; report-type=delivery-status
    spam: bool  # the spam header carries one of the spam values
    dmarc_pass: bool  # the trusted server recorded dmarc=pass for the From domain
    language: str | None  # "fi", "sv" or "en" when Content-Language says so


def read(raw: bytes, *, authserv_id: str, spam_header: str, spam_values: frozenset[str]) -> Mail:
    """Read a mail's raw bytes. Raises Unreadable, and nothing else, when they are no mail."""
    message = _parse(raw)
    try:
        headers = _Headers(message)
        from_address, from_name = _sender(headers)
        subject = _one_line(_decoded("subject", headers.first("subject") or ""))
        bounce = _bounce(message)
        automatic = _automatic(headers, subject, from_address) or ("delivery-report" if bounce else "")
        return Mail(
            message_id=next(iter(_ids(headers.first("message-id"))), ""),
            references=_references(headers),
            from_address=from_address,
            from_name=from_name,
            subject=subject,
            text=_new_text(_body_text(message)),
            attachments=_attachments(message),
            automatic=automatic,
            bounce=bounce,
            spam=_spam(headers, spam_header, spam_values),
            dmarc_pass=_dmarc_pass(headers.all("authentication-results"), authserv_id,
                                   from_address.rpartition("@")[2]),
            language=_language(headers.first("content-language")),
        )
    except Exception as error:  # the email package fails on hostile mail in ways no list names
        raise Unreadable("the mail could not be read") from error


_REFERENCE = re.compile(r"(?<![A-Za-z0-9])FB-([0-9]{4})-([0-9]{6,9})(?![0-9])", re.IGNORECASE)


def subject_reference(subject: str) -> str | None:
    """The case reference ("FB-2026-000123") a subject names; None if none, or if it names
    several different ones."""
    found = {f"FB-{year}-{number}" for year, number in _REFERENCE.findall(subject or "")}
    return found.pop() if len(found) == 1 else None


# Parsing and headers

class _Policy(Compat32):
    """compat32 with every header value the library reads (Content-Type and its kin) cut short:
    its parameter splitting grows with the square of the value's length."""

    def header_fetch_parse(self, name, value):
        return super().header_fetch_parse(name, value[:_MAX_HEADER])


_POLICY = _Policy()


def _parse(raw):
    if not isinstance(raw, bytes | bytearray) or not raw.strip():
        raise Unreadable("no bytes")
    if (raw.count(b"\n--") > _MAX_BOUNDARY_LINES
            or max(raw.count(b"\n"), raw.count(b"\r")) > _MAX_LINES
            or raw.count(b"\n\n") + raw.count(b"\n\r\n") > _MAX_BLANK_LINES):
        raise Unreadable("too many parts or lines")
    try:
        message = BytesParser(policy=_POLICY).parsebytes(bytes(raw))
    except Exception as error:  # deep nesting exhausts the parser's recursion, for one
        raise Unreadable("not a mail") from error
    if not message.keys():
        raise Unreadable("no header fields")
    return message


class _Headers:
    """A message's own header fields, top down: names in lower case, values unfolded and their
    8-bit bytes decoded."""

    def __init__(self, message):
        self.fields = [(name.lower(), _field(value)) for name, value in message.raw_items()]

    def all(self, name):
        return [value for field, value in self.fields if field == name]

    def first(self, name):
        return next((value for field, value in self.fields if field == name), None)


def _field(value):
    """A raw header value unfolded, its 8-bit bytes (RFC 6532) read as UTF-8, else windows-1252."""
    value = str(value).replace("\r", "").replace("\n", "")
    return value if value.isascii() else _utf8_else_1252(value.encode("utf-8", "surrogateescape"))


def _utf8_else_1252(data):
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean(text):
    """Text that any database stores: no NULs or other controls, no undecodable bytes."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def _one_line(text):
    return " ".join(_clean(text).split())


def _decoded(name, value):
    """A header value with its encoded words and 8-bit text decoded."""
    try:
        return str(policy.default.header_factory(name, value[:_MAX_HEADER]))
    except Exception:  # an encoded word the header classes choke on: keep it as written
        return value[:_MAX_HEADER]


def _sender(headers):
    """The one From address and its display name; "" for none, several or a broken one."""
    values = headers.all("from")
    if len(values) != 1 or len(values[0]) > _MAX_HEADER:
        return "", ""
    try:
        header = policy.default.header_factory("from", values[0])
        addresses = header.addresses
    except Exception:  # a From the header classes choke on is no sender we can name
        return "", ""
    if len(addresses) != 1 or any(isinstance(defect, InvalidHeaderDefect) for defect in header.defects):
        return "", ""
    address = addresses[0]
    name = _one_line(address.display_name)
    if not address.username or not address.domain:
        return "", name
    return _one_line(address.addr_spec).lower(), name


_ID = re.compile(r"<[^<>\s]+>")


def _ids(value):
    return [_clean(one) for one in _ID.findall((value or "")[:_MAX_HEADER * 4])]


def _references(headers):
    """In-Reply-To's ids first, then References' newest first (the message replied to is last
    in References), each once, at most _MAX_REFERENCES."""
    ids = (_ids((headers.first("in-reply-to") or "")[:_MAX_HEADER])
           + _ids((headers.first("references") or "")[-_MAX_HEADER * 4:])[::-1])
    return tuple(dict.fromkeys(ids))[:_MAX_REFERENCES]


def _language(value):
    primary = re.split(r"[-_,;\s]", (value or "").strip(), maxsplit=1)[0].lower()
    return primary if primary in ("fi", "sv", "en") else None


def _token(value):
    """A structured header's first word, lower-cased: "auto-replied (vacation)" → "auto-replied"."""
    match = re.match(r"\s*([\w.-]{1,64})", value or "")
    return match.group(1).lower() if match else ""


# Automatic mail (RFC 3834 and what mail programs do)

_OUT_OF_OFFICE = re.compile(
    r"\s*(?:(?:re|sv|vs|aw|fw|fwd)\s*:\s*){0,5}(?:"
    r"automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of (?:the )?office"
    r"|automaattinen vastaus|automaattivastaus|poissa toimistolta|poissa\s*:|poissaolo"
    r"|autosvar|automatiskt svar|frånvaro(?:meddelande)?\b|frånvarande\b)",
    re.IGNORECASE)


def _automatic(headers, subject, from_address):
    submitted = _token(headers.first("auto-submitted"))
    if submitted and submitted != "no":
        return "auto-submitted"
    for name in ("x-autoreply", "x-autorespond"):
        value = _token(headers.first(name))
        if value and value != "no":
            return "x-autoreply"
    if _token(headers.first("precedence")) in ("bulk", "junk", "list", "auto_reply"):
        return "precedence"
    if headers.first("list-id") is not None:
        return "list"
    # The delivering server writes the envelope sender on top; "<>" is a bounce or an auto-reply.
    return_path = headers.first("return-path")
    if return_path is not None and "".join(return_path.split()).startswith("<>"):
        return "null-return-path"
    if from_address.partition("@")[0] == "mailer-daemon":
        return "mailer-daemon"
    if _OUT_OF_OFFICE.match(subject):
        return "out-of-office-subject"
    return ""


def _spam(headers, name, values):
    if not name:
        return False
    wanted = {value.strip().lower() for value in values}
    for value in headers.all(name.strip().lower()):
        verdict = re.match(r"\s*([^\s,;]{0,64})", value).group(1).lower()
        if verdict and verdict in wanted:
            return True
    return False


# Authentication-Results (RFC 8601)

def _dmarc_pass(values, authserv_id, from_domain):
    trusted = authserv_id.strip().lower()
    if not trusted or not from_domain:
        return False
    for value in values:
        server, results = _authentication_results(value)
        if server != trusted:
            continue
        # The topmost header with our server's id decides alone: see the module's docstring.
        for method, result, properties in results:
            if method == "dmarc":
                claimed = properties.get("header.from", "").rpartition("@")[2]
                return result == "pass" and _domain_key(claimed) == _domain_key(from_domain)
        return False
    return False


_RESULT = re.compile(r'([\w.-]{1,64}(?:/[0-9]{1,9})?)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s";]+)')


def _authentication_results(value):
    """(authserv-id, [(method, result, {property: value})]) of one header's value."""
    pieces = _pieces(value[:_MAX_HEADER * 4])
    head = pieces[0].split()
    if not head:
        return "", []
    results = []
    for piece in pieces[1:]:
        pairs = _RESULT.findall(piece)
        if pairs:
            (method, result), *properties = pairs
            results.append((method.split("/")[0].lower(), _unquote(result).lower(),
                            {name.lower(): _unquote(found) for name, found in properties}))
    return _unquote(head[0]).lower(), results


def _pieces(value):
    """The value split at semicolons outside quoted strings, comments (nested) taken out."""
    pieces, current = [], []
    depth, quoted, escaped = 0, False, False
    for char in value:
        if escaped:
            escaped = False
            if not depth:
                current.append(char)
        elif char == "\\":
            escaped = True
            if not depth:
                current.append(char)
        elif quoted:
            current.append(char)
            quoted = char != '"'
        elif char == "(":
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if not depth:
                current.append(" ")
        elif depth:
            continue
        elif char == ";":
            pieces.append("".join(current))
            current = []
        else:
            quoted = char == '"'
            current.append(char)
    pieces.append("".join(current))
    return pieces


def _unquote(value):
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def _domain_key(domain):
    domain = domain.strip().rstrip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


# Delivery status notifications (RFC 3464)

_STATUS = re.compile(r"(?<![0-9])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?![0-9])")


def _bounce(message):
    if (message.get_content_type() != "multipart/report"
            or str(message.get_param("report-type") or "").lower() != "delivery-status"):
        return None
    recipients, original = [], ""
    for part in _children(message)[:_MAX_PARTS]:
        kind = part.get_content_type()
        if kind in ("message/delivery-status", "message/global-delivery-status"):
            recipients += [fields for fields in _status_blocks(part)
                           if "final-recipient" in fields or "action" in fields]
        elif not original and kind in ("message/rfc822", "message/global", "text/rfc822-headers",
                                       "message/global-headers"):
            original = _returned_message_id(part)
    failed = [fields for fields in recipients if _failed(fields)]
    chosen = (failed or recipients or [{}])[0]
    return Bounce(
        original_message_id=original,
        failed=bool(failed),
        delayed=not failed,
        recipient=_one_line(_after_type(chosen.get("final-recipient")
                                         or chosen.get("original-recipient", ""))).strip("<>").lower(),
        status=_status(chosen),
        diagnostic=_one_line(_after_type(chosen.get("diagnostic-code", "")))[:_MAX_DIAGNOSTIC],
    )


def _status_blocks(part):
    """The per-message and per-recipient field blocks, each {lower-case name: first value}.
    The parser reads message/delivery-status into one message per block, and other message/*
    types into one message whose body holds the blocks after the first."""
    payload = part.get_payload()
    blocks, texts = [], []
    if isinstance(payload, list):
        for block in payload[:_MAX_PARTS]:
            blocks.append(block.raw_items())
            rest = block.get_payload(decode=True)
            if isinstance(rest, bytes):
                texts.append(_utf8_else_1252(rest))
    else:
        texts.append(_decoded_payload(part))
    for text in texts:
        blocks += [HeaderParser(policy=_POLICY).parsestr(chunk).raw_items()
                   for chunk in re.split(r"\n[ \t]*\n", text[:_MAX_TEXT].replace("\r", ""))[:_MAX_PARTS]]
    return [{name.lower(): _field(value) for name, value in reversed(list(block))} for block in blocks]


def _failed(fields):
    return _token(fields.get("action")) == "failed" and _status(fields).startswith("5.")


def _status(fields):
    match = _STATUS.search(fields.get("status", "")[:200])
    return match.group(1) if match else ""


def _after_type(value):
    """ "rfc822; a@b.fi" → "a@b.fi", "smtp; 550 ..." → "550 ..." """
    return value.partition(";")[2] if ";" in value else value


def _returned_message_id(part):
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        value = _Headers(payload[0]).first("message-id")
    else:
        value = _Headers(HeaderParser(policy=_POLICY).parsestr(
            _decoded_payload(part))).first("message-id")
    return next(iter(_ids(value)), "")


# The text: which part, decoded

def _children(part):
    payload = part.get_payload() if part.get_content_maintype() == "multipart" else None
    return payload if isinstance(payload, list) else []


def _is_attachment(part):
    return part.get_content_disposition() == "attachment" or bool(part.get_filename())


def _attachments(message):
    count, seen, stack = 0, 0, [message]
    while stack and seen < _MAX_PARTS:
        part = stack.pop()
        seen += 1
        if part.get_content_maintype() == "multipart":
            stack.extend(reversed(_children(part)))
        elif _is_attachment(part):
            count += 1
    return count


def _body_text(part, depth=0):
    """The text of the body a person reads: the plain alternative where there is one, HTML
    turned into text where not, inline text parts of a mixed body joined."""
    if depth > _MAX_DEPTH or _is_attachment(part):
        return ""
    kind = part.get_content_type()
    if kind == "text/plain":
        text = _decoded_payload(part)
        if str(part.get_param("format") or "").lower() == "flowed":
            text = _unflow(text, str(part.get_param("delsp") or "").lower() == "yes")
        return text
    if kind == "text/html":
        return _first(_html_text(_decoded_payload(part, _MAX_HTML)), _MAX_TEXT)
    children = _children(part)[:_MAX_PARTS]
    if kind == "multipart/alternative":
        plain = [child for child in children if child.get_content_type() == "text/plain"]
        others = [child for child in reversed(children) if child.get_content_type() != "text/plain"]
        texts = (_body_text(child, depth + 1) for child in plain + others)
        return next((text for text in texts if text.strip()), "")
    if kind in ("multipart/related", "multipart/signed", "multipart/report"):
        return _body_text(children[0], depth + 1) if children else ""
    if kind == "multipart/encrypted":
        return ""
    texts = (_body_text(child, depth + 1) for child in children)
    return _first("\n\n".join(text for text in texts if text.strip()), _MAX_TEXT)


# Latin-1 is read as windows-1252, as browsers do: Outlook labels € and quotes so.
_CHARSETS = {"iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
             "us-ascii": "ascii", "ascii": "ascii"}


def _decoded_payload(part, limit=_MAX_TEXT):
    """A part's text, decoded by its charset where that reads, else as UTF-8, else as
    windows-1252; at most `limit` characters of it."""
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    declared = part.get_content_charset()
    for charset in ([_CHARSETS.get(declared, declared)] if declared else []) + ["utf-8"]:
        try:
            return _clean(_first(data.decode(charset), limit))
        except (LookupError, UnicodeError, ValueError):  # unknown, mislabelled or no text codec
            continue
    return _clean(_first(data.decode("cp1252", errors="replace"), limit))


def _first(text, limit):
    """The first `limit` characters of a text, less the line the limit would cut in two."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head.rpartition("\n")[0] if "\n" in head else head


def _unflow(text, delsp):
    """format=flowed (RFC 3676): soft line breaks joined, space-stuffing taken off."""
    lines, paragraph, quoted = [], [], 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]
        if paragraph and depth != quoted:  # a change of quote depth ends a paragraph too
            lines.append(">" * quoted + "".join(paragraph))
            paragraph = []
        flowed = content.endswith(" ") and content != "-- "
        paragraph.append(content[:-1] if flowed and delsp else content)
        quoted = depth
        if not flowed:
            lines.append(">" * quoted + "".join(paragraph))
            paragraph = []
    if paragraph:
        lines.append(">" * quoted + "".join(paragraph))
    return "\n".join(lines)


# HTML into text, quoted blocks left out

# One token at a time, each alternative linear: a "<" that starts no tag is text, and no scan
# runs past the next "<", so hostile markup cannot make the tokenizer quadratic.
_TOKEN = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<[!?][^<>]*>?"
    r"|<(/?)([a-zA-Z][^\s/<>]*)((?:[^<>\"']|\"[^\"<]*\"|'[^'<]*')*)>"
    r"|[^<]+"
    r"|<",
    re.DOTALL)
_ATTRIBUTE = re.compile(r"""([^\s=/<>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
_RAW_TEXT = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style", "title")}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr"}
_LINE = {"address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
         "fieldset", "figcaption", "figure", "footer", "form", "header", "hr", "main", "nav",
         "section", "tr", "li"}
_PARAGRAPH = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "table", "ul", "ol"}
# Where a quoted message begins and everything after it is the quote (Outlook's reply header
# and the markers around it), and where a quote or a signature sits inside the new text.
_CUT_IDS = ("appendonsend", "divrplyfwdmsg", "stopspelling", "mail-editor-reference-message-container")
_CUT_CLASSES = {"outlookmessageheader", "moz-forward-container"}
_CUT_BORDERS = ("border-top:solid#e1e1e1", "border-top:solid#b5c4df")
_QUOTE_CLASSES = {"gmail_quote", "yahoo_quoted", "moz-cite-prefix"}
# The signatures whose plain text alternative begins with "-- ".
_SIGNATURE_CLASSES = {"gmail_signature", "moz-signature"}
_MAX_OPEN = 256
_SPACE = re.compile(r"[ \t\n\r\f]+")


def _html_text(markup):
    return _HtmlText(markup).text


def _attributes(text):
    return {key.lower(): double or single or bare
            for key, double, single, bare in _ATTRIBUTE.findall(text[:_MAX_HEADER])}


def _kind(name, attributes):
    """ "cut" where the quoted message begins, "quote" or "signature" for an element to leave
    out, "" for one to read."""
    element_id = attributes.get("id", "").lower()
    classes = set(attributes.get("class", "").lower().split())
    style = "".join(attributes.get("style", "").split()).lower()
    if (element_id.endswith(_CUT_IDS) or classes & _CUT_CLASSES
            or any(border in style for border in _CUT_BORDERS)):
        return "cut"
    # A blockquote without a quote's marks (cite, or the bar at its left) is the customer's own
    # indent: Gmail's, for one.
    cited = (attributes.get("type", "").lower() == "cite"
             or "border-left:" in style.replace("border-left:none", ""))
    if classes & _QUOTE_CLASSES or (name == "blockquote" and cited):
        return "quote"
    if classes & _SIGNATURE_CLASSES:
        return "signature"
    return ""


class _HtmlText:
    """Markup read as a mail program shows it: blocks on their own lines, lists marked, links'
    text kept; scripts, styles, quoted blocks and signatures left out, and nothing read after
    the point where the quoted message begins."""

    def __init__(self, markup):
        self.out = []
        self.newlines = 0  # newlines at the end of the output
        self.open = []  # (name, newlines its end makes) of each element open now
        self.skip_below = None  # while set, inside a left-out element opened at this depth
        self.lists = []  # a counter for each open ol, None for each open ul
        self.pre = 0
        self.cells = 0
        self._read(markup)
        self.text = "".join(self.out).replace("\xa0", " ")

    def _read(self, markup):
        position, end = 0, len(markup)
        for _ in range(_MAX_TOKENS):
            if position >= end:
                return
            match = _TOKEN.match(markup, position)
            position = match.end()
            name = match.group(2)
            if name is None:
                if not match.group(0).startswith(("<!", "<?")):
                    self._data(html.unescape(match.group(0)))
            elif match.group(1):
                self._end(name.lower())
            elif name.lower() in _RAW_TEXT:
                closing = _RAW_TEXT[name.lower()].search(markup, position)
                position = closing.end() if closing else end
            elif self._start(name.lower(), match.group(3)):
                return

    def _start(self, name, text):
        """Read a start tag; True where the quoted message begins."""
        void = name in _VOID or text.rstrip().endswith("/")
        newlines = 0
        if self.skip_below is None:
            attributes = _attributes(text) if name in ("div", "blockquote", "hr", "p") else {}
            kind = _kind(name, attributes)
            if kind == "cut":
                return True
            if kind == "quote":  # a mark the text rules know: the attribution before it goes too
                self._break(1)
                self.out.append(">\n")
                self.newlines = 1
            if kind and not void:
                self.skip_below = len(self.open)
            if not kind:
                newlines = self._open_element(name, attributes)
        if not void and len(self.open) < _MAX_OPEN:
            self.open.append((name, newlines))
        return False

    def _open_element(self, name, attributes):
        """Begin an element's text; the newlines its end makes."""
        if name == "br":
            self.out.append("\n")
            self.newlines += 1
            return 0
        if name in ("td", "th"):
            if self.cells:
                self._data(" ")
            self.cells += 1
            return 0
        if name == "li":
            self._break(1)
            marker = "-"
            if self.lists and self.lists[-1] is not None:
                self.lists[-1] += 1
                marker = f"{self.lists[-1]}."
            self.out.append("  " * max(len(self.lists) - 1, 0) + marker + " ")
            self.newlines = 0
            return 1
        if name in ("ul", "ol"):
            self.lists.append(0 if name == "ol" else None)
        elif name == "pre":
            self.pre += 1
        elif name == "tr":
            self.cells = 0
        # Word's HTML (Outlook) makes every line a paragraph, with no space between.
        word = any(one.startswith("mso") for one in attributes.get("class", "").lower().split())
        newlines = (1 if name in _LINE or word or (name in ("ul", "ol") and len(self.lists) > 1)
                    else 2 if name in _PARAGRAPH else 0)
        self._break(newlines)
        return newlines

    def _end(self, name):
        depth = next((index for index in range(len(self.open) - 1, -1, -1)
                      if self.open[index][0] == name), None)
        if depth is None:
            return
        newlines = self.open[depth][1]
        for closed, _ in self.open[depth:]:
            if closed in ("ul", "ol") and self.lists:
                self.lists.pop()
            elif closed == "pre" and self.pre:
                self.pre -= 1
        del self.open[depth:]
        if self.skip_below is not None and depth <= self.skip_below:
            self.skip_below = None
        elif self.skip_below is None:
            self._break(newlines)

    def _break(self, count):
        if self.out and self.newlines < count:
            self.out.append("\n" * (count - self.newlines))
            self.newlines = count

    def _data(self, text):
        if self.skip_below is not None:
            return
        if not self.pre:
            text = _SPACE.sub(" ", text)
            if self.newlines or not self.out:
                text = text.lstrip(" ")
        if text:
            self.out.append(text)
            self.newlines = len(text) - len(text.rstrip("\n")) if self.pre else 0


# Cutting the quoted text

_ATTRIBUTION = re.compile(
    r"(?:\b(?:wrote|kirjoitti|skrev|schrieb|a écrit)\s*:"
    r"|\b(?:kirjoitti|skrev|schrieb)\b.{1,300}:)\s*$",
    re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"(?:(?:on|den|am|le)\b|[0-9]|(?:ma|ti|ke|to|pe|la|su)\s+[0-9])",
                                re.IGNORECASE)
# A time or an address makes "... wrote:" an attribution, not a sentence of the customer's.
_ATTRIBUTION_EVIDENCE = re.compile(r"@|(?<![0-9.:])[0-9]{1,2}[.:][0-9]{2}(?![0-9])")
_HEADER_FROM = re.compile(r"\*?(?:from|lähettäjä|från)\*?\s*:", re.IGNORECASE)
_HEADER_DATE = re.compile(r"\*?(?:sent|date|lähetetty|päivämäärä|skickat|datum)\*?\s*:", re.IGNORECASE)
_HEADER_SUBJECT = re.compile(r"\*?(?:subject|aihe|ämne|to|vastaanottaja|till)\*?\s*:", re.IGNORECASE)
_SEPARATOR = re.compile(
    r"(?:-{2,}\s*(?:original message|alkuperäinen viesti|ursprungligt meddelande|forwarded message"
    r"|välitetty viesti|vidarebefordrat meddelande)\s*-*"
    r"|begin forwarded message:)\s*$",
    re.IGNORECASE)
# "Sent from my iPhone", "Get Outlook for Android", "Lähetetty iPhonesta", "Skickat från min iPad".
_MOBILE = re.compile(
    r"(?:sent from (?:my )?|get |hanki |hämta |lähetetty |skickat från (?:min )?)"
    r"(?:iphone|ipad|android|samsung|galaxy|outlook|mail|yahoo|huawei|xiaomi)[\w-]*(?: [\w-]+){0,2}\.?",
    re.IGNORECASE)
_RULE = re.compile(r"[_\-=*~]{2,}")
_HEADER_BLOCK_LINES = 10
_ATTRIBUTION_LINES = 3
_LOOK_AHEAD = 200


def _new_text(text):
    """What the customer wrote now. Quoted lines ("> ") are left out, and so is an attribution
    ("On <date>, <name> wrote:") before them; everything is cut from a signature ("-- "), an
    original-message or forwarding separator, a quoted mail's header block, or an attribution
    of quoted text that is not marked."""
    lines = _clean(text).split("\n")
    kept, index = [], 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if stripped.startswith(">"):
            index += 1
            continue
        if (line.rstrip() == "--" or (len(stripped) < 120 and _SEPARATOR.match(stripped))
                or _header_block(lines, index)):
            break
        last = _attribution(lines, index)
        if last is not None:
            if not _quote_follows(lines, last):
                break
            index = last + 1
            continue
        kept.append(line.rstrip())
        index += 1
    return _tidy(kept)


def _quote_follows(lines, index):
    following = next((line for line in lines[index + 1:index + 1 + _LOOK_AHEAD] if line.strip()), "")
    return following.lstrip().startswith(">")


def _header_block(lines, index):
    """A quoted mail's header block begins here: From, then a date and a subject or recipient."""
    if not _HEADER_FROM.match(lines[index].lstrip()):
        return False
    following = [line.lstrip() for line in lines[index + 1:index + 1 + _HEADER_BLOCK_LINES]]
    return (any(_HEADER_DATE.match(line) for line in following)
            and any(_HEADER_SUBJECT.match(line) for line in following))


def _attribution(lines, index):
    """The last line of an attribution beginning here, or None. Mail programs wrap long ones,
    so up to three lines are read as one when they begin like one."""
    joined = ""
    for last in range(index, min(index + _ATTRIBUTION_LINES, len(lines))):
        line = lines[last].strip()
        joined = f"{joined} {line}".strip()
        if not line or len(joined) > 400 or (last > index and not _ATTRIBUTION_START.match(joined)):
            return None
        if _ATTRIBUTION.search(joined):
            evident = _ATTRIBUTION_EVIDENCE.search(joined) or _quote_follows(lines, last)
            return last if evident else None
    return None


def _tidy(lines):
    """Trailing rules, blank lines and "Sent from my phone" lines taken off, leading blank lines
    too, and each run of blank lines made one."""
    while lines and (not lines[-1].strip() or _RULE.fullmatch(lines[-1].strip())
                     or (len(lines[-1]) < 80 and _MOBILE.fullmatch(lines[-1].strip()))):
        lines.pop()
    first = next((index for index, line in enumerate(lines) if line.strip()), len(lines))
    return re.sub(r"\n(?:[ \t]*\n)+", "\n\n", "\n".join(lines[first:]))
