"""Dates in a real browser: a Finnish user picks the interim notice's estimate from the calendar
with the keyboard alone, reads it as 24.12.2026 (in a browser set to American English, whose own
date field would write 12/24/2026), and the notice's text follows the date."""

import re
from datetime import date, timedelta

import pytest

from .test_story import give_feedback, no_serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.committed]

FINNISH_MONTHS = ["Tammikuu", "Helmikuu", "Maaliskuu", "Huhtikuu", "Toukokuu", "Kesäkuu", "Heinäkuu",
                  "Elokuu", "Syyskuu", "Lokakuu", "Marraskuu", "Joulukuu"]


def written(day):
    return f"{day.day}.{day.month}.{day.year}"


def read(text):
    day, month, year = (int(part) for part in text.split("."))
    return date(year, month, day)


@pytest.fixture
def american(browser, live_app):
    context = browser.new_context(base_url=live_app.base_url, locale="en-US",
                                  viewport={"width": 1366, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_finnish_user_picks_the_estimate_from_the_keyboard_and_the_text_follows(
        american, speaks, screenshots):
    page = american
    reference = give_feedback(page, lang="fi", name="Eero Esimerkki",
                              message="Hei! Korttimaksuni veloitettiin kahdesti.")
    speaks("cs.agent", "fi")
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("#username", "cs.agent")
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/inbox/.*"))
    page.goto(f"/cases/{reference}")
    page.locator("details:has(#interim_notice-estimate) > summary").click()

    field = page.locator("#interim_notice-estimate")
    text = page.locator("#interim_notice-text")
    first = read(field.input_value())  # the page proposes a day, written the bank's way
    assert written(first) in text.input_value()
    text.fill(f"{text.input_value()} Terveisin Aino, korttipalvelut.")

    # From the field, Tab reaches the calendar's button; Enter opens it on the chosen day.
    field.focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('datepicker-open')")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible() and dialog.get_attribute("aria-modal") == "true"
    assert page.evaluate("document.activeElement.dataset.day") == written(first)
    title = f"{FINNISH_MONTHS[first.month - 1]} {first.year}"
    assert page.locator("#datepicker-title").inner_text() == title
    assert page.locator(".datepicker th").all_inner_texts() == ["ma", "ti", "ke", "to", "pe", "la", "su"]
    assert page.get_by_role("button", name="Seuraava kuukausi").is_visible()
    page.screenshot(path=screenshots / "datepicker-fi.png")
    no_serious_violations(page)

    # A month on and back, then a day right and a week down, and Enter picks it.
    page.keyboard.press("PageDown")
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    assert page.locator("#datepicker-title").inner_text() == (
        f"{FINNISH_MONTHS[following.month - 1]} {following.year}")
    page.keyboard.press("PageUp")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    chosen = first + timedelta(days=8)
    assert page.evaluate("document.activeElement.dataset.day") == written(chosen)
    page.keyboard.press("Enter")

    assert dialog.is_hidden()
    assert field.input_value() == written(chosen)
    assert re.fullmatch(r"\d{1,2}\.\d{1,2}\.\d{4}", field.input_value())
    assert page.evaluate("document.activeElement.id") == "interim_notice-estimate"
    # The notice names the new day, and the user's own words around it stay.
    assert written(chosen) in text.input_value() and written(first) not in text.input_value()
    assert text.input_value().endswith(" Terveisin Aino, korttipalvelut.")
    assert text.input_value().startswith("Asiasi ")

    # Escape closes without picking, back in the field; typing a day by hand moves the text too.
    page.keyboard.press("Alt+ArrowDown")
    assert dialog.is_visible()
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("Escape")
    assert dialog.is_hidden() and field.input_value() == written(chosen)
    assert page.evaluate("document.activeElement.id") == "interim_notice-estimate"
    typed = chosen + timedelta(days=1)
    field.fill(f"{typed.day:02}.{typed.month:02}.{typed.year}")
    assert written(typed) in text.input_value() and written(chosen) not in text.input_value()
    page.screenshot(path=screenshots / "datepicker-fi-picked.png")
