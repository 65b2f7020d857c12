"""The public form keeps what people type: the language switch, the error summary, required
marks, the topic choice, service numbers, the bank's promise and addresses abroad."""

import re

import pytest
import sqlalchemy as sa
from flask import json

from config import ConfigurationError, _hours
from feedback_intranet.extensions import db
from feedback_intranet.models import Case, Language, OutboxMessage, User

from .conftest import said
from .test_intake import count_cases, form, only_case

TYPED = ("Aino Virtanen", "Bulevardi 1", "Konttorin jono oli tunnin mittainen.",
         "aino.virtanen@example.fi", "040 123 4567")


def switch(client, bank, to, **changes):
    """Press a language button of the form as it stands."""
    return client.post(f"/feedback?lang={to}", data={**form(bank, **changes), "switch_language": to})


def selected(page, name):
    """The chosen value of a select or a group of radio buttons."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    if select:
        return re.search(r'<option selected value="([^"]*)"', select.group(1)).group(1)
    return re.search(rf'<input checked[^>]*name="{name}"[^>]*value="([^"]*)"', page).group(1)


def test_switching_language_keeps_everything_typed_and_chosen(client, bank):
    response = switch(client, bank, "sv", case_type="question", reply_channel="letter",
                      segment="business", country="SE", postal_code="123 45")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="sv">' in page and "Ge respons" in page
    for typed in TYPED:
        assert typed in page
    assert "Konttorin jono oli tunnin mittainen.</textarea>" in page
    assert selected(page, "topic") == str(bank["topics"]["branch"].id)
    assert selected(page, "case_type") == "question"
    assert selected(page, "reply_channel") == "letter"
    assert selected(page, "segment") == "business"
    assert selected(page, "country") == "SE"
    assert '<option selected value="SE">Sverige</option>' in page


def test_a_switch_saves_nothing_checks_nothing_and_sends_nothing(client, bank):
    # Half filled in: a submit would be refused at several fields.
    page = switch(client, bank, "fi", name="", email="bad", topic="").get_data(as_text=True)
    assert count_cases() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert "data-error-summary" not in page and 'class="error"' not in page
    assert 'aria-invalid' not in page
    assert 'value="bad"' in page


def test_a_switch_does_not_count_against_the_limit_of_posts(app, client, bank):
    app.config["FEEDBACK_RATE_LIMIT"] = "2 per minute"
    for language in ("sv", "en", "fi", "sv", "en"):
        assert switch(client, bank, language).status_code == 200
    for n in range(2):
        assert client.post("/feedback", data=form(bank, submission_token=f"t{n}")).status_code == 302
    assert client.post("/feedback", data=form(bank, submission_token="t3")).status_code == 429
    # Once the limit is reached, switching still works: the customer's text is not lost.
    assert switch(client, bank, "sv").status_code == 200
    assert count_cases() == 2


def test_what_was_typed_is_never_kept_in_the_session_or_a_cookie(client, bank):
    response = switch(client, bank, "sv")
    set_cookies = " ".join(response.headers.getlist("Set-Cookie"))
    with client.session_transaction() as session:
        stored = json.dumps(dict(session))
    assert set(dict(session)) <= {"public_language", "csrf_token", "_fresh", "_permanent"}
    for typed in (*TYPED, "+358401234567", "Bulevardi"):
        assert typed not in stored and typed not in set_cookies
    assert dict(session)["public_language"] == "sv"


def test_the_submission_token_survives_a_switch_and_makes_one_case(client, bank):
    data = form(bank, submission_token="keep-me")
    page = switch(client, bank, "sv", submission_token="keep-me").get_data(as_text=True)
    assert f'name="submission_token" type="hidden" value="{data["submission_token"]}"' in page
    first = client.post("/feedback", data=data)
    again = client.post("/feedback", data=data)
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count_cases() == 1


def test_the_answer_language_follows_the_switch_unless_the_customer_chose_another(client, bank):
    page = client.get("/feedback?lang=fi").get_data(as_text=True)
    assert selected(page, "language") == "fi"
    # Left as the page had it: it follows.
    page = switch(client, bank, "sv", language="fi", shown_language="fi").get_data(as_text=True)
    assert selected(page, "language") == "sv"
    assert 'name="shown_language" type="hidden" value="sv"' in page
    # Chosen otherwise: it stays.
    page = switch(client, bank, "en", language="fi", shown_language="sv").get_data(as_text=True)
    assert selected(page, "language") == "fi"


def test_the_language_buttons_post_the_form_and_mark_the_current_language(client, bank):
    page = client.get("/feedback?lang=sv").get_data(as_text=True)
    for code in ("fi", "sv", "en"):
        button = re.search(rf'<button type="submit" form="feedback-form" '
                           rf'formaction="/feedback\?lang={code}" name="switch_language" '
                           rf'value="{code}"[^>]*>', page)
        assert button, code
        assert ('aria-current="true"' in button.group(0)) == (code == "sv")
        assert ("current" in button.group(0).split("class=")[1]) == (code == "sv")
    # Enter in a field sends the feedback: the first submit button of the form is not a language.
    first = re.search(r'<button type="submit" form="feedback-form"[^>]*>', page).group(0)
    assert 'class="default-submit"' in first and "switch_language" not in first
    assert page.index('class="default-submit"') < page.index('name="switch_language"')


def test_the_thank_you_page_keeps_plain_language_links_with_the_current_one_marked(client, bank):
    response = client.post("/feedback?lang=sv", data=form(bank))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert '<a href="?lang=sv" lang="sv" hreflang="sv" class="current" aria-current="true">' in page
    assert '<a href="?lang=fi" lang="fi" hreflang="fi">' in page


def test_a_refused_submit_opens_with_a_summary_that_counts_and_links_the_fields(client, bank):
    response = client.post("/feedback", data=form(bank, name="", email="aino@", topic="",
                                                  reply_channel=None))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    summary = re.search(r'<div class="error-summary"(.*?)</div>', page, re.S).group(0)
    assert 'tabindex="-1"' in summary and "data-error-summary" in summary
    assert "4 fields need attention" in summary
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    assert [target for target, _ in links] == ["topic", "reply_channel-0", "name", "email"]
    assert ("topic", "Topic: Choose a topic.") in links
    assert ("name", "Name: Required when you want an answer.") in links
    # Above the notices, right under the heading: on the first screen of a phone.
    assert page.index("</h1>") < page.index("error-summary") < page.index('class="notice"')
    assert "<title>Error: Give feedback" in page
    assert 'src="/static/js/error-summary.js"' in page
    for target, _ in links:
        assert f'id="{target}"' in page


def test_one_field_is_counted_once_in_the_summary(client, bank):
    page = client.post("/feedback", data=form(bank, email="")).get_data(as_text=True)
    assert "1 field needs attention" in page
    page = client.post("/feedback?lang=fi", data=form(bank, email="", phone="")).get_data(
        as_text=True)
    assert "2 kenttää vaatii huomiota" in page


def test_required_fields_are_marked_for_everyone(client, bank):
    page = client.get("/feedback").get_data(as_text=True)
    assert re.search(r'<label for="topic">Topic <span class="required">\(required\)</span>', page)
    assert re.search(r'<label for="message">Your feedback <span class="required">\(required\)',
                     page)
    for name, label in (("name", "Name"), ("street", "Street address"),
                        ("postal_code", "Postal code"), ("city", "City"), ("phone", "Phone"),
                        ("email", "Email")):
        assert (f'<label for="{name}">{label} <span class="required">(required for an answer)'
                '</span>') in page
        assert re.search(rf'<input aria-required="true"[^>]*id="{name}"', page)
    assert re.search(r'<legend>Answer me by <span class="required">\(required for an answer\)',
                     page)
    assert re.search(r'<input[^>]*id="reply_channel-0"[^>]*required', page)
    # Next to the answer choice: what an answer needs.
    answer = page.split('<legend>I want an answer</legend>')[1].split("</fieldset>")[0]
    assert "If you want an answer, choose how you want it and give your name, address" in answer
    assert 'aria-describedby="reply_wanted-hint"' in page


def test_without_an_answer_the_contact_fields_are_not_required_now(client, bank):
    page = client.post("/feedback", data=form(bank, reply_wanted="no", message="")).get_data(
        as_text=True)
    assert re.search(r'<input aria-required="false"[^>]*id="name"', page)
    assert not re.search(r'<input[^>]*id="reply_channel-0"[^>]*required', page)


def test_the_topic_starts_at_choose_a_topic(client, bank):
    page = client.get("/feedback").get_data(as_text=True)
    options = re.search(r'<select[^>]*name="topic"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert options.strip().startswith('<option selected value="">Choose a topic</option>')
    page = client.get("/feedback?lang=fi").get_data(as_text=True)
    assert '<option selected value="">Valitse aihe</option>' in page


def test_without_a_topic_nothing_is_filed(client, bank):
    page = client.post("/feedback", data=form(bank, topic="")).get_data(as_text=True)
    assert 'id="topic-error">Choose a topic.' in page
    assert count_cases() == 0


def test_the_urgent_notice_takes_numbers_and_hours_from_the_configuration(app, client, bank):
    app.config.update(SERVICE_PHONE_PRIVATE="09 123 4567", SERVICE_HOURS_PRIVATE="9–16.30",
                      SERVICE_PHONE_BUSINESS="010 555 0000", SERVICE_HOURS_BUSINESS="8–17")
    page = " ".join(client.get("/feedback?lang=fi").get_data(as_text=True).split())
    assert ('Yksityisasiakkaat: soita asiakaspalveluun numeroon '
            '<a href="tel:+35891234567" class="phone">09 123 4567</a>, arkisin klo '
            '<span class="hours">9–16.30</span>.') in page
    assert ('<a href="tel:+358105550000" class="phone">010 555 0000</a>, arkisin klo '
            '<span class="hours">8–17</span>.') in page
    page = " ".join(client.get("/feedback?lang=sv").get_data(as_text=True).split())
    assert 'vardagar kl. <span class="hours">9–16.30</span>' in page


@pytest.mark.parametrize(("text", "shown"), [("8-20", "8–20"), ("8:30-16", "8.30–16"),
                                             ("08.00 – 18", "8–18")])
def test_service_hours_are_written_as_the_page_shows_them(monkeypatch, text, shown):
    monkeypatch.setenv("SERVICE_HOURS_TEST", text)
    assert _hours("SERVICE_HOURS_TEST", "8-20") == shown


@pytest.mark.parametrize("text", ["8", "20-8", "8-25", "eight to six"])
def test_wrong_service_hours_stop_the_start_with_a_clear_message(monkeypatch, text):
    monkeypatch.setenv("SERVICE_HOURS_TEST", text)
    with pytest.raises(ConfigurationError, match="SERVICE_HOURS_TEST"):
        _hours("SERVICE_HOURS_TEST", "8-20")


@pytest.mark.parametrize(("language", "promise"), [
    ("en", "We aim to answer your feedback within 3 banking days, that is by 30.11.2026."),
    ("fi", "Pyrimme vastaamaan palautteeseesi 3 pankkipäivän kuluessa eli 30.11.2026 mennessä."),
    ("sv", "Vi strävar efter att svara på din kundrespons inom 3 bankdagar, alltså senast 30.11.2026."),
])
def test_the_page_and_the_email_make_the_banks_promise_in_the_same_words(
        client, bank, language, promise):
    response = client.post(f"/feedback?lang={language}", data=form(bank, language=language))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    page = " ".join(re.sub(r"</?strong>", "", page).split())
    [email] = db.session.scalars(sa.select(OutboxMessage)).all()
    assert promise in page
    assert promise in " ".join(email.body_text.split())


COUNTRY_CODES = [
    ("FI", "00120", "00120"),
    ("SE", "12345", "123 45"),
    ("SE", "123 45", "123 45"),
    ("DE", "10115", "10115"),
    ("GB", "sw1a1aa", "SW1A 1AA"),
    ("GB", "M1 1AE", "M1 1AE"),
    ("US", "12345", "12345"),
    ("US", "12345-6789", "12345-6789"),
    ("NO", "0150", "0150"),
    ("DK", "1050", "1050"),
    ("EE", "10111", "10111"),
    ("JP", "100-0001", "100-0001"),  # not in the table: any reasonable code
]


@pytest.mark.parametrize(("country", "typed", "stored"), COUNTRY_CODES)
def test_an_address_abroad_is_kept_with_its_country_and_its_own_postal_code(
        client, bank, country, typed, stored):
    response = client.post("/feedback", data=form(bank, country=country, postal_code=typed))
    assert response.status_code == 302
    case = only_case()
    assert (case.contact_country, case.contact_postal_code) == (country, stored)


@pytest.mark.parametrize(("country", "typed", "message"), [
    ("FI", "123 45", "A Finnish postal code has five digits, e.g. 00100."),
    ("SE", "1234", "Check the postal code. Example (Sweden): 123 45."),
    ("GB", "12345", "Check the postal code. Example (United Kingdom): SW1A 1AA."),
    ("US", "1234", "Check the postal code. Example (United States): 12345."),
    ("NO", "01500", "Check the postal code. Example (Norway): 0150."),
    ("JP", "<script>", "Check the postal code: use the letters and digits"),
])
def test_a_postal_code_in_the_wrong_format_is_refused_at_the_field(
        client, bank, country, typed, message):
    page = client.post("/feedback", data=form(bank, country=country, postal_code=typed)).get_data(
        as_text=True)
    assert re.search(r'id="postal_code-error">' + re.escape(message), page.replace("&#39;", "'"))
    assert count_cases() == 0


def test_the_postal_code_message_names_the_country_in_the_page_language(client, bank):
    page = client.post("/feedback?lang=fi", data=form(bank, country="SE", postal_code="1")
                       ).get_data(as_text=True)
    assert 'id="postal_code-error">Tarkista postinumero. Esimerkki (Ruotsi): 123 45.' in page


def test_a_country_not_in_the_list_is_refused(client, bank):
    page = client.post("/feedback", data=form(bank, country="XX")).get_data(as_text=True)
    assert 'id="country-error">Choose a country from the list.' in page
    assert count_cases() == 0


def test_hong_kong_needs_no_postal_code_for_an_answer(client, bank):
    response = client.post("/feedback", data=form(bank, country="HK", postal_code=""))
    assert response.status_code == 302
    assert only_case().contact_country == "HK"


def test_the_country_list_speaks_the_page_language_and_starts_at_finland(client, bank):
    page = client.get("/feedback?lang=fi").get_data(as_text=True)
    assert '<option selected value="FI">Suomi</option>' in page
    assert '<option value="SE">Ruotsi</option>' in page
    page = client.get("/feedback?lang=sv").get_data(as_text=True)
    assert '<option selected value="FI">Finland</option>' in page
    # Å, Ä and Ö come after Z in Swedish.
    assert page.index(">Zimbabwe<") < page.index(">Åland<") < page.index(">Österrike<")


def test_a_code_abroad_is_not_matched_against_the_finnish_register(client, bank):
    customer = bank["customers"][0]
    client.post("/feedback", data=form(bank, name=customer.name, email="", phone="",
                                       reply_channel="letter", reply_wanted="no",
                                       country="DE", postal_code=customer.postal_code))
    assert only_case().customer_id is None


def test_the_case_page_shows_the_country_of_an_address_abroad(client, bank, make_user, login):
    client.post("/feedback", data=form(bank, country="SE", postal_code="11122", city="Stockholm"))
    agent = make_user("cs.agent", units=[bank["units"]["cs"]])
    agent.language = Language.FI
    db.session.commit()
    login("cs.agent")
    case = only_case()
    page = client.get(f"/cases/{case.reference}").get_data(as_text=True)
    assert "Bulevardi 1, 111 22 Stockholm, Ruotsi" in page


def test_staff_correct_an_address_abroad_in_its_own_format(client, bank, make_user, login):
    client.post("/feedback", data=form(bank, country="SE", postal_code="11122"))
    case = only_case()
    make_user("cs.agent", units=[bank["units"]["cs"]])
    login("cs.agent")
    page = client.get(f"/cases/{case.reference}/correct").get_data(as_text=True)
    assert '<option selected value="SE">Sweden</option>' in page
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    data = {"contact_name": "Aino Virtanen", "contact_street": "Bulevardi 1",
            "contact_postal_code": "111 22", "contact_city": "Stockholm",
            "contact_country": "SE", "contact_phone": "040 123 4567",
            "contact_email": "aino.v@example.fi", "topic_id": str(case.topic_id),
            "case_type": "complaint", "segment": "private", "version": str(case.version),
            "token": token}
    bad = client.post(f"/cases/{case.reference}/correct", data={**data, "contact_country": "FI"})
    assert "A Finnish postal code has five digits" in bad.get_data(as_text=True)
    assert client.post(f"/cases/{case.reference}/correct", data={
        **data, "contact_country": "NO", "contact_postal_code": "0150"}).status_code == 302
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert (case.contact_country, case.contact_postal_code) == ("NO", "0150")
    assert "Country: Sweden → Norway" in said(case.events[-1])
    assert "Maa: Ruotsi → Norja" in said(case.events[-1], "fi")


def test_a_new_users_form_says_the_password_is_required(client, make_user, login, units):
    make_user("admin", is_admin=True)
    login("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert "Leave empty to keep the current password" not in page
    assert re.search(r'<label for="password">Password <span class="required">\(required\)', page)
    assert re.search(r'<input[^>]*aria-required="true"[^>]*id="password"[^>]*required', page)
    # Refused at the field on the first submit, with the other fields' problems.
    response = client.post("/admin/users/new", data={
        "username": "new.person", "full_name": "", "email": "new@bank.example",
        "password": "", "language": "fi", "active": "y"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="password-error">A new user needs a password.' in page
    assert 'id="full_name-error">' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_editing_a_user_still_keeps_the_password_when_left_empty(client, make_user, login, units):
    make_user("admin", is_admin=True)
    other = make_user("other.person")
    login("admin")
    page = client.get(f"/admin/users/{other.id}").get_data(as_text=True)
    assert "Leave empty to keep the current password." in page
    assert not re.search(r'<label for="password">Password <span class="required">', page)
