"""The mission's story in a real browser: a Swedish customer's feedback travels from the public
form through customer service and a branch to an answer by email; calls, letters, an interim
notice and a refused URL; and the pages pass axe's accessibility checks."""

import re
import time
from datetime import date
from email.header import decode_header, make_header

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from feedback_intranet.rules.banking_days import BankingCalendar

# The live server, its outbox thread and the browser see only what is committed (on a database of
# their own, see conftest.live_app).
pytestmark = [pytest.mark.e2e, pytest.mark.committed]
IBAN = "FI21 1234 5600 0007 85"


def give_feedback(page, channel="email", message="Hej! Min betalning kom inte fram.",
                  lang="sv", name="Britt Holmberg", case_type=None):
    page.goto(f"/feedback?lang={lang}")
    # The first choice is "Choose a topic": take the first real topic.
    page.select_option("#topic", index=1)
    if case_type is not None:
        page.select_option("#case_type", case_type)
    page.fill("#message", message)
    page.check("#reply_wanted-0")
    page.check({"email": "#reply_channel-0", "phone": "#reply_channel-1",
                "letter": "#reply_channel-2"}[channel])
    page.fill("#name", name)
    page.fill("#street", "Slottsgatan 3")
    page.fill("#postal_code", "20100")
    page.fill("#city", "Åbo")
    page.fill("#phone", "040 765 4321")
    page.fill("#email", "britt.holmberg@example.fi")
    page.click("form button[type=submit]")
    page.wait_for_url("**/feedback/received/**")
    return re.search(r"FB-\d{4}-\d{6}", page.content()).group()


def open_case(page, reference):
    page.goto(f"/cases/{reference}")
    return page


def smtp_message(smtp, subject_part, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in smtp.messages:
            if subject_part in str(make_header(decode_header(message["Subject"]))):
                return message
        time.sleep(0.25)
    raise AssertionError(f"no email with {subject_part!r} arrived")


def text_of(message):
    [plain] = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    return plain.get_payload(decode=True).decode()


def no_serious_violations(page):
    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], "\n".join(f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']]}"
                                for v in bad)


def test_a_swedish_customers_feedback_is_forwarded_assigned_and_answered_by_email(
    page, login, smtp
):
    # 1. The customer, in Swedish, with an IBAN in the message, wants an email answer.
    reference = give_feedback(page, message=f"Hej! Mitt konto {IBAN} debiterades två gånger.")
    assert re.search(r"\d{1,2}\.\d{1,2}\.\d{4}", page.inner_text("main"))
    assert page.locator("html").get_attribute("lang") == "sv"

    # 2. Customer service finds it unassigned, masked, and forwards it to the home office.
    login("cs.agent")
    page.goto("/inbox/cs?filter=unassigned")
    row = page.locator("tr", has=page.locator(f"a:text-is('{reference}')"))
    assert row.locator(".badge-due").count() == 1
    row.locator(f"a:text-is('{reference}')").click()
    content = page.content()
    assert "[account number …0785 removed]" in content and IBAN not in content
    page.click("summary:has-text('Forward to another unit')")
    page.select_option("#forward-unit", label="Helsinki Centre")
    page.fill("#forward-note", "Kunden hör till ert kontor.")
    page.click("button:has-text('Forward')")
    assert "Read only" in page.inner_text("main")

    # 3. The branch's team lead assigns it to a member.
    login("branch.lead")
    page.goto("/inbox/helsinki-centre?filter=unassigned")
    page.click(f"a:text-is('{reference}')")
    page.select_option("#assign-member", label="Elina Korhonen")
    page.click("form.action button:has-text('Assign')")
    assert "Elina Korhonen" in page.inner_text("main")

    # 4. The branch employee answers in Swedish by email; it arrives without the IBAN.
    login("branch.staff")
    open_case(page, reference)
    page.fill("#answer-body", "Vi har rättat den dubbla debiteringen.")
    page.click("#answer-send")
    message = smtp_message(smtp, f"Svar på din respons {reference}")
    body = text_of(message)
    assert "Hej Britt Holmberg," in body and "Vi har rättat den dubbla debiteringen." in body
    assert "FI21" not in body and "Med vänlig hälsning" in body
    for _ in range(40):
        open_case(page, reference)
        if page.locator(".badge-answered").count():
            break
        time.sleep(0.25)
    assert page.locator("h1 .badge").inner_text() == "answered"


