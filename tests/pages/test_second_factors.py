"""Two-step sign-in on the hosted pages, in real Chromium: TOTP on /account, then /mfa.

A person turns TOTP on at /account (the key is read off the page and codes
computed with pyotp, as an authenticator app would), signs out, signs in
with the password and is sent to /mfa; the code (or a recovery code)
finishes the sign-in with amr pwd+otp+mfa, in session and in token mode.
Also: a wrong code, five wrong codes, the no-JavaScript browser, removing
TOTP, deleting the account, accessibility, and both languages.

TOTP codes: the enrolment spends the current time step, so each sign-in
uses the next step's code (``time.time() + 30``, inside the drift window).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson
import pyotp
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.pages.browser import (
    axe_violations,
    chromium,
    click,
    click_and_wait,
    errors_on,
    fill,
    press,
    screenshot,
    submit,
)
from tests.pages.conftest import PASSWORD, Site, new_email


def sign_up(driver: WebDriver, site: Site, lang: str = "en") -> str:
    """A new account through /signup (the browser ends signed in on /account); its email."""
    email = new_email()
    driver.get(f"{site.url}/signup?lang={lang}")
    fill(driver, name="Ada", email=email, password=PASSWORD)
    submit(driver)
    assert urlsplit(driver.current_url).path == "/account", driver.current_url
    return email


def turn_on_totp(driver: WebDriver, lang: str = "en") -> tuple[pyotp.TOTP, list[str]]:
    """TOTP on at /account the way a person does it: the key off the page, the app's code."""
    click(driver, "totp_begin")
    secret = driver.find_element(By.ID, "totp-secret").text.replace(" ", "")
    qr = driver.find_element(By.CSS_SELECTOR, "img.qr").get_attribute("src") or ""
    assert qr.startswith("data:image/svg+xml;base64,")
    screenshot(driver, f"account-totp-setup-{lang}")
    phone = pyotp.TOTP(secret)
    fill(driver, totp_code=phone.at(time.time()))
    click(driver, "totp_confirm")
    codes = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert len(codes) == 10
    screenshot(driver, f"account-recovery-codes-{lang}")
    return phone, codes


def sign_out_and_in(driver: WebDriver, site: Site, email: str, query: str = "") -> None:
    """Sign out, then the password again at /login (with ``query``'s hand-off)."""
    driver.get(site.url + "/account")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.signout button"))
    driver.get(f"{site.url}/login{query}")
    fill(driver, email=email, password=PASSWORD)
    submit(driver)


def next_code(phone: pyotp.TOTP) -> str:
    """The code of the next time step (the current one was spent by the enrolment)."""
    return phone.at(time.time() + 30)


def wrong(code: str) -> str:
    """Another six digits than ``code`` (half the code space away: no neighbouring step's)."""
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


def session_amr(driver: WebDriver, site: Site) -> list[str]:
    """The amr of the browser's authd session, read over the API with its cookie."""
    cookies = {c["name"]: c["value"] for c in driver.get_cookies()}
    with httpx.Client(base_url=site.url, cookies=cookies) as api:
        found: list[str] = api.get("/v1/session").json()["session"]["amr"]
    return found


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_totp_on_then_a_password_sign_in_asks_for_the_code(fresh: WebDriver, site: Site,
                                                           lang: str) -> None:
    """After TOTP is on, the password alone lands on /mfa, not the account; a wrong code says
    so (with the tries left); the right one signs in with amr pwd+otp+mfa."""
    email = sign_up(fresh, site, lang)
    phone, _codes = turn_on_totp(fresh, lang)
    fresh.get(site.url + "/account")
    assert fresh.find_element(By.ID, "totp-status").text
    sign_out_and_in(fresh, site, email)
    assert urlsplit(fresh.current_url).path == "/mfa"
    assert fresh.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    screenshot(fresh, f"mfa-{lang}")
    code = next_code(phone)
    fill(fresh, code=wrong(code))
    press(fresh, "Verify" if lang == "en" else "확인하기")
    assert urlsplit(fresh.current_url).path == "/mfa"
    expected = ("That code is wrong or was already used. Try again." if lang == "en"
                else "코드가 틀렸거나 이미 사용되었습니다. 다시 시도하세요.")
    assert errors_on(fresh) == [expected]
    assert "4" in fresh.find_element(By.ID, "tries-left").text
    screenshot(fresh, f"mfa-error-{lang}")
    fill(fresh, code=code)
    press(fresh, "Verify" if lang == "en" else "확인하기")
    assert urlsplit(fresh.current_url).path == "/account"
    assert session_amr(fresh, site) == ["pwd", "otp", "mfa"]


