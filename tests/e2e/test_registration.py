"""Registering phone feedback in a real browser: staff type a customer number, pick the customer
from the register's matches, and the contact details fill in; the case is linked to them."""

import re

import pytest

from .test_story import no_serious_violations

pytestmark = [pytest.mark.e2e, pytest.mark.committed]


def register_customer(live_app, number):
    from feedback_intranet.extensions import db
    from feedback_intranet.models import Customer

    with live_app.app_context():
        customer = db.session.scalar(db.select(Customer).where(Customer.customer_number == number))
        details = (customer.id, customer.name, customer.email, customer.city,
                   customer.home_office.name_in("fi"))
        db.session.remove()
    return details


def test_staff_find_the_customer_in_the_register_and_the_details_fill_in(page, login, speaks,
                                                                         live_app, screenshots):
    speaks("branch.staff", "fi")
    customer_id, name, email, city, office = register_customer(live_app, "C0000007")
    login("branch.staff")
    page.goto("/register-feedback")
    page.fill("#register_query", "C0000007")
    match = page.locator("[data-register-results] li")
    match.first.wait_for()
    assert match.count() == 1 and name in match.first.inner_text()
    match.first.get_by_role("button", name="Käytä näitä tietoja").click()

    assert page.input_value("#name") == name
    assert page.input_value("#email") == email and page.input_value("#city") == city
    assert page.input_value("input[name=customer_id]") == str(customer_id)
    linked = page.locator("[data-register-linked]")
    assert linked.is_visible()
    assert f"Liitetty asiakkaaseen C0000007, {name} (oma konttori {office})." in linked.inner_text()
    assert page.evaluate("document.activeElement.id") == "name"
    no_serious_violations(page)
    page.screenshot(path=str(screenshots / "register-lookup-fi.png"), full_page=True)

    page.select_option("#topic", index=1)
    page.fill("#message", "Asiakas soitti: kortti ei toimi ulkomailla.")
    page.check("input[name=reply_channel][value=email]")
    page.get_by_role("button", name="Kirjaa", exact=True).last.click()
    page.wait_for_url(re.compile(r".*/cases/FB-.*"))
    page.screenshot(path=str(screenshots / "register-lookup-case-fi.png"), full_page=True)
    assert "C0000007" in page.inner_text("body")