def test_a_callback_is_tried_then_reached_and_a_letter_is_printed(page, login):
    phone_case = give_feedback(page, channel="phone", lang="fi", name="Eero Esimerkki")
    letter_case = give_feedback(page, channel="letter", lang="fi", name="Eero Esimerkki")
    login("cs.agent")
    for reference, said in ((phone_case, "is planned"), (letter_case, "print queue")):
        open_case(page, reference)
        page.click("form.action button:has-text('Take')")
        page.fill("#answer-body", "Asia on nyt selvitetty.")
        page.click("#answer-send")
        assert said in page.inner_text("main")

    page.goto("/callbacks/cs")
    task = page.locator("li.callback", has=page.locator(f"a:text-is('{phone_case}')"))
    task.locator("label:has-text('No answer') input").check()
    task.locator("button:has-text('Record the call')").click()
    task = page.locator("li.callback", has=page.locator(f"a:text-is('{phone_case}')"))
    assert "attempt 2" in task.inner_text()
    task.locator("label:has-text('Reached') input").check()
    task.locator("textarea").fill("Kerroin asiakkaalle ratkaisun.")
    task.locator("button:has-text('Record the call')").click()
    open_case(page, phone_case)
    assert page.locator("h1 .badge").inner_text() == "answered"

    page.goto("/letters/cs")
    row = page.locator("tr", has=page.locator(f"a:text-is('{letter_case}')"))
    pdf_url = row.locator("a:text-is('Answer (PDF)')").get_attribute("href")
    response = page.request.get(pdf_url)
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    row.locator("button:has-text('Mark posted')").click()
    open_case(page, letter_case)
    assert page.locator("h1 .badge").inner_text() == "answered"


def test_an_interim_notice_moves_the_badge_to_the_estimate(page, login):
    reference = give_feedback(page, lang="en", name="Ann Example")
    login("cs.agent")
    open_case(page, reference)
    page.click("form.action button:has-text('Take')")
    today = date.today()
    estimate = BankingCalendar().add_banking_days(today, 7)
    page.click("summary:has-text('Send an interim notice')")
    written = f"{estimate.day}.{estimate.month}.{estimate.year}"
    page.fill("#interim_notice-estimate", estimate.isoformat())
    page.fill("#interim_notice-text", f"We expect to decide by {written}.")
    page.click("button:has-text('Send interim notice')")
    assert page.locator("h1 .badge").inner_text() == (
        f"estimate {estimate.day}.{estimate.month}.{estimate.year}")


def test_a_branch_user_cannot_open_another_units_case(page, login):
    reference = give_feedback(page, lang="fi", name="Toinen Asiakas")
    login("branch.staff")
    response = page.goto(f"/cases/{reference}")
    assert response.status == 404
    assert "Toinen Asiakas" not in page.content()


# Accessibility


def test_the_public_form_is_accessible_empty_with_errors_and_confirmed(page):
    page.goto("/feedback?lang=fi")
    no_serious_violations(page)
    page.click("form button[type=submit]")
    assert page.locator(".error").count() > 0
    no_serious_violations(page)
    first_error = page.locator("[aria-invalid=true]").first
    described = first_error.get_attribute("aria-describedby")
    assert described and page.locator(f"#{described.split()[-1]}").inner_text()
    give_feedback(page, lang="fi")
    no_serious_violations(page)


def test_staff_pages_are_accessible(page, login):
    page.goto("/login")
    no_serious_violations(page)
    login("cs.agent")
    page.goto("/inbox/cs")
    no_serious_violations(page)
    page.click("table.cases tbody tr:first-child td.col-ref a")
    no_serious_violations(page)
    page.goto("/callbacks/cs")
    no_serious_violations(page)


def test_the_public_form_works_with_the_keyboard_alone(page):
    page.goto("/feedback?lang=en")
    values = {"message": "Keyboard only.", "name": "Kim Keys", "street": "Tie 1",
              "postal_code": "00100", "city": "Helsinki", "phone": "040 123 4567",
              "email": "kim@example.fi"}
    for _ in range(80):
        page.keyboard.press("Tab")
        active = page.evaluate("() => [document.activeElement.id, document.activeElement.type,"
                               " document.activeElement.tagName, document.activeElement.name]")
        element_id, kind, tag, name = active
        if element_id in values:
            page.keyboard.type(values.pop(element_id))
        elif element_id == "topic" and not page.input_value("#topic"):
            page.keyboard.press("ArrowDown")  # from "Choose a topic" to the first topic
        elif element_id.startswith("reply_channel") and kind == "radio":
            page.keyboard.press("Space")
        elif tag == "BUTTON" and kind == "submit" and name != "switch_language":
            page.keyboard.press("Enter")
            break
    page.wait_for_url("**/feedback/received/**")
    assert re.search(r"FB-\d{4}-\d{6}", page.content())