def test_a_recovery_code_finishes_the_sign_in_once(fresh: WebDriver, site: Site) -> None:
    """'Use a recovery code instead' takes one of the ten codes; it works once, nine are left."""
    email = sign_up(fresh, site)
    _phone, codes = turn_on_totp(fresh)
    sign_out_and_in(fresh, site, email)
    click(fresh, "use-recovery")
    fill(fresh, code=codes[3])
    press(fresh, "Verify")
    assert urlsplit(fresh.current_url).path == "/account"
    assert "9" in fresh.find_element(By.CSS_SELECTOR, "#totp-status + p").text
    sign_out_and_in(fresh, site, email)
    click(fresh, "use-recovery")
    fill(fresh, code=codes[3])
    press(fresh, "Verify")
    assert urlsplit(fresh.current_url).path == "/mfa" and errors_on(fresh)


def test_five_wrong_codes_and_the_person_starts_again(fresh: WebDriver, site: Site) -> None:
    """Five wrong codes drop the waiting sign-in: the page says to sign in again, and even the
    right code is no use any more."""
    email = sign_up(fresh, site)
    phone, _codes = turn_on_totp(fresh)
    sign_out_and_in(fresh, site, email)
    code = next_code(phone)
    for _ in range(5):
        fill(fresh, code=wrong(code))
        press(fresh, "Verify")
    assert errors_on(fresh) == ["Too many wrong codes. Sign in again to get new tries."]
    assert fresh.find_elements(By.ID, "code") == []
    fresh.get(site.url + "/mfa")
    assert fresh.find_elements(By.ID, "code") == []
    assert fresh.find_element(By.ID, "start-over").get_attribute("href").endswith("/login")


def test_token_mode_after_the_second_step_gives_tokens_with_its_amr(
        fresh: WebDriver, site: Site, http: httpx.Client) -> None:
    """mode=token through /mfa: the app's one-time code buys tokens at once (no second
    mfa_required), and the access token says pwd+otp+mfa, not fed."""
    email = sign_up(fresh, site)
    phone, _codes = turn_on_totp(fresh)
    query = httpx.QueryParams(return_to=site.app.url + "/cb", mode="token", client_id="authd",
                              state="st-mfa")
    sign_out_and_in(fresh, site, email, f"?{query}")
    assert urlsplit(fresh.current_url).path == "/mfa"
    fill(fresh, code=next_code(phone))
    press(fresh, "Verify")
    landed = urlsplit(fresh.current_url)
    assert landed.path == "/app/cb"
    params = parse_qs(landed.query)
    assert params["state"] == ["st-mfa"]
    tokens = http.post("/v1/token", data={"grant_type": "authorization_code", "client_id": "authd",
                                          "code": params["code"][0]})
    assert tokens.status_code == 200, tokens.text
    payload = tokens.json()["access_token"].split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert sorted(claims["amr"]) == ["mfa", "otp", "pwd"]


def test_token_mode_without_a_second_factor_says_pwd(fresh: WebDriver, site: Site,
                                                      http: httpx.Client) -> None:
    """A pages password login in token mode gives tokens whose amr is pwd (not fed)."""
    email = sign_up(fresh, site)
    query = httpx.QueryParams(return_to=site.app.url + "/cb", mode="token", client_id="authd")
    sign_out_and_in(fresh, site, email, f"?{query}")
    code = parse_qs(urlsplit(fresh.current_url).query)["code"][0]
    tokens = http.post("/v1/token", data={"grant_type": "authorization_code", "client_id": "authd",
                                          "code": code})
    assert tokens.status_code == 200, tokens.text
    payload = tokens.json()["access_token"].split(".")[1]
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["amr"] == ["pwd"]


