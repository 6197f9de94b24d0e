"""Passkeys on the hosted pages, in real Chromium with its virtual authenticator.

Browsers refuse an IP address as a passkey's relying party, so this module
runs its own authd whose issuer is ``http://localhost:<port>`` and the browser
visits it by that name. The authenticator is Chromium's own (WebDriver's
virtual authenticator: CTAP2, built in, resident keys, user verification),
so the real ``navigator.credentials`` calls of ``passkeys.js`` run.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.virtual_authenticator import (
    Protocol,
    Transport,
    VirtualAuthenticatorOptions,
)

from tests.pages.browser import (
    chromium,
    click,
    click_and_wait,
    errors_on,
    fill,
    screenshot,
    submit,
)
from tests.pages.conftest import PASSWORD, new_email
from tests.pages.test_second_factors import turn_on_totp
from tests.serverproc import AuthdServer, free_port


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An authd whose issuer is http://localhost:<port> (a valid passkey relying party)."""
    port = free_port()
    url = f"http://localhost:{port}"
    server = AuthdServer(tmp_path_factory.mktemp("passkey-pages"), port=port,
                         env={"AUTHD_ISSUER": url})
    server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser_with_js() -> Iterator[WebDriver]:
    """One Chromium for the module (start-up is the slow part)."""
    with chromium() as driver:
        yield driver


@pytest.fixture
def device(browser_with_js: WebDriver, local: str) -> Iterator[WebDriver]:
    """The browser with a new, empty built-in authenticator (CTAP2, internal, resident keys,
    user verification) and no cookies: each test's passkeys are the only ones it holds."""
    browser_with_js.get(local + "/ui/theme.css")
    browser_with_js.delete_all_cookies()
    browser_with_js.add_virtual_authenticator(VirtualAuthenticatorOptions(
        protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True,
        has_user_verification=True, is_user_verified=True))
    try:
        yield browser_with_js
    finally:
        browser_with_js.remove_virtual_authenticator()


def _session_amr(driver: WebDriver, url: str) -> list[str]:
    """The amr of the browser's authd session, read over the API with its cookie."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    with httpx.Client(base_url=url.replace("localhost", "127.0.0.1"), cookies=cookies) as api:
        found: list[str] = api.get("/v1/session").json()["session"]["amr"]
    return found


def _sign_out(driver: WebDriver, url: str) -> None:
    driver.get(url + "/account")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.signout button"))


def test_add_a_passkey_then_sign_in_with_it_alone(device: WebDriver, local: str) -> None:
    """A passkey added on /account (named by the person) signs in from /login's button with no
    email or password: amr hwk+user. Removing it takes it off the list."""
    device.get(local + "/signup")
    fill(device, email=new_email(), password=PASSWORD)
    submit(device)
    assert urlsplit(device.current_url).path == "/account"
    fill(device, passkey_name="Laptop")
    click(device, "passkey_add")
    assert device.find_element(By.CSS_SELECTOR, ".notice").text == "The passkey is added."
    assert "Laptop" in device.find_element(By.ID, "passkey-list").text
    screenshot(device, "account-passkeys-en")
    _sign_out(device, local)
    device.get(local + "/login")
    screenshot(device, "login-passkey-en")
    click(device, "passkey")
    assert urlsplit(device.current_url).path == "/account", errors_on(device)
    assert _session_amr(device, local) == ["hwk", "user"]
    remove = device.find_element(By.CSS_SELECTOR, "#passkey-list button")
    click_and_wait(device, remove)
    assert device.find_element(By.CSS_SELECTOR, ".notice").text == "The passkey is removed."
    assert device.find_elements(By.ID, "passkey-list") == []


def test_the_passkey_buttons_are_hidden_without_javascript(local: str) -> None:
    """Without script the passkey forms stay hidden: nothing on the page that cannot work."""
    with chromium(javascript=False) as driver:
        driver.get(local + "/login")
        assert not driver.find_element(By.ID, "passkey").is_displayed()


def test_a_passkey_is_the_second_step_after_a_password(device: WebDriver, local: str) -> None:
    """With TOTP and a passkey, a password sign-in stops at /mfa, whose 'use a passkey' button
    finishes it: the session's amr says password, passkey and mfa."""
    email = new_email()
    device.get(local + "/signup")
    fill(device, email=email, password=PASSWORD)
    submit(device)
    click(device, "passkey_add")
    turn_on_totp(device)
    _sign_out(device, local)
    device.get(local + "/login")
    fill(device, email=email, password=PASSWORD)
    submit(device)
    assert urlsplit(device.current_url).path == "/mfa"
    screenshot(device, "mfa-passkey-en")
    click(device, "passkey")
    assert urlsplit(device.current_url).path == "/account", errors_on(device)
    methods = _session_amr(device, local)
    assert "pwd" in methods and "hwk" in methods and "mfa" in methods


def test_a_password_sign_in_of_a_passkey_only_account_asks_for_the_passkey(
        device: WebDriver, local: str) -> None:
    """An account whose only second factor is a passkey: the password leads to /mfa, which
    offers only the passkey (no code form), and the passkey finishes the sign-in."""
    email = new_email()
    device.get(local + "/signup")
    fill(device, email=email, password=PASSWORD)
    submit(device)
    click(device, "passkey_add")
    _sign_out(device, local)
    device.get(local + "/login")
    fill(device, email=email, password=PASSWORD)
    submit(device)
    assert urlsplit(device.current_url).path == "/mfa"
    assert device.find_elements(By.ID, "code") == []
    click(device, "passkey")
    assert urlsplit(device.current_url).path == "/account", errors_on(device)
