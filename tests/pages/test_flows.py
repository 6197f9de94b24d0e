"""Every hosted-page flow end to end in real Chromium: sign-up, sign-in, mailed links, account.

Mail arrives at a real SMTP server; the links and codes in it are opened and
typed the way a person would. Screenshots of each page are saved when
AUTHD_SCREENSHOTS is set (docs/pages/).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By

from tests.pages.browser import click_and_wait, errors_on, fill, press, screenshot, submit
from tests.pages.conftest import PASSWORD, Site, new_email
from tests.peers.smtp_sink import code_in

NEW_PASSWORD = "a longer and newer passphrase 7"


def sign_up(driver: WebDriver, site: Site, email: str, name: str = "Ada", query: str = "") -> None:
    """Create an account through /signup; the browser ends signed in on /account."""
    driver.get(f"{site.url}/signup{query}")
    fill(driver, name=name, email=email, password=PASSWORD)
    submit(driver)


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_sign_up_lands_on_the_account_page_in_the_visitors_language(
        fresh: WebDriver, site: Site, lang: str) -> None:
    """Sign-up signs the person in; the account shows their profile, dates in their language."""
    email = new_email()
    fresh.get(f"{site.url}/signup?lang={lang}")
    screenshot(fresh, f"signup-{lang}")
    fill(fresh, name="Ada Lovelace", email=email, password=PASSWORD)
    submit(fresh)
    assert urlsplit(fresh.current_url).path == "/account"
    assert fresh.find_element(By.ID, "profile-email").text.startswith(email)
    assert fresh.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
    heading = fresh.find_element(By.TAG_NAME, "h1").text
    assert heading == ("Your account" if lang == "en" else "내 계정")
    if lang == "ko":
        since = fresh.find_element(By.CSS_SELECTOR, "dl").text
        assert "오전" in since or "오후" in since  # Babel's Korean date and time
    screenshot(fresh, f"account-{lang}")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_a_wrong_password_is_one_message_linked_to_the_field(fresh: WebDriver, site: Site,
                                                              lang: str) -> None:
    """Wrong password and unknown address read the same; the summary links to the field."""
    fresh.get(f"{site.url}/login?lang={lang}")
    screenshot(fresh, f"login-{lang}")
    answers = []
    for email in (new_email(), new_email()):
        fill(fresh, email=email, password="not the password 1")
        submit(fresh)
        answers.append(errors_on(fresh))
    assert answers[0] == answers[1] and len(answers[0]) == 1
    link = fresh.find_element(By.CSS_SELECTOR, ".error-summary a")
    assert link.get_attribute("href").endswith("#password")
    assert fresh.find_element(By.ID, "password").get_attribute("aria-invalid") == "true"
    screenshot(fresh, f"login-error-{lang}")


def test_password_login_and_logout(fresh: WebDriver, site: Site) -> None:
    """A person signs in with email and password, and signing out ends the session."""
    email = new_email()
    sign_up(fresh, site, email)
    press(fresh, "Sign out")
    assert urlsplit(fresh.current_url).path == "/login"
    fresh.get(site.url + "/account")
    assert urlsplit(fresh.current_url).path == "/login"
    fill(fresh, email=email, password=PASSWORD)
    press(fresh, "Sign in")
    assert urlsplit(fresh.current_url).path == "/account"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_forgot_and_reset_password_through_the_mailed_link(fresh: WebDriver, site: Site,
                                                            lang: str) -> None:
    """The reset link opens a page without its token in the URL; the new password then works."""
    email = new_email()
    sign_up(fresh, site, email, query=f"?lang={lang}")  # the account's mail language
    fresh.delete_all_cookies()
    fresh.get(f"{site.url}/forgot-password?lang={lang}")
    screenshot(fresh, f"forgot-password-{lang}")
    fill(fresh, email=email)
    submit(fresh)
    screenshot(fresh, f"forgot-password-sent-{lang}")
    link = site.link(email, "reset" if lang == "en" else "재설정")
    fresh.get(link)
    assert "token" not in fresh.current_url
    assert urlsplit(fresh.current_url).path == "/reset-password"
    screenshot(fresh, f"reset-password-{lang}")
    fill(fresh, new_password=NEW_PASSWORD)
    submit(fresh)
    assert not errors_on(fresh)
    fresh.get(site.url + "/login")
    fill(fresh, email=email, password=NEW_PASSWORD)
    submit(fresh)
    assert urlsplit(fresh.current_url).path == "/account"


def test_the_sign_up_mail_verifies_the_address(fresh: WebDriver, site: Site) -> None:
    """The verification link's button marks the address verified on the account page."""
    email = new_email()
    sign_up(fresh, site, email)
    assert "not verified" in fresh.find_element(By.ID, "profile-email").text
    fresh.get(site.link(email, "Confirm your email"))
    assert "token" not in fresh.current_url
    screenshot(fresh, "verify-email-en")
    press(fresh, "Verify")
    fresh.get(site.url + "/account")
    assert "not verified" not in fresh.find_element(By.ID, "profile-email").text


