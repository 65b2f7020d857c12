"""The case page's action forms: built only when used, and a row's or a panel's fields drawn once
per worker for what they show (cases/page_forms.py), never showing another case's, unit's or
language's, nor a refused form's errors on a fresh page."""

import re
from dataclasses import replace
from datetime import timedelta

import pytest

from feedback_intranet.cases import page_forms, queries
from feedback_intranet.cases.actions import ACTIONS, available
from feedback_intranet.extensions import db
from feedback_intranet.models import ReplyTemplate, UnitKind

from .conftest import record_drawn
from .test_case_pages import post_action


@pytest.fixture
def org(make_unit, make_user):
    units = {
        "cs": make_unit(code="cs", name="Customer service", kind=UnitKind.CUSTOMER_SERVICE),
        "turku": make_unit(code="turku", name="Turku"),
    }
    people = {
        "cs.agent": make_user("cs.agent", units=[units["cs"]]),
        "cs.lead": make_user("cs.lead", lead_of=[units["cs"]]),
    }
    return units, people


@pytest.fixture
def case(org, make_case):
    return make_case(org[0]["cs"])


@pytest.fixture
def drawn(monkeypatch):
    """The actions whose fields were drawn (not taken from the worker's cache), in order."""
    return record_drawn(monkeypatch, page_forms)


def page(client, case, **args):
    return client.get(f"/cases/{case.reference}", query_string=args).get_data(as_text=True)


def form_html(text, action):
    return re.search(rf'<form method="post" action="/cases/[^"]+/{action}".*?</form>', text,
                     re.S)[0]


def without_tokens(text):
    return re.sub(r'(name="[a-z_]+-token" type="hidden" value=")[^"]*', r"\1…", text)


def test_cases_that_show_the_same_share_the_drawn_fields(client, login, org, make_case, drawn):
    units, _ = org
    first, second = make_case(units["cs"]), make_case(units["cs"])
    login("cs.agent")
    one = page(client, first)
    assert drawn == ["answer", "forward", "interim_notice", "note", "close", "duplicate"]
    drawn.clear()
    other = page(client, second)
    # The interim notice's default text names the case: the only fields drawn again.
    assert drawn == ["interim_notice"]
    for action in ("forward", "note", "close", "duplicate"):
        assert without_tokens(form_html(one, action)).replace(first.reference, "REF") \
            == without_tokens(form_html(other, action)).replace(second.reference, "REF")
    assert first.reference in form_html(one, "interim_notice")
    assert second.reference in form_html(other, "interim_notice")


def test_every_form_on_the_page_has_a_token_of_its_own(client, login, org, case):
    login("cs.agent")
    text = page(client, case)
    tokens = re.findall(r'name="([a-z_]+)-token" type="hidden" value="([^"]+)"', text)
    assert {action for action, _ in tokens} >= {"take", "forward", "note", "close", "answer"}
    assert len({token for _, token in tokens}) == len(tokens)
    again = dict(re.findall(r'name="([a-z_]+)-token" type="hidden" value="([^"]+)"',
                            page(client, case)))
    assert not set(again.values()) & {token for _, token in tokens}
    # Each still acts, once.
    assert post_action(client, case, "note", page=text, text="Ensimmäinen.").status_code == 302
    assert post_action(client, case, "take", page=text).status_code == 302


@pytest.mark.parametrize("csrf", [True, False, "xsrf_token"])
def test_an_unbuilt_form_writes_the_hidden_fields_of_a_built_one(app, org, case, csrf):
    app.config["WTF_CSRF_ENABLED"] = bool(csrf)
    if isinstance(csrf, str):
        app.config["WTF_CSRF_FIELD_NAME"] = csrf
    try:
        with app.test_request_context("/"):
            shown = queries.case_by_reference(case.reference)
            forms = page_forms.PageForms(shown, [ACTIONS["note"], ACTIONS["take"]])
            unbuilt = str(forms.hidden_fields_of("note"))
            built = forms["take"]
            token = re.search(r'name="note-token" type="hidden" value="([^"]+)"', unbuilt)[1]
            built.token.data = token
            assert unbuilt == str(built.hidden_fields()).replace("take-", "note-")
            assert f'value="{case.version}"' in unbuilt
            if isinstance(csrf, str):
                assert 'name="note-xsrf_token"' in unbuilt
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
        app.config.pop("WTF_CSRF_FIELD_NAME", None)


def test_a_page_builds_only_the_forms_it_uses(app, org, case, drawn):
    with app.test_request_context("/"):
        shown = queries.case_by_reference(case.reference)
        offered = available(org[1]["cs.agent"], shown)
        forms = page_forms.PageForms(shown, offered)
        assert "note" in forms and "take" in forms and "assign" not in forms
        forms.hidden_fields_of("take")
        forms.fields_of(ACTIONS["note"])
        assert set(forms._forms) == {"note"}  # drawn once, so built once
        again = page_forms.PageForms(shown, offered)
        assert again.fields_of(ACTIONS["note"]) == forms.fields_of(ACTIONS["note"])
        assert again._forms == {}
        with pytest.raises(KeyError):
            forms["assign"]  # not offered: undefined in the template


def test_a_renamed_unit_and_another_language_are_drawn_anew(client, login, org, case, drawn):
    units, people = org
    login("cs.agent")
    assert "Turku</option>" in form_html(page(client, case), "forward")
    units["turku"].name = units["turku"].name_sv = units["turku"].name_fi = "Åbo"
    db.session.commit()
    forward = form_html(page(client, case), "forward")
    assert "Åbo</option>" in forward and "Turku</option>" not in forward
    people["cs.agent"].language = "fi"
    db.session.commit()
    note = form_html(page(client, case), "note")
    assert "Sisäinen muistiinpano" in note and "Internal note" not in note


