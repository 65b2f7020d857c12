"""What a web worker keeps for its life, set aside from the garbage collector once it is built.

Python's full collection walks every object the worker holds, and the request it falls in waits
for it. A WSGI worker sets aside what the app built at start (wsgi.py). It builds as much again in
its first requests: the modules and templates each page needs, compiled statements, the drawn rows
and headers. With only the start set aside, full collections in the mixed run at a million cases
still took up to 140 ms, 1.8 s in all in a minute (bench/results.md). After
GC_FREEZE_AFTER_REQUESTS requests, once that request's response has gone, the worker sets aside
what it holds again: later full collections walk only what came after, 7-35 ms each.

Objects set aside are still freed when nothing refers to them; only a cycle among them would stay.
At that moment a sync worker holds nothing of a request; a threaded worker may hold another
request's objects, which then stay, once.
"""

import gc
import itertools
import logging
import os

log = logging.getLogger(__name__)


def set_aside(when):
    """Collect, then move every object left into the permanent generation (`gc.freeze`)."""
    gc.collect()
    gc.freeze()
    log.info("Worker %s set aside %d long-lived objects from the garbage collector %s",
             os.getpid(), gc.get_freeze_count(), when)


def register(app):
    """With GC_FREEZE_AFTER_REQUESTS set, a worker sets its objects aside after that many
    requests: counted per process, so each forked worker does it once for itself."""
    after = app.config.get("GC_FREEZE_AFTER_REQUESTS")
    if not after:
        return
    served = itertools.count(1)  # next() of a count is atomic: threaded workers count right

    @app.after_request
    def set_aside_once_warm(response):
        if next(served) == after:
            # Closed once the body has gone (a CSV export's too): the user never waits for it.
            response.call_on_close(lambda: set_aside(f"after {after} requests"))
        return response