@pytest.fixture(scope="module")
def nojs() -> Iterator[WebDriver]:
    """A Chromium with JavaScript switched off."""
    with chromium(javascript=False) as driver:
        yield driver


def test_the_totp_path_needs_no_javascript(nojs: WebDriver, site: Site) -> None:
    """Turning TOTP on, /mfa and the code all work as plain forms."""
    nojs.get(site.url + "/ui/theme.css")
    nojs.delete_all_cookies()
    email = sign_up(nojs, site)
    phone, _codes = turn_on_totp(nojs)
    sign_out_and_in(nojs, site, email)
    assert urlsplit(nojs.current_url).path == "/mfa"
    fill(nojs, code=next_code(phone))
    press(nojs, "Verify")
    assert urlsplit(nojs.current_url).path == "/account"


def test_new_recovery_codes_and_turning_totp_off(fresh: WebDriver, site: Site) -> None:
    """'Make new recovery codes' shows ten new ones (the old stop working); 'turn off' makes
    the password enough again."""
    email = sign_up(fresh, site)
    _phone, old = turn_on_totp(fresh)
    fresh.get(site.url + "/account")
    press(fresh, "Make new recovery codes")
    new = [li.text for li in fresh.find_elements(By.CSS_SELECTOR, "#recovery-codes li")]
    assert len(new) == 10 and not set(new) & set(old)
    fresh.get(site.url + "/account")
    press(fresh, "Turn off two-step sign-in")
    assert "off" in fresh.find_element(By.CSS_SELECTOR, ".notice").text
    sign_out_and_in(fresh, site, email)
    assert urlsplit(fresh.current_url).path == "/account"


def test_deleting_the_account(fresh: WebDriver, site: Site) -> None:
    """Ticked and pressed, the account is gone: signed out, and the password fails."""
    email = sign_up(fresh, site)
    screenshot(fresh, "account-delete-en")
    fresh.find_element(By.ID, "confirm_delete").click()  # a checkbox: no navigation
    press(fresh, "Delete my account")
    assert fresh.find_element(By.TAG_NAME, "h1").text == "Your account is deleted"
    fresh.get(site.url + "/account")
    assert urlsplit(fresh.current_url).path == "/login"
    fill(fresh, email=email, password=PASSWORD)
    press(fresh, "Sign in")
    assert urlsplit(fresh.current_url).path == "/login" and errors_on(fresh)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_no_serious_accessibility_findings_on_the_new_pages(fresh: WebDriver, site: Site,
                                                            lang: str) -> None:
    """axe-core finds nothing serious or critical on /mfa (with an error) and the account's
    two-step sections (setup, recovery codes, on)."""
    found = {}
    email = sign_up(fresh, site, lang)
    click(fresh, "totp_begin")
    found["setup"] = axe_violations(fresh)
    secret = fresh.find_element(By.ID, "totp-secret").text.replace(" ", "")
    phone = pyotp.TOTP(secret)
    fill(fresh, totp_code=phone.at(time.time()))
    click(fresh, "totp_confirm")
    found["codes"] = axe_violations(fresh)
    fresh.get(site.url + "/account")
    found["on"] = axe_violations(fresh)
    sign_out_and_in(fresh, site, email)
    found["mfa"] = axe_violations(fresh)
    fill(fresh, code=wrong(next_code(phone)))
    click(fresh, "verify")
    found["mfa-error"] = axe_violations(fresh)
    assert {k: v for k, v in found.items() if v} == {}


def test_a_recovery_code_is_not_in_any_url(fresh: WebDriver, site: Site) -> None:
    """Nothing secret travels in an address: /mfa's URL never holds the mfa_token or a code."""
    email = sign_up(fresh, site)
    _phone, codes = turn_on_totp(fresh)
    sign_out_and_in(fresh, site, email)
    assert urlsplit(fresh.current_url).query == ""
    click(fresh, "use-recovery")
    fill(fresh, code=codes[0])
    press(fresh, "Verify")
    assert codes[0] not in fresh.current_url
    assert urlsplit(fresh.current_url).path == "/account"
