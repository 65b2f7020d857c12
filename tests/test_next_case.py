"""On to the next case: the list the user came from (filter and sort) decides which case follows,
by a link on the case page or, for those who opted in, at once after a forward, answer or close."""

import re
from datetime import datetime

import pytest

from feedback_intranet.extensions import db
from feedback_intranet.models import User

from .conftest import HELSINKI
from .test_case_pages import org, post_action  # noqa: F401  (the fixture and the helper)


def at(day, hour=10):
    return datetime(2026, 11, day, hour, 0, tzinfo=HELSINKI)


@pytest.fixture
def cases(org, make_case):  # noqa: F811
    """Four cases in customer service: by due date first to last, by customer the other way."""
    names = ["Öhman", "Lindqvist", "Holm", "Aalto"]
    return [make_case(org[0]["cs"], received_at=at(2 + i), contact_name=name)
            for i, name in enumerate(names)]


def next_link(page):
    match = re.search(r'<a href="([^"]+)" rel="next" class="next-case">', page)
    return match.group(1) if match else None


def follow(client, path):
    response = client.get(path)
    assert response.status_code == 302, response.status_code
    return response.headers["Location"]


def test_without_a_list_there_is_no_next_case(client, login, cases):
    login("cs.agent")
    assert next_link(client.get(f"/cases/{cases[0].reference}").get_data(as_text=True)) is None
    assert follow(client, f"/next-case/{cases[0].reference}") == "/"


def test_next_follows_the_filter_and_sort_the_user_came_from(client, login, cases):
    login("cs.agent")
    client.get("/inbox/cs?sort=customer")
    link = next_link(client.get(f"/cases/{cases[2].reference}").get_data(as_text=True))
    # Holm, then Lindqvist in the customer order.
    assert follow(client, link) == f"/cases/{cases[1].reference}"
    client.get("/inbox/cs?sort=customer&order=desc")
    assert follow(client, link) == f"/cases/{cases[3].reference}"
    client.get("/inbox/cs")  # by due date
    assert follow(client, link) == f"/cases/{cases[3].reference}"
    assert follow(client, f"/next-case/{cases[1].reference}") == f"/cases/{cases[2].reference}"


def test_at_the_end_of_the_list_the_list_itself(client, login, cases):
    login("cs.agent")
    client.get("/inbox/cs?sort=customer&filter=unassigned")
    assert follow(client, f"/next-case/{cases[0].reference}") == (
        "/inbox/cs?filter=unassigned&sort=customer")
    assert "No more cases in this list." in client.get("/inbox/cs").get_data(as_text=True)


def test_a_forwarded_case_keeps_its_place_and_the_link_leads_on(client, login, org, cases):  # noqa: F811
    units, _people = org
    login("cs.agent")
    client.get("/inbox/cs")
    response = post_action(client, cases[1], "forward", unit=str(units["helsinki"].id),
                           note="Kotikonttori hoitaa.")
    assert response.headers["Location"] == f"/cases/{cases[1].reference}"
    page = client.get(f"/cases/{cases[1].reference}").get_data(as_text=True)
    assert follow(client, next_link(page)) == f"/cases/{cases[2].reference}"


def test_who_opted_in_moves_on_at_once(client, login, org, cases):  # noqa: F811
    units, people = org
    login("cs.agent")
    page = client.get("/profile").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    client.post("/profile", data={"language": "en", "open_next_case": "y",
                                  **({"csrf_token": token.group(1)} if token else {})})
    assert db.session.get(User, people["cs.agent"].id).open_next_case
    client.get("/inbox/cs")
    response = post_action(client, cases[0], "forward", unit=str(units["helsinki"].id),
                           note="Kotikonttori hoitaa.")
    assert response.headers["Location"] == f"/next-case/{cases[0].reference}"
    assert follow(client, response.headers["Location"]) == f"/cases/{cases[1].reference}"
    # A note is not the end of the work on a case: the page stays.
    response = post_action(client, cases[1], "note", text="Soitan huomenna.")
    assert response.headers["Location"] == f"/cases/{cases[1].reference}"


def test_next_is_refused_for_a_case_or_a_list_the_user_may_not_see(
        client, login, org, cases, make_case):  # noqa: F811
    units, _people = org
    theirs = make_case(units["turku"])
    login("cs.agent")
    client.get("/inbox/cs")
    assert client.get(f"/next-case/{theirs.reference}").status_code == 404
    assert client.get("/next-case/FB-2026-999999").status_code == 404
    client.post("/logout")
    # A list remembered in a session that has since moved to another user's units.
    login("branch.staff")
    with client.session_transaction() as session:
        session["inbox_list"] = {"unit": "cs"}
    assert client.get(f"/next-case/{cases[0].reference}").status_code == 404
