"""End-to-end fixtures: the real app on a loopback port, a fresh database, a real SMTP server,
and Debian's Chromium driven by Playwright. No browser is ever downloaded."""

import os
import re
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"

if not shutil.which(CHROMIUM):
    pytest.skip(f"End-to-end tests skipped: no Chromium at {CHROMIUM} "
                "(apt-get install chromium).", allow_module_level=True)
if os.environ.get("TEST_DATABASE_URL"):
    pytest.skip("End-to-end tests run once, in the SQLite pass.", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from feedback_intranet import create_app  # noqa: E402
from feedback_intranet.extensions import db  # noqa: E402
from feedback_intranet.outbox import start_background_worker  # noqa: E402

from ..conftest import free_port, running_smtp_server  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def smtp():
    with running_smtp_server() as recorder:
        yield recorder


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, smtp):
    """The intranet with demo data, served on a free loopback port, delivering its outbox."""
    from feedback_intranet import clock
    from feedback_intranet.closing_days import banking_calendar
    from feedback_intranet.demo import seed_demo

    database = tmp_path_factory.mktemp("e2e") / "e2e.sqlite"
    app = create_app({
        "CONFIG": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
        "WTF_CSRF_ENABLED": True, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp.port,
        "MAIL_SUPPRESS_SEND": False, "COUNT_QUERIES": False,
        "FEEDBACK_RATE_LIMIT": "1000 per minute",
    })
    with app.app_context():
        db.create_all()
        seed_demo(clock.now(), banking_calendar(clock.timezone()), password="demo")
        db.session.commit()
        db.session.remove()
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    app.base_url = f"http://127.0.0.1:{port}"
    yield app
    server.shutdown()


@pytest.fixture(autouse=True)
def outbox_worker(live_app):
    """The live intranet's outbox worker, as the development server runs it: only while a browser
    test runs, so that its round lines never land in another test's captured log."""
    stop = threading.Event()
    worker = start_background_worker(live_app, stop=stop)
    yield
    stop.set()
    worker.join(timeout=30)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_app):
    context = browser.new_context(base_url=live_app.base_url, locale="en-GB",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots():
    """Where the browser tests keep their screenshots, for a person to look at after a run."""
    folder = Path(__file__).resolve().parents[2] / "build" / "e2e-screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def speaks(live_app):
    """Set a demo user's language, as they would on their profile page."""
    from feedback_intranet.models import User

    before = {}

    def set_language(username, language):
        with live_app.app_context():
            user = db.session.scalar(db.select(User).where(User.username == username))
            before.setdefault(username, user.language)
            user.language = language
            db.session.commit()
            db.session.remove()

    yield set_language
    for username, language in before.items():
        set_language(username, language)


@pytest.fixture
def login(page):
    def log_in(username):
        page.context.clear_cookies()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", "demo")
        page.click("button[type=submit]")
        # Staff land in an inbox; an admin of no unit on every unit's backlog.
        page.wait_for_url(re.compile(r".*/(inbox|admin)/.*"))

    return log_in
