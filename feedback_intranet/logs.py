"""Loggers that never write personal data: free text goes through the masking module and
email addresses are replaced, so an SMTP error naming a customer's mailbox stays anonymous.

One handler writes the app's lines (and the development server's) to standard error, as text
to read or as one JSON object a line for a log store (LOG_FORMAT). It scrubs every line once
more, whatever logger wrote it, what the line passed in `extra` included, and gives each line
written during a request the request's id.
"""

import json
import logging
import re
import sys
import time
import traceback
from urllib.parse import unquote_plus

from flask import g, has_request_context

from .rules.masking import mask

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A request target's query string (its spaces stay percent-encoded in the log).
_QUERY = re.compile(r"\?(\S*)")
# What would end a text line early or hide what follows: control characters, line separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Every record has these; any other attribute came in `extra` and is a field of its JSON line.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
# The development server's own request line ('"GET /inbox HTTP/1.1" 200 -').
_WERKZEUG_REQUEST_LINE = '"%s" %s %s'


def scrub(text):
    return _EMAIL.sub("[email]", mask(text).text)


class PersonalDataFilter(logging.Filter):
    def filter(self, record):
        record.msg, record.args = scrub(record.getMessage()), None
        if record.exc_info:
            # A traceback repeats the error's text: keep it only scrubbed.
            record.exc_text = scrub("".join(traceback.format_exception(*record.exc_info)).rstrip())
            record.exc_info = None
        return True


class RequestLogFilter(PersonalDataFilter):
    """The development server's log. Its request line goes: the app writes one of its own for
    every request (web/request_log.py). Its other lines keep a request's path and the names of
    its query parameters, not their values: "GET /search?q=* HTTP/1.1", never the search term
    or an email address."""

    def filter(self, record):
        if isinstance(record.msg, str) and record.msg.endswith(_WERKZEUG_REQUEST_LINE):
            return False
        super().filter(record)
        record.msg = _QUERY.sub(lambda query: "?" + query_names(query[1]), record.msg)
        return True


def query_names(query):
    """"q=*&page=*": a query string's parameter names, decoded so that the masking sees a card
    number written in one ("4111+1111+…"), and for each value a "*"; a value alone is "*"."""
    parameters = re.split("[&;]", query)
    return "&".join(f"{unquote_plus(name)}=*" if equals else "*"
                    for name, equals, _value in (p.partition("=") for p in parameters))


def get_logger(name, kind=PersonalDataFilter):
    """The logger `name`, scrubbed by one filter of `kind` however often the app is built."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())
    return logger


def _extras(record):
    return {name: value for name, value in vars(record).items()
            if name not in _RECORD_ATTRIBUTES}


def _scrubbed(value):
    if value is None or isinstance(value, bool | float):
        return value
    if isinstance(value, int):
        # 4111111111111111 is a card number as much as its string is.
        scrubbed = scrub(str(value))
        return value if scrubbed == str(value) else scrubbed
    if isinstance(value, dict):
        return {_scrubbed(key): _scrubbed(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrubbed(item) for item in value]
    return scrub(str(value))


class RequestIdFilter(logging.Filter):
    """A line written during a request carries its id; a line outside one (a worker's round)
    carries none, and the request line names its own (the request may be over)."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


class EveryLineFilter(PersonalDataFilter):
    """The message, the traceback, a stack and every field passed in `extra`, whichever logger
    wrote the line (its own filter may have scrubbed the message already)."""

    def filter(self, record):
        super().filter(record)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        for name, value in _extras(record).items():
            # The request id is ours: generated, or a proxy's in a shape that carries nothing.
            if name != "request_id":
                setattr(record, name, _scrubbed(value))
        return True


def _utc(record):
    return (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z")


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601 to the millisecond), level, logger, message,
    request_id, the fields the line passed in `extra`, and any traceback as `exception`. ASCII
    only: no character in a value can split the line for whatever reads it."""

    def format(self, record):
        fields = {"time": _utc(record), "level": record.levelname, "logger": record.name,
                  "message": record.getMessage(), "request_id": record.request_id}
        # A field passed in `extra` never takes the place of one of these.
        fields.update((name, value) for name, value in _extras(record).items()
                      if name not in fields)
        if record.exc_text:
            fields["exception"] = record.exc_text
        if record.stack_info:
            fields["stack"] = record.stack_info
        return json.dumps(fields)


class TextFormatter(logging.Formatter):
    """A line to read: "2026-11-25 10:00:00,123 INFO feedback_intranet.requests: GET /inbox 200
    12.3 ms rid=4bf9… user=7", in local time; a traceback follows on lines of its own."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record):
        line = super().formatMessage(record)
        # Written out, so no text from outside can start a line that seems another. The
        # development server's own lines keep theirs (its banner is in colour, over two lines):
        # what a request brings into them it quotes with repr().
        if record.name != "werkzeug":
            line = _CONTROL.sub(lambda character: ascii(character.group())[1:-1], line)
        if record.request_id:
            line += f" rid={record.request_id}"
        if hasattr(record, "user_id"):
            line += f" user={'-' if record.user_id is None else record.user_id}"
        return line


FORMATTERS = {"json": JsonFormatter, "text": TextFormatter}

# Standard error as the process has it (what gunicorn, the journal or a terminal collects), not
# whatever stands in sys.stderr's place for a while, such as a click test runner's buffer.
HANDLER = logging.StreamHandler(sys.__stderr__)
HANDLER.addFilter(RequestIdFilter())
HANDLER.addFilter(EveryLineFilter())


def install(log_format, level, loggers=("feedback_intranet", "werkzeug")):
    """Write `loggers` (with the loggers below them) through the one handler, in `log_format`,
    from `level` on. Loggers belong to the process, not to an app: the latest call's settings
    hold, and calling again adds no second handler."""
    HANDLER.setFormatter(FORMATTERS[log_format]())
    for name in loggers:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if HANDLER not in logger.handlers:
            logger.addHandler(HANDLER)
