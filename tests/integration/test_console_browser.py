"""The console in a real browser: headless Chromium (Debian's chromium and
chromium-driver, which `make install` brings when it can) driven by selenium, against the
real API over HTTP and a real worker. Submits the seed, signs in with a key, searches,
reads the article with its entities and quotes highlighted, follows an entity, and replays
a submission that failed for real once its cause is fixed.

NEWSFLOW_CONSOLE_SCREENSHOTS=<folder> also saves a PNG of each main page there (the ones
in docs/ were made so)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from newsflow.settings import Settings
from newsflow.store.api_keys import create_api_key
from newsflow.store.db import transaction
from tests.conftest import ROOT, SEED, PageServer, WorkerProcess, api_over_http

pytestmark = pytest.mark.integration

SEED_UK = ROOT / "tests" / "fixtures" / "enrich" / "seed_uk.txt"  # the seed, in Ukrainian
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# without these Chromium waits on the network (component updates, sync, QUIC probes)
# that this closed machine never answers
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
)
LATER_PAGE = """<html><head><title>Grain exports | Wire</title></head><body><article>
<h1>Ukraine's grain exports rise for a third month</h1>
<p>Ukraine exported more grain in November than in any month this year, the agriculture
ministry said on Tuesday, as ships kept sailing from the ports of Odesa.</p>
<p>Traders said prices in the Black Sea region steadied after weeks of decline.</p>
</article></body></html>"""


@pytest.fixture
def browser() -> Iterator[Any]:
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(
            "no browser: /usr/bin/chromium and /usr/bin/chromedriver are missing "
            "(`make install` installs them as root where apt-get works: "
            "apt-get install -y chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="newsflow-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _until(what: str, check: Callable[[], Any], timeout: float = 240) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:  # an element read while its page reloads: try again
            if type(exc).__name__ not in (
                "StaleElementReferenceException",
                "NoSuchElementException",
            ):
                raise
            result = None
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _next_page(browser: Any) -> None:
    from selenium.webdriver.common.by import By

    page = browser.current_url
    browser.find_element(By.PARTIAL_LINK_TEXT, "Next page").click()
    _until("the next page", lambda: browser.current_url != page, 15)


def _screenshot(driver: Any, name: str) -> None:
    folder = os.environ.get("NEWSFLOW_CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"console-{name}.png"))


def test_console_in_a_browser(
    settings: Settings, worker: WorkerProcess, page_server: PageServer, browser: Any
) -> None:
    from selenium.webdriver.common.by import By

    secured = settings.model_copy(update={"auth": "required"})
    with transaction(secured.require_database_url()) as connection:
        admin = create_api_key(connection, name="console-browser", scopes=["admin"])
    headers = {"Authorization": f"Bearer {admin.key}"}

    with api_over_http(secured) as base, httpx.Client(base_url=base, headers=headers) as api:
        seed_id = api.post(
            "/v1/articles",
            json={"source": "seed", "external_id": "console-seed", "text": SEED.read_text()},
        ).json()["id"]
        uk_id = api.post(
            "/v1/articles", json={"source": "seed-uk", "text": SEED_UK.read_text()}
        ).json()["id"]
        # fails for real: the page is not there yet (404), a permanent answer
        later_id = api.post(
            "/v1/articles", json={"source": "wire", "url": page_server.url("/console-later")}
        ).json()["id"]

        def status_of(submission_id: str) -> str:
            return str(api.get(f"/v1/articles/{submission_id}").json()["status"])

        _until("the seeds", lambda: status_of(seed_id) == status_of(uk_id) == "done")
        _until("the failure", lambda: status_of(later_id) == "failed")

        # not signed in: the login form, then back where we were going
        browser.get(f"{base}/")
        assert "/login" in browser.current_url
        browser.find_element(By.ID, "key").send_keys(admin.key)
        browser.find_element(By.ID, "sign-in").click()
        _until("the overview", lambda: "Articles by status" in browser.page_source, 15)
        assert "console-browser" in browser.find_element(By.ID, "signed-in-as").text
        workers = browser.find_element(By.ID, "workers").text
        assert "live" in workers, workers
        _screenshot(browser, "overview")

        # search
        browser.find_element(By.LINK_TEXT, "Articles").click()
        search = browser.find_element(By.NAME, "q")
        search.send_keys("Landsbergis NATO")
        browser.find_element(By.NAME, "language").send_keys("en")
        browser.find_element(By.ID, "search-button").click()
        # the unfiltered list can hold the same link: read only the results page
        _until("the results page", lambda: "q=Landsbergis" in browser.current_url, 15)
        result = _until(
            "a search result",
            lambda: browser.find_elements(By.PARTIAL_LINK_TEXT, "Lithuania urges"),
            15,
        )[0]
        _screenshot(browser, "articles")
        result.click()

        # the article: Landsbergis highlighted as a person, his quote with its speaker
        _until("the article", lambda: browser.find_elements(By.ID, "article-body"), 15)
        assert "Lithuania urges" in browser.find_element(By.ID, "article-title").text
        person = next(
            element
            for element in browser.find_elements(By.CSS_SELECTOR, "#article-body a.ent-PER")
            if "Landsbergis" in element.text
        )
        highlighted = person.value_of_css_property("background-color")
        assert highlighted not in ("rgba(0, 0, 0, 0)", "transparent"), highlighted
        speakers = [
            element.text for element in browser.find_elements(By.CSS_SELECTOR, "#quotes .speaker")
        ]
        assert any("Landsbergis" in speaker for speaker in speakers), speakers
        assert browser.find_elements(By.CSS_SELECTOR, "#article-body .quote")
        assert "Литва закликає" in browser.find_element(By.ID, "translations").text
        _screenshot(browser, "article")
        # the toggle turns the entity highlight off, and on again
        browser.find_element(By.CSS_SELECTOR, "label[for=show-ent]").click()
        assert person.value_of_css_property("background-color") == "rgba(0, 0, 0, 0)"
        browser.find_element(By.CSS_SELECTOR, "label[for=show-ent]").click()
        assert person.value_of_css_property("background-color") == highlighted

        # follow the entity
        person.click()
        _until("the entity page", lambda: browser.find_elements(By.ID, "entity-name"), 15)
        assert browser.find_element(By.ID, "entity-type").text == "PER"
        names = browser.find_element(By.ID, "entity-names").text.splitlines()
        # one entity whatever the language: its names in English and Ukrainian
        assert {"Gabrielius Landsbergis", "Габріеліус Ландсбергіс"} <= set(names), names
        listed = browser.find_element(By.ID, "entity-articles").text
        assert "Lithuania urges" in listed
        assert "Литва закликає" in listed
        _screenshot(browser, "entity")

        # the failed submission, its reason and payload; the cause is fixed; replay it
        browser.find_element(By.LINK_TEXT, "Submissions").click()
        # newest first; page on, as an operator would, past other tests' failures
        _until("the submissions page", lambda: "/submissions" in browser.current_url, 15)
        while not browser.find_elements(By.ID, f"submission-{later_id}"):
            _next_page(browser)
        row = browser.find_element(By.ID, f"submission-{later_id}")
        assert "404" in row.find_element(By.CSS_SELECTOR, ".reason").text
        assert "/console-later" in browser.page_source  # the raw payload
        _screenshot(browser, "submissions")
        page_server.pages["/console-later"] = ("text/html", LATER_PAGE.encode())
        row.find_element(By.CSS_SELECTOR, "button.replay").click()
        _until("the article page", lambda: browser.current_url.endswith(f"/articles/{later_id}"))

        def done() -> bool:
            browser.refresh()
            return browser.find_element(By.ID, "article-status").text == "done"

        _until("the replay to finish", done)
        assert "grain exports" in browser.find_element(By.ID, "article-title").text