def test_an_email_change_is_confirmed_from_the_new_address(fresh: WebDriver, site: Site) -> None:
    """Changing the address mails the new one; its link's button makes the change."""
    email, new = new_email(), new_email()
    sign_up(fresh, site, email)
    fill(fresh, new_email=new)
    press(fresh, "Send confirmation")
    assert fresh.find_element(By.CSS_SELECTOR, ".notice").text
    fresh.get(site.link(new, "new email"))
    assert "token" not in fresh.current_url
    screenshot(fresh, "confirm-email-en")
    press(fresh, "Confirm")
    fresh.get(site.url + "/account")
    assert fresh.find_element(By.ID, "profile-email").text.startswith(new)


def test_sign_in_with_a_mailed_code(fresh: WebDriver, site: Site) -> None:
    """The code step: the address, then the six digits from the mail."""
    email = new_email()
    sign_up(fresh, site, email)
    fresh.delete_all_cookies()
    fresh.get(site.url + "/sign-in")
    screenshot(fresh, "sign-in-en")
    fill(fresh, email=email)
    press(fresh, "Email me")
    screenshot(fresh, "sign-in-code-en")
    fill(fresh, code=code_in(site.mail(email, "sign")))
    press(fresh, "Sign in")
    assert urlsplit(fresh.current_url).path == "/account"


def test_sign_in_with_a_mailed_link(fresh: WebDriver, site: Site) -> None:
    """The link step: the token leaves the URL and one button signs in."""
    email = new_email()
    sign_up(fresh, site, email)
    fresh.delete_all_cookies()
    fresh.get(site.url + "/sign-in")
    fill(fresh, email=email)
    press(fresh, "Email me")
    fresh.get(site.link(email, "sign"))
    assert "token" not in fresh.current_url
    press(fresh, "Continue")
    assert urlsplit(fresh.current_url).path == "/account"


def test_other_sessions_have_end_buttons(fresh: WebDriver, site: Site, http: httpx.Client) -> None:
    """A session started elsewhere is listed and its End button ends it for good."""
    email = new_email()
    sign_up(fresh, site, email)
    other = http.post("/v1/session", json={"email": email, "password": PASSWORD})
    assert other.status_code == 200
    fresh.refresh()
    assert len(fresh.find_elements(By.CSS_SELECTOR, ".session")) == 2
    click_and_wait(fresh, fresh.find_element(By.CSS_SELECTOR, ".session form button"))
    assert len(fresh.find_elements(By.CSS_SELECTOR, ".session")) == 1
    assert http.get("/v1/session").status_code == 401


def test_password_change_ends_the_other_sessions(fresh: WebDriver, site: Site,
                                                 http: httpx.Client) -> None:
    """The account's password form: the new password works, other sessions end, this one stays."""
    email = new_email()
    sign_up(fresh, site, email)
    assert http.post("/v1/session", json={"email": email, "password": PASSWORD}).status_code == 200
    fill(fresh, current_password=PASSWORD, new_password=NEW_PASSWORD)
    press(fresh, "Change password")
    assert fresh.find_element(By.CSS_SELECTOR, ".notice").text
    assert http.get("/v1/session").status_code == 401
    assert len(fresh.find_elements(By.CSS_SELECTOR, ".session")) == 1


def test_session_mode_hands_off_to_return_to(fresh: WebDriver, site: Site) -> None:
    """mode=session: after the password the browser lands on return_to, signed in at authd."""
    email = new_email()
    sign_up(fresh, site, email)
    fresh.delete_all_cookies()
    target = site.app.url + "/welcome?x=1"
    fresh.get(f"{site.url}/login?{httpx.QueryParams(return_to=target)}")
    fill(fresh, email=email, password=PASSWORD)
    press(fresh, "Sign in")
    assert fresh.current_url == target
    landed = [seen for seen in site.app.seen if seen[0].startswith("/app/welcome")]
    assert landed == [("/app/welcome?x=1", None)]  # and no Referer reaches the app
    fresh.get(site.url + "/account")
    assert urlsplit(fresh.current_url).path == "/account"


