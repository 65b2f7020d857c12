"""A web worker sets what it has built aside from the garbage collector once it is warm, so its
full collections stop holding up requests (feedback_intranet/long_lived.py)."""

import gc

import pytest

from feedback_intranet import create_app, long_lived


def _app(after):
    return create_app({"CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "GC_FREEZE_AFTER_REQUESTS": after})


@pytest.fixture
def unfrozen():
    """The test process runs every test: what a test set aside goes back to the collector."""
    assert gc.get_freeze_count() == 0
    yield
    gc.unfreeze()


def _tracked(marker):
    # The permanent generation is not among the collector's generations that get_objects lists.
    return any(candidate is marker for candidate in gc.get_objects())


def test_after_so_many_requests_and_once_the_response_has_gone_the_worker_sets_its_objects_aside(
        unfrozen):
    client = _app(3).test_client()
    kept = {"drawn": ["a row the worker keeps"]}  # a container, so the collector tracks it
    for _ in range(2):
        client.get("/healthz").close()
    assert gc.get_freeze_count() == 0 and _tracked(kept)
    third = client.get("/healthz")
    assert third.status_code == 200
    assert gc.get_freeze_count() == 0  # not while the response is still being sent
    third.close()
    assert gc.get_freeze_count() > 0
    assert not _tracked(kept)  # set aside: no later full collection walks it
    made_later = {"drawn": ["a row drawn afterwards"]}
    client.get("/healthz").close()
    assert _tracked(made_later)


@pytest.mark.parametrize("after, set_aside", [(3, ["after 3 requests"]), (0, [])])
def test_a_worker_sets_its_objects_aside_once_or_with_zero_never(monkeypatch, after, set_aside):
    calls = []
    monkeypatch.setattr(long_lived, "set_aside", calls.append)
    client = _app(after).test_client()
    for _ in range(10):
        client.get("/healthz").close()
    assert calls == set_aside
