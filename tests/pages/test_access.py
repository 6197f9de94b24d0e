"""Accessibility, small screens, no JavaScript, framing and markup injection, in real Chromium.

axe-core (pinned in tests/peers/axe) is injected into every page in both
languages: no serious or critical finding. At 360 px wide nothing scrolls
sideways. A browser with JavaScript switched off completes the flows. With
AUTHD_SCREENSHOTS=<dir> each page is saved in both languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote, urlsplit

import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.pages.browser import axe_violations, chromium, errors_on, fill, press, screenshot, submit
from tests.pages.conftest import PASSWORD, Site, new_email

ANONYMOUS = ["/", "/login", "/signup", "/sign-in", "/forgot-password", "/reset-password", "/mfa"]


@pytest.fixture(scope="module")
def phone() -> Iterator[WebDriver]:
    """A 360 px wide Chromium, like a small phone."""
    with chromium(width=360) as driver:
        yield driver


@pytest.fixture(scope="module")
def nojs() -> Iterator[WebDriver]:
    """A Chromium with JavaScript switched off."""
    with chromium(javascript=False) as driver:
        yield driver


def _sign_up(driver: WebDriver, site: Site, lang: str = "en", name: str = "Ada") -> str:
    email = new_email()
    driver.get(f"{site.url}/signup?lang={lang}")
    fill(driver, name=name, email=email, password=PASSWORD)
    submit(driver)
    assert urlsplit(driver.current_url).path == "/account"
    return email


def _tour(driver: WebDriver, site: Site, lang: str) -> Iterator[str]:
    """Visit every page (signed out, with an error, then signed in); yield each page's name."""
    driver.delete_all_cookies()
    for path in ANONYMOUS:
        driver.get(f"{site.url}{path}?lang={lang}")
        yield path.strip("/") or "home"
    driver.get(f"{site.url}/login?lang={lang}")
    fill(driver, email=new_email(), password="not the password 1")
    submit(driver)
    yield "login-error"
    _sign_up(driver, site, lang)
    yield "account"


@pytest.mark.parametrize(("lang", "scheme"), [("en", "light"), ("ko", "light"), ("en", "dark")])
def test_no_serious_accessibility_findings(fresh: WebDriver, site: Site, lang: str,
                                           scheme: str) -> None:
    """axe-core finds nothing serious or critical on any page (labels, contrast, landmarks),
    in both languages and in the dark colour scheme too."""
    fresh.execute_cdp_cmd("Emulation.setEmulatedMedia", {
        "features": [{"name": "prefers-color-scheme", "value": scheme}]})
    try:
        for name in _tour(fresh, site, lang):
            assert fresh.execute_script(
                f"return matchMedia('(prefers-color-scheme: {scheme})').matches")
            assert axe_violations(fresh) == [], (name, lang, scheme)
            screenshot(fresh, f"{name}-{lang}" + ("-dark" if scheme == "dark" else ""))
    finally:
        fresh.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_pages_fit_a_360_px_screen(phone: WebDriver, site: Site, lang: str) -> None:
    """Nothing is wider than a small phone: no sideways scrolling on any page."""
    phone.get(site.url + "/ui/theme.css")
    for name in _tour(phone, site, lang):
        assert phone.execute_script("return window.innerWidth") == 360
        wide = phone.execute_script("return document.documentElement.scrollWidth")
        assert wide <= 360, (name, lang, wide)
        if name in ("login", "account"):
            screenshot(phone, f"{name}-{lang}-phone")


def test_the_error_summary_takes_focus_order_first(fresh: WebDriver, site: Site) -> None:
    """After a refusal the summary comes before the form, and its link leads to the field."""
    fresh.get(site.url + "/login")
    fill(fresh, email=new_email(), password="not the password 1")
    submit(fresh)
    summary = fresh.find_element(By.CSS_SELECTOR, ".error-summary")
    form = fresh.find_element(By.CSS_SELECTOR, "form.card")
    assert summary.location["y"] < form.location["y"]
    summary.find_element(By.TAG_NAME, "a").click()
    assert fresh.switch_to.active_element.get_attribute("id") == "password"


def test_everything_works_without_javascript(nojs: WebDriver, site: Site) -> None:
    """Sign-up, a refusal, ending a session, signing out and in: plain forms, no script."""
    nojs.get(site.url + "/ui/theme.css")
    nojs.delete_all_cookies()
    email = _sign_up(nojs, site)
    fill(nojs, current_password="wrong password 1", new_password="another new password 9")
    press(nojs, "Change password")
    assert errors_on(nojs)
    press(nojs, "Sign out")
    assert urlsplit(nojs.current_url).path == "/login"
    fill(nojs, email=email, password=PASSWORD)
    submit(nojs)
    assert urlsplit(nojs.current_url).path == "/account"
    assert nojs.find_element(By.ID, "profile-email").text.startswith(email)


def test_pages_cannot_be_framed(fresh: WebDriver, site: Site) -> None:
    """Clickjacking: another site's frame around /login stays empty."""
    frame = f"<iframe id=f src='{site.url}/login' width=400 height=400></iframe>"
    fresh.get("data:text/html," + quote(frame))
    fresh.switch_to.frame(fresh.find_element(By.ID, "f"))
    try:
        assert fresh.find_elements(By.ID, "password") == []
    finally:
        fresh.switch_to.default_content()


def test_a_name_full_of_markup_is_shown_as_text(fresh: WebDriver, site: Site) -> None:
    """A name with an <img onerror> is shown literally and runs nothing."""
    fresh.delete_all_cookies()
    evil = '<img src=x onerror="document.title=\'pwned\'">'
    _sign_up(fresh, site, name=evil)
    shown = fresh.find_element(By.ID, "profile-name")
    assert shown.text == evil
    assert shown.find_elements(By.TAG_NAME, "img") == []
    assert fresh.title != "pwned"