def test_the_members_to_assign_to_follow_the_unit(client, login, org, case, make_user):
    units, _ = org
    login("cs.lead")
    assert "New Member" not in form_html(page(client, case), "assign")
    make_user("cs.new", units=[units["cs"]], full_name="New Member")
    assert "New Member" in form_html(page(client, case), "assign")


def test_a_refused_forms_errors_are_not_kept_for_the_next_page(client, login, org, case, drawn):
    login("cs.agent")
    page(client, case)
    # To its own unit: refused, with what was typed kept.
    refused = post_action(client, case, "forward", unit=str(org[0]["cs"].id),
                          note="Tämä jää vain tälle sivulle")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 200 and "Tämä jää vain tälle sivulle" in text
    assert "<details open><summary>Forward to another unit" in text
    empty = post_action(client, case, "forward", unit=str(org[0]["turku"].id), note="")
    assert 'id="forward-note-error"' in empty.get_data(as_text=True)
    fresh = page(client, case)
    assert 'id="forward-note-error"' not in fresh and "Tämä jää vain" not in fresh
    assert "<details open>" not in fresh


def test_the_interim_notice_estimate_follows_the_day(client, login, org, case, clock, drawn):
    login("cs.agent")
    before = form_html(page(client, case), "interim_notice")
    clock.advance(timedelta(days=1))
    after = form_html(page(client, case), "interim_notice")
    estimate = r'name="interim_notice-estimate"[^>]* value="([^"]+)"'
    assert re.search(estimate, before)[1] != re.search(estimate, after)[1]


def test_the_answer_composer_is_drawn_for_what_it_offers(client, login, org, make_case, drawn):
    units, _ = org
    first, second = make_case(units["cs"]), make_case(units["cs"])
    login("cs.agent")
    page(client, first)
    assert "answer" in drawn
    drawn.clear()
    page(client, second)
    assert "answer" not in drawn
    # No email address: email cannot be used, and the composer says so.
    second.contact_email = ""
    db.session.commit()
    composer = form_html(page(client, second), "answer")
    assert "answer" in drawn
    assert re.search(r'<input[^>]*disabled[^>]*value="email"', composer)
    assert "not possible" in composer
    assert not re.search(r'<input[^>]*disabled[^>]*value="email"', form_html(page(client, first),
                                                                               "answer"))


def test_a_complaint_asks_whether_the_answer_is_final(client, login, org, make_case):
    units, _ = org
    feedback, complaint = make_case(units["cs"]), make_case(units["cs"])
    complaint.case_type = "complaint"
    db.session.commit()
    login("cs.agent")
    assert 'name="answer-final" value="y"' in form_html(page(client, feedback), "answer")
    composer = form_html(page(client, complaint), "answer")
    assert 'type="checkbox"' in composer and 'name="answer-final" value="y"' not in composer


def test_a_template_fills_the_answer_of_that_page_only(client, login, org, case):
    template = ReplyTemplate(title="Kiitos", body="Kiitos palautteestasi.", language="fi")
    db.session.add(template)
    db.session.commit()
    login("cs.agent")
    assert "Kiitos palautteestasi." in form_html(page(client, case, template=template.id),
                                                 "answer")
    assert "Kiitos palautteestasi." not in form_html(page(client, case), "answer")


def test_a_form_refused_as_changed_carries_the_version_now(app, org, case, make_user):
    """Told the case changed, the user looks and sends again from the same form: it carries the
    version shown now, so it acts (the first post's version was the older one)."""
    units, people = org
    make_user("cs.lead2", lead_of=[units["cs"]])
    first, second = app.test_client(), app.test_client()
    for client, user in ((first, "cs.lead"), (second, "cs.lead2")):
        client.post("/login", data={"username": user, "password": "correct horse battery"})
    page_1 = page(first, case)
    page_2 = page(second, case)
    make_user("cs.other", units=[units["cs"]])
    assert post_action(first, case, "take", page=page_1).status_code == 302
    refused = post_action(second, case, "assign", page=page_2,
                          member=str(people["cs.agent"].id)).get_data(as_text=True)
    assert "This case changed since you opened it" in refused
    db.session.expire_all()
    version = re.search(r'name="assign-version" type="hidden" value="([^"]*)"', refused)[1]
    assert version == str(case.version)
    assert post_action(second, case, "assign", page=refused,
                       member=str(people["cs.agent"].id)).status_code == 302


def test_a_form_that_cannot_be_built_is_not_taken_for_one_not_offered(app, org, case):
    """The template reads a missing form as undefined: a failure while building one must not
    pass for that."""

    def broken(case):
        raise KeyError("unit")

    with app.test_request_context("/"):
        shown = queries.case_by_reference(case.reference)
        forms = page_forms.PageForms(shown, [replace(ACTIONS["forward"], shows=broken)])
        with pytest.raises(KeyError):
            forms["assign"]
        with pytest.raises(RuntimeError):
            forms["forward"]


def test_a_chosen_template_costs_no_statement_more(client, login, org, case):
    """The template list and the chosen template are one read of the templates."""
    template = ReplyTemplate(title="Kiitos", body="Kiitos palautteestasi.", language="fi")
    db.session.add(template)
    db.session.commit()
    login("cs.agent")
    plain = client.get(f"/cases/{case.reference}")
    chosen = client.get(f"/cases/{case.reference}", query_string={"template": template.id})
    assert "Kiitos palautteestasi." in chosen.get_data(as_text=True)
    assert chosen.headers["X-Query-Count"] == plain.headers["X-Query-Count"]
