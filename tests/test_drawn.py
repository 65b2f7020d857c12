"""web/drawn.py: HTML drawn once per key, within a budget of characters, least recently used
first out, none kept past its time."""

from markupsafe import Markup

from feedback_intranet.web.drawn import Drawn


def test_drawn_once_per_key_and_kept_within_its_budget():
    drawn = []
    kept = Drawn(chars=25)

    def get(key, html):
        return kept.get(key, lambda: drawn.append(key) or html)

    assert get("a", "<p>aaaa</p>") == Markup("<p>aaaa</p>")  # 11 characters
    assert isinstance(get("a", "ignored"), Markup)
    get("b", "<p>bbbb</p>")
    get("a", "")  # a is used again: b is now the least recently used
    get("c", "<p>cccc</p>")  # 33 > 25: b makes way
    assert drawn == ["a", "b", "c"]
    get("a", "")
    get("b", "<p>bbbb</p>")
    assert drawn == ["a", "b", "c", "b"]
    # Larger than the whole budget: drawn each time, never kept.
    get("big", "x" * 26)
    get("big", "x" * 26)
    assert drawn[-2:] == ["big", "big"]


def test_nothing_is_kept_past_its_time():
    """An erased or masked text leaves the worker's memory within the hour."""
    now = [0.0]
    drawn = []
    kept = Drawn(chars=100, seconds=3600, timer=lambda: now[0])
    for moment in (0, 3599, 3601):
        now[0] = moment
        kept.get("a", lambda moment=moment: drawn.append(moment) or "<p>a</p>")
    assert drawn == [0, 3601]