def test_token_mode_hands_a_one_time_code_with_pkce_and_state(fresh: WebDriver, site: Site,
                                                               http: httpx.Client) -> None:
    """mode=token: return_to gets ?code=&state=; the code and the verifier buy tokens once."""
    email = new_email()
    sign_up(fresh, site, email)
    fresh.delete_all_cookies()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    query = httpx.QueryParams(return_to=site.app.url + "/cb", mode="token", client_id="authd",
                              code_challenge=challenge.decode(), code_challenge_method="S256",
                              state="st-42")
    fresh.get(f"{site.url}/login?{query}")
    fill(fresh, email=email, password=PASSWORD)
    press(fresh, "Sign in")
    landed = urlsplit(fresh.current_url)
    assert landed.path == "/app/cb"
    params = parse_qs(landed.query)
    assert params["state"] == ["st-42"]
    wrong = http.post("/v1/token", data={"grant_type": "authorization_code", "client_id": "authd",
                                         "code": params["code"][0], "code_verifier": "x" * 43})
    assert wrong.status_code == 400
    fresh.get(f"{site.url}/login?{query}")
    fill(fresh, email=email, password=PASSWORD)
    press(fresh, "Sign in")
    code = parse_qs(urlsplit(fresh.current_url).query)["code"][0]
    tokens = http.post("/v1/token", data={"grant_type": "authorization_code", "client_id": "authd",
                                          "code": code, "code_verifier": verifier})
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["access_token"]


def test_the_home_and_mfa_pages(fresh: WebDriver, site: Site) -> None:
    """/ links to sign-in and the API description; /mfa with no sign-in waiting says so."""
    fresh.get(site.url + "/")
    screenshot(fresh, "home-en")
    hrefs = {a.get_attribute("href") for a in fresh.find_elements(By.TAG_NAME, "a")}
    assert site.url + "/login" in hrefs and site.url + "/openapi.json" in hrefs
    fresh.get(site.url + "/mfa")
    assert "No sign-in is waiting" in fresh.find_element(By.TAG_NAME, "main").text


def test_a_social_button_signs_in_and_the_account_lists_the_provider(fresh: WebDriver,
                                                                     site: Site) -> None:
    """The provider's button on /login ends on /account, signed in, the provider linked."""
    site.op.reset()
    fresh.get(site.url + "/login")
    click_and_wait(fresh, fresh.find_element(By.LINK_TEXT, "Fake"))
    assert urlsplit(fresh.current_url).path == "/account"
    assert fresh.find_element(By.ID, "profile-email").text.startswith(site.op.user["email"])
    assert "Fake" in fresh.find_element(By.CSS_SELECTOR, ".providers").text


def test_a_social_button_keeps_token_mode(fresh: WebDriver, site: Site, http: httpx.Client) -> None:
    """In token mode the provider's button also ends at return_to with a code and the state."""
    site.op.reset()
    query = httpx.QueryParams(return_to=site.app.url + "/cb", mode="token", state="s-1")
    fresh.get(f"{site.url}/login?{query}")
    click_and_wait(fresh, fresh.find_element(By.LINK_TEXT, "Fake"))
    landed = urlsplit(fresh.current_url)
    assert landed.path == "/app/cb" and parse_qs(landed.query)["state"] == ["s-1"]
    tokens = http.post("/v1/token", data={"grant_type": "authorization_code", "client_id": "authd",
                                          "code": parse_qs(landed.query)["code"][0]})
    assert tokens.status_code == 200, tokens.text


def test_a_provider_is_linked_from_the_account_page(fresh: WebDriver, site: Site) -> None:
    """A password account links the provider with one button and lists it afterwards."""
    site.op.reset()
    sign_up(fresh, site, new_email())
    press(fresh, "Link Fake")
    click_and_wait(fresh, fresh.find_element(By.LINK_TEXT, "Continue"))
    assert urlsplit(fresh.current_url).path == "/account"
    assert "Fake" in fresh.find_element(By.CSS_SELECTOR, ".providers").text
    assert not fresh.find_elements(By.XPATH, "//button[starts-with(normalize-space(), 'Link ')]")
