"""HTML drawn once per worker and kept under a key that names everything it shows.

The case page's forms (cases/page_forms.py) and timeline entries (cases/timeline_entries.py),
the rows of my cases and of search results (cases/list_rows.py), and the head and pager of the
inbox's table (inboxes/frame.py) look the same on many pages and views: drawing them again each
time was up to half a page. A key holds the values drawn, never an id alone, so an entry is never
wrong, only unused once what it shows changes; the least recently used make way, and none stays
past an hour: a text erased or masked since leaves a worker's memory as it leaves the inbox
cache. Each worker keeps its own: the release's templates and code do not change under it (a
development server reloading templates keeps drawing what it drew until restarted). (The inbox's
rows live in the inbox cache instead, which Redis may share between workers and hosts:
inboxes/rows.py.)
"""

import threading
import time

import cachetools
from markupsafe import Markup

# As long as the inbox cache keeps its figures (inboxes/cache.py).
KEPT_SECONDS = 3600


class Drawn:
    """At most `chars` characters of HTML (about as many again in the keys, which hold the
    values drawn): a worker stays well within its memory whatever the texts' length."""

    def __init__(self, chars, seconds=KEPT_SECONDS, timer=time.monotonic):
        self._kept = cachetools.TTLCache(maxsize=chars, ttl=seconds, timer=timer, getsizeof=len)
        self._lock = threading.Lock()  # a gthread worker's threads share it

    def get(self, key, draw):
        """The HTML kept under `key`, or `draw()`'s, then kept."""
        with self._lock:
            html = self._kept.get(key)
        if html is None:
            html = Markup(draw())  # nosec B704 - drawn by the templates, which escape
            with self._lock:
                if len(html) <= self._kept.maxsize:
                    self._kept[key] = html
        return html
