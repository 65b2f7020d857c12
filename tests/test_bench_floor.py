"""The bench's floor pages (bench/floor.py): `bench/run.py --floor` compares every staff page with
them, so they must cost what a real page costs before it reads a case, no more and no less: the
signed-in user and, for the layout, the very header a real page draws."""

import re

import pytest

from bench.floor import add_floor_pages

pytestmark = pytest.mark.committed  # a fresh app, which may still take the floor's routes


@pytest.fixture
def floor(app, client, service_team):
    add_floor_pages(app)
    return client


def header(page):
    """The page's header, its form token left out: signed with the second it was made in."""
    drawn = re.search(r"<header.*?</header>", page.get_data(as_text=True), re.S)[0]
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', drawn)


def test_signed_out_the_floor_pages_send_to_the_sign_in_as_every_staff_page_does(floor):
    for path in ("/bench-floor/signed-in", "/bench-floor/layout"):
        reply = floor.get(path)
        assert reply.status_code == 302
        assert "/login" in reply.headers["Location"]


def test_signed_in_they_load_the_user_and_draw_a_real_pages_layout(floor, login):
    assert login("cs.agent").status_code == 302

    signed_in = floor.get("/bench-floor/signed-in")
    assert signed_in.status_code == 200
    assert signed_in.get_data(as_text=True) == "Cs Agent"

    layout, real = floor.get("/bench-floor/layout"), floor.get("/my-cases")
    assert layout.status_code == real.status_code == 200
    assert "Cs Agent" in header(layout)
    assert header(layout) == header(real)
    assert '<main id="main">' in layout.get_data(as_text=True)