@pytest.mark.parametrize("who", [None, "cs.agent"])
def test_no_horizontal_scrolling_at_320_pixels(page, login, who):
    if who:
        login(who)
        page.goto("/inbox/cs")
        path = page.locator("table.cases tbody tr:first-child td.col-ref a").get_attribute(
            "href")
    else:
        path = "/feedback"
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(path)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("report", ["promise", "volumes"])
def test_reports_with_charts_are_accessible_and_fit_a_phone(page, login, report):
    login("cs.lead")
    page.goto(f"/reports/{report}")
    assert page.locator("figure.chart svg[role=img] > title").count() == 1
    no_serious_violations(page)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(f"/reports/{report}")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_an_admin_lands_on_every_units_backlog_under_a_one_line_header(
        page, login, speaks, screenshots, language):
    speaks("admin", language)
    page.set_viewport_size({"width": 1366, "height": 768})
    login("admin")
    assert page.url.endswith("/admin/")
    header = page.evaluate("() => document.querySelector('header.topbar').offsetHeight")
    line = page.evaluate("() => document.querySelector('header.topbar nav a').offsetHeight")
    # One line: the header is the height of one row of links and buttons with its padding.
    assert header <= 60, header
    tops = page.evaluate("() => [...document.querySelectorAll('header.topbar a, header.topbar "
                         "button')].map(e => Math.round(e.getBoundingClientRect().top))")
    assert max(tops) - min(tops) <= line, tops
    assert page.locator("table.figures tbody tr").count() >= 9  # every demo unit
    page.screenshot(path=screenshots / f"admin-home-{language}.png")
    no_serious_violations(page)
    # At 200 % zoom the header wraps, but nothing needs scrolling sideways.
    page.set_viewport_size({"width": 683, "height": 384})
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_a_team_lead_selects_a_whole_page_from_the_bar_above_the_rows(page, login):
    page.set_viewport_size({"width": 1366, "height": 768})
    login("cs.lead")
    page.goto("/inbox/cs")
    bar = page.locator("#assign-many .bulk")
    table = page.locator("table.cases")
    assert bar.bounding_box()["y"] < table.bounding_box()["y"]
    rows = page.locator('table.cases input[name="case_ids"]')
    assert rows.count() > 1
    page.get_by_label("Select all on this page").check()
    assert all(rows.nth(i).is_checked() for i in range(rows.count()))
    page.get_by_label("Select all on this page").uncheck()
    assert not any(rows.nth(i).is_checked() for i in range(rows.count()))
    no_serious_violations(page)


def test_why_another_channel_is_asked_only_when_another_channel_is_chosen(page, login):
    login("cs.lead")  # the team lead may answer any open case; the first is the most overdue
    page.goto("/inbox/cs")
    page.click("table.cases tbody tr:first-child td.col-ref a")
    form = page.locator("form[data-customer-channel]")
    customers = form.get_attribute("data-customer-channel")
    reason = page.locator('[name="answer-reason"]')
    page.check(f'input[name="answer-channel"][value="{customers}"]')
    # The deferred script hides the field once the page has loaded; expect waits for it.
    expect(reason).to_be_hidden()
    other = page.locator(f'input[name="answer-channel"]:not([value="{customers}"]):not([disabled])')
    other.first.check()
    expect(reason).to_be_visible()
    page.check(f'input[name="answer-channel"][value="{customers}"]')
    expect(reason).to_be_hidden()


# Send, close when delivered


def test_an_answer_by_email_closes_the_case_once_the_worker_delivered_it(page, login, smtp):
    """From the opened case: type the answer, then one click; the case closes by itself."""
    page.set_viewport_size({"width": 1366, "height": 768})
    reference = give_feedback(page, lang="fi", name="Eeva Esimerkki")
    login("cs.agent")
    page.goto("/inbox/cs?filter=unassigned")
    clicks = 0

    def click(target):
        nonlocal clicks
        clicks += 1
        target.click()

    click(page.locator(f"a:text-is('{reference}')"))  # the case opens
    opened = clicks
    page.fill("#answer-body", "Maksusi on nyt palautettu tilillesi.")
    button = page.locator("#answer-send_and_close")
    assert button.is_visible() and button.input_value() == "Send, close when delivered"
    click(button)
    assert clicks - opened == 1
    assert "the case closes when the mail server has taken it" in page.inner_text(".flash-success")
    body = text_of(smtp_message(smtp, f"Vastaus palautteeseesi {reference}"))
    assert "Maksusi on nyt palautettu tilillesi." in body
    for _ in range(40):
        open_case(page, reference)
        if page.locator("h1 .badge-closed").count():
            break
        time.sleep(0.25)
    assert page.locator("h1 .badge").inner_text() == "closed"
    assert "Closed (Answered)" in page.inner_text("dl.case-summary")
    timeline = page.inner_text("ol.timeline")
    assert timeline.count("Closed when the answer was delivered, as") == 1


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_composer_offers_send_and_close_in_each_language(page, login, speaks, screenshots,
                                                              language):
    labels = {"fi": "Lähetä, sulje kun perillä", "sv": "Skicka, avsluta vid leverans",
              "en": "Send, close when delivered"}
    reference = give_feedback(page, lang=language, name="Kim Kieli")
    speaks("cs.agent", language)
    page.set_viewport_size({"width": 1366, "height": 768})
    login("cs.agent")
    open_case(page, reference)
    composer = page.locator("#answer")
    button = composer.locator("#answer-send_and_close")
    assert button.input_value() == labels[language]
    # Beside "Send", on the same line.
    send = composer.locator("#answer-send").bounding_box()
    beside = button.bounding_box()
    assert abs(send["y"] - beside["y"]) < 2 and beside["x"] > send["x"]
    page.fill("#answer-body", "…")
    composer.screenshot(path=screenshots / f"composer-send-and-close-{language}.png")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    no_serious_violations(page)
