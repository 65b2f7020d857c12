"""The case page in a real browser at 1366×768: the customer's words on the first screen in every
language, a refusal summarised at the top with the focus on it and every choice kept, and the
answer on its way in place of the composer; axe finds nothing serious in any of these."""

import re

import pytest
from playwright.sync_api import expect

from .test_story import give_feedback, no_serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.committed]

# What a customer really writes: several sentences, in their language.
MESSAGES = {
    "fi": ("Hei! Korttini hylättiin eilen ruokakaupassa kahdesti, vaikka tilillä oli rahaa. "
           "Jouduin jättämään ostokset kassalle. Sovelluksessa kortti näkyy aktiivisena eikä "
           "mitään ilmoitusta ole tullut. Voitteko selvittää, mistä on kyse, ja kertoa, "
           "voinko käyttää korttia huomenna matkalla?"),
    "sv": ("Hej! Mitt kort nekades två gånger i går i matbutiken, fast det fanns pengar på "
           "kontot. Jag fick lämna varorna vid kassan. I appen syns kortet som aktivt och jag "
           "har inte fått något meddelande. Kan ni reda ut vad det handlar om och säga om jag "
           "kan använda kortet på resan i morgon?"),
    "en": ("Hello! My card was declined twice at the grocery store yesterday although there "
           "was money in the account. I had to leave my shopping at the till. The app shows the "
           "card as active and I have had no message. Could you find out what happened and tell "
           "me whether I can use the card on my trip tomorrow?"),
}


@pytest.fixture
def wide(page):
    page.set_viewport_size({"width": 1366, "height": 768})
    return page


def new_case(page, language, channel="email"):
    return give_feedback(page, channel=channel, lang=language, message=MESSAGES[language],
                         name={"fi": "Eero Esimerkki", "sv": "Britt Holmberg",
                               "en": "Ann Example"}[language])


def words_broken_across_lines(page, selector):
    """The words in `selector`'s elements that the browser split over two lines."""
    return page.evaluate("""(selector) => {
        const broken = [];
        for (const element of document.querySelectorAll(selector)) {
            const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                for (const match of node.textContent.matchAll(/\\S+/g)) {
                    const range = document.createRange();
                    range.setStart(node, match.index);
                    range.setEnd(node, match.index + match[0].length);
                    const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                    if (lines.size > 1) broken.push(match[0]);
                }
            }
        }
        return broken;
    }""", selector)


def focused_is_the_error_summary(page):
    """The focus moves to the summary once the page's deferred script has run. (Waited for by
    Playwright's own assertion: a predicate of ours would be evaluated in the page, which the
    page's Content-Security-Policy refuses to do when it has to poll.)"""
    page.wait_for_load_state()
    expect(page.locator("[data-error-summary]")).to_be_focused(timeout=5_000)
    return True


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_customers_words_are_on_the_first_screen(wide, login, speaks, screenshots, language):
    page = wide
    reference = new_case(page, language)
    speaks("cs.agent", language)
    login("cs.agent")
    page.goto(f"/cases/{reference}")
    top = page.locator("#message").bounding_box()["y"]
    assert top < 768, top
    # The words themselves, not only their heading, start on the first screen.
    assert page.locator("#message .message").bounding_box()["y"] < 768 - 40
    # Side by side at this width: the case details beside the conversation.
    side = page.locator(".case-side").bounding_box()
    assert side["x"] > page.locator("#message").bounding_box()["x"] + 400
    page.screenshot(path=screenshots / f"case-page-{language}.png")
    page.screenshot(path=screenshots / f"case-page-{language}-full.png", full_page=True)
    assert words_broken_across_lines(page, ".case-side .facts dd") == []
    no_serious_violations(page)
    # A case of the demo data with a history: the inbox's most urgent one.
    page.goto("/inbox/cs")
    page.click("table.cases tbody tr:first-child td.col-ref a")
    assert page.locator("#message .message").bounding_box()["y"] < 768 - 40
    page.screenshot(path=screenshots / f"case-page-demo-{language}.png", full_page=True)


def test_a_refused_forward_is_summarised_with_the_focus_on_it_and_the_unit_kept(
        wide, login, screenshots):
    page = wide
    reference = new_case(page, "en")
    login("cs.agent")
    page.goto(f"/cases/{reference}")
    page.click("summary:has-text('Forward to another unit')")
    page.select_option("#forward-unit", label="Turku")
    chosen = page.input_value("#forward-unit")
    page.click("form.action button:has-text('Forward')")
    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert focused_is_the_error_summary(page)
    assert summary.locator("a[href='#forward-note']").inner_text() == (
        "Write a note for the unit you forward to.")
    assert page.input_value("#forward-unit") == chosen
    assert page.locator("details:has(#forward-unit)").get_attribute("open") is not None
    page.screenshot(path=screenshots / "case-page-refused-forward.png")
    no_serious_violations(page)
    summary.locator("a").click()
    assert page.evaluate("() => document.activeElement.id") == "forward-note"


def test_a_refused_answer_keeps_the_channel_and_the_text(wide, login, screenshots):
    page = wide
    reference = new_case(page, "fi")
    login("cs.agent")
    page.goto(f"/cases/{reference}")
    page.check('input[name="answer-channel"][value="letter"]')
    page.fill("#answer-body", "Kortti on taas käytössä.")
    page.click("#answer-send")  # by letter though the customer chose email, and no reason why
    assert focused_is_the_error_summary(page)
    assert page.locator("[data-error-summary] a[href='#answer-reason']").count() == 1
    assert page.is_checked('input[name="answer-channel"][value="letter"]')
    assert page.input_value("#answer-body") == "Kortti on taas käytössä."
    assert page.locator("#answer-reason").is_visible()
    page.screenshot(path=screenshots / "case-page-refused-answer.png")
    no_serious_violations(page)
    # Now with a reason but no text: the channel and the reason stay.
    page.fill("#answer-reason", "Asiakas pyysi puhelimessa kirjettä.")
    page.fill("#answer-body", "")
    page.click("#answer-send")
    assert focused_is_the_error_summary(page)
    assert page.locator("[data-error-summary] a[href='#answer-body']").count() == 1
    assert page.is_checked('input[name="answer-channel"][value="letter"]')
    assert page.input_value("#answer-reason") == "Asiakas pyysi puhelimessa kirjettä."


def test_an_answer_on_its_way_replaces_the_composer_until_it_is_cancelled(
        wide, login, screenshots):
    page = wide
    reference = new_case(page, "sv", channel="letter")
    login("cs.agent")
    page.goto(f"/cases/{reference}")
    page.fill("#answer-body", "Kortet fungerar igen.")
    page.click("#answer-send")
    head = page.inner_text("header.case-head")
    assert "waiting in the print queue to be posted" in head
    assert page.locator("#answer-title").count() == 0
    assert page.locator("#waiting-title").is_visible()
    page.screenshot(path=screenshots / "case-page-answer-waiting.png", full_page=True)
    no_serious_violations(page)
    page.click("button:has-text('Cancel the letter')")
    assert page.locator("#answer-title").is_visible()
    assert "print queue" not in page.inner_text("header.case-head")
    assert re.search(r"cancelled the letter before it was posted", page.inner_text("main"))
