"""Loggers that never write personal data: free text goes through the masking module and
email addresses are replaced, so an SMTP error naming a customer's mailbox stays anonymous."""

import logging
import re
import traceback

from .rules.masking import mask

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# A request target's query string (its spaces stay percent-encoded in the log), and each of
# its parameters: a name with its value, or a value alone.
_QUERY = re.compile(r"\?\S*")
_PARAMETER = re.compile(r"(?<=[?&;])(?:([^&;=]*)=)?[^&;]*")


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
    """A request log line keeps its path and the names of its query parameters, not their values:
    "GET /search?q=* HTTP/1.1", never the search term or an email address."""

    def filter(self, record):
        super().filter(record)
        record.msg = _QUERY.sub(lambda query: _PARAMETER.sub(_name_only, query.group()), record.msg)
        return True


def _name_only(parameter):
    return "*" if parameter[1] is None else f"{parameter[1]}=*"


def get_logger(name, kind=PersonalDataFilter):
    """The logger `name`, scrubbed by one filter of `kind` however often the app is built."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, kind) for f in logger.filters):
        logger.addFilter(kind())
    return logger
