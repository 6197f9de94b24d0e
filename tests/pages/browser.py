"""Real headless Chromium (Debian's /usr/bin/chromium + chromedriver) for the hosted-page tests.

No browser is downloaded: Selenium Manager is switched off (``SE_OFFLINE``) and
the system's chromedriver is named. Locally a missing browser skips these
tests; under ``CI=true`` it fails them (./dev test installs the browser).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
AXE = Path(__file__).resolve().parents[1] / "peers" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage")


def require_browser() -> None:
    """Skip locally, fail under CI, when Chromium or chromedriver is missing."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    message = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
    if IN_CI:
        pytest.fail(message + " (CI=true: the browser tests must not be skipped)")
    pytest.skip(message)


@contextmanager
def chromium(*, javascript: bool = True, width: int = 1024, lang: str = "en") -> Iterator[WebDriver]:
    """A fresh browser profile; ``javascript=False`` for the no-script paths."""
    require_browser()
    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.mkdtemp(prefix="authd-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},900",
                 f"--lang={lang}"):
        options.add_argument(flag)
    if width < 500:  # desktop Chromium will not make a window this narrow: emulate a phone
        options.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": width, "height": 800, "pixelRatio": 1.0}})
    options.add_experimental_option("prefs", {
        "intl.accept_languages": lang,
        **({} if javascript else {"profile.managed_default_content_settings.javascript": 2})})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def fill(driver: WebDriver, **fields: str) -> None:
    """Type into the inputs named by ``fields`` (their ids are their names)."""
    for name, value in fields.items():
        element = driver.find_element(By.ID, name)
        element.clear()
        element.send_keys(value)


def press(driver: WebDriver, text: str) -> None:
    """Click the button whose visible text starts with ``text``, and wait for the next page."""
    for button in driver.find_elements(By.TAG_NAME, "button"):
        if button.text.strip().startswith(text):
            click_and_wait(driver, button)
            return
    raise AssertionError(f"no button {text!r} on {driver.current_url}")


def click(driver: WebDriver, element_id: str) -> None:
    """Click the button or link with this id, and wait for the next page."""
    click_and_wait(driver, driver.find_element(By.ID, element_id))


def submit(driver: WebDriver) -> None:
    """Submit the page's main form (its first submit button), and wait for the answer."""
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.card button[type=submit]"))


def click_and_wait(driver: WebDriver, element: WebElement) -> None:
    """Click, then wait until the old document is gone (a form post is a navigation)."""
    old = driver.find_element(By.TAG_NAME, "html")
    try:
        element.click()
    except WebDriverException as exc:
        # chromedriver may report the click's own navigation, when it unloads the
        # document before the click command returns, as this error: the click happened.
        if "does not belong to the document" not in str(exc):
            raise
    WebDriverWait(driver, 30).until(lambda _driver: _gone(old))
    WebDriverWait(driver, 30).until(_loaded)


def _gone(element: WebElement) -> bool:
    """The element's document was replaced (chromedriver says so in one of two ways)."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def _loaded(driver: WebDriver) -> bool:
    """The new document has finished loading (a redirect chain ends in one document)."""
    try:
        return bool(driver.execute_script("return document.readyState === 'complete'"))
    except WebDriverException:
        return False


def errors_on(driver: WebDriver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".error-summary li")]


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """Serious and critical axe-core findings on the current page (injected over CDP: no CSP hole)."""
    driver.execute_script(AXE.read_text())
    found: list[dict[str, Any]] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations.map("
        "v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))));")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def screenshot(driver: WebDriver, name: str) -> None:
    """With AUTHD_SCREENSHOTS=<dir>, save the whole page as <dir>/<name>.png."""
    folder = os.environ.get("AUTHD_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight") \
        if driver.capabilities.get("javascriptEnabled", True) else 900
    size = driver.get_window_size()
    driver.set_window_size(size["width"], max(int(height or 900) + 120, 600))
    driver.save_screenshot(str(Path(folder) / f"{name}.png"))
    driver.set_window_size(size["width"], size["height"])
