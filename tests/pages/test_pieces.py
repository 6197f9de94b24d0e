"""The pages' pure parts: catalogues, language choice, form tokens, [ui] settings, the CSP."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from authd.config import ConfigError, load_settings
from authd.core.forms import FormTokens
from authd.errors import CsrfFailed
from authd.pages import _i18n
from authd.pages._security import content_security_policy

PAGES = Path(__file__).resolve().parents[2] / "src" / "authd" / "pages"
_CALL = re.compile(r'(?:\b_|gettext)\(\s*((?:"(?:[^"\\]|\\.)*"\s*)+)')


def _messages_used() -> set[str]:
    found = set()
    for path in [*PAGES.glob("templates/*.html"), *PAGES.glob("*.py")]:
        for match in _CALL.finditer(path.read_text()):
            found.add("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', match.group(1))))
    return found - {"Hello %(name)s"}  # the docstring's example


def test_every_text_on_the_pages_has_a_korean_translation() -> None:
    """No page shows an English sentence to a Korean reader: the catalogue covers every text."""
    korean = _i18n.load_catalogues()["ko"]
    used = _messages_used()
    assert len(used) > 80
    assert sorted(used - korean.keys()) == []
    for message in used:
        assert re.findall(r"%\(\w+\)s", message) == re.findall(r"%\(\w+\)s", korean[message])


@pytest.mark.parametrize(("query", "cookie", "header", "expected"), [
    ("ko", None, "en-US,en;q=0.9", "ko"),
    (None, "ko", "en", "ko"),
    ("xx", None, "ko-KR,ko;q=0.9,en;q=0.5", "ko"),
    (None, None, "fr-FR, en;q=0.3, ko;q=0.2", "en"),
    (None, None, "fr", "en"),
    (None, None, "de;q=abc, ko;q=0", "en"),
    (None, "en", "ko", "en"),
])
def test_the_language_is_the_explicit_choice_then_the_browsers(
        query: str | None, cookie: str | None, header: str, expected: str) -> None:
    """?lang= wins, then the remembered cookie, then Accept-Language (by q), then the default."""
    assert _i18n.choose(query, cookie, header, "en") == expected


def test_dates_are_written_the_way_each_language_writes_them() -> None:
    """The session list's dates: English month names, Korean 오전/오후."""
    assert _i18n.format_time(0, "en").startswith("Jan 1, 1970")
    assert "오전" in _i18n.format_time(0, "ko")


def test_a_form_token_is_bound_to_its_pre_session_cookie() -> None:
    """Only the token of the browser's own cookie passes; no cookie or no token fails."""
    tokens = FormTokens(b"k" * 32)
    mine, theirs = tokens.new_binding(), tokens.new_binding()
    tokens.check(mine, tokens.token(mine))
    for binding, presented in ((mine, tokens.token(theirs)), (None, tokens.token(mine)),
                               (mine, None), (mine, ""), ("x" * 200, tokens.token("x" * 200))):
        with pytest.raises(CsrfFailed):
            tokens.check(binding, presented)
    assert FormTokens(b"j" * 32).token(mine) != tokens.token(mine)  # another root secret


def test_a_sealed_record_opens_only_intact_and_in_its_own_browser() -> None:
    """The waiting sign-in's cookie: it opens for its own pre-session cookie only; any changed
    character, another browser's cookie, another root secret or garbage opens nothing."""
    tokens = FormTokens(b"k" * 32)
    mine, theirs = tokens.new_binding(), tokens.new_binding()
    sealed = tokens.seal(mine, b'{"t":"secret mfa token"}')
    assert tokens.open(mine, sealed) == b'{"t":"secret mfa token"}'
    assert b"secret" not in sealed.encode() and "secret" not in sealed
    for index in range(len(sealed)):
        changed = sealed[:index] + ("A" if sealed[index] != "A" else "B") + sealed[index + 1:]
        assert tokens.open(mine, changed) is None, index
    for binding, presented in ((theirs, sealed), (None, sealed), (mine, None), (mine, ""),
                               (mine, "!!!"), (mine, "A" * 5000)):
        assert tokens.open(binding, presented) is None
    assert FormTokens(b"j" * 32).open(mine, sealed) is None


@pytest.mark.parametrize("colour", ["red", "#12345", "#1234567", "#12345g", "#abc); x: y"])
def test_primary_color_must_be_a_hex_colour(colour: str, tmp_path: Path) -> None:
    """A colour that is not #rrggbb is refused at start-up (it goes into a stylesheet)."""
    with pytest.raises(ConfigError):
        load_settings(data_dir=tmp_path, ui={"primary_color": colour})


def test_the_csp_names_the_logo_and_return_to_origins(tmp_path: Path) -> None:
    """img-src gets the logo's origin; form-action the origins return_to may lead to."""
    settings = load_settings(data_dir=tmp_path, ui={"logo_url": "https://cdn.example/l.svg"},
                             redirect_allowlist=["https://app.example/cb"])
    csp = content_security_policy(settings)
    assert "img-src 'self' data: https://cdn.example;" in csp
    assert "form-action 'self' https://app.example;" in csp
    with pytest.raises(ConfigError):
        load_settings(data_dir=tmp_path, ui={"logo_url": "http://cdn.example/l.svg"})


def test_a_template_in_templates_dir_wins_over_the_shipped_one(tmp_path: Path) -> None:
    """[ui] templates_dir overrides a page file by file; the others stay the shipped ones."""
    from authd.pages import PageKit
    (tmp_path / "login.html").write_text('{% extends "base.html" %}{% block title %}Ours{% endblock %}')
    kit = PageKit(load_settings(data_dir=tmp_path, ui={"templates_dir": str(tmp_path)}))
    assert "Ours" in kit.env.get_template("login.html").render(
        _=lambda m, **v: m, lang="en", app_name="A", logo_url=None, path="/login",
        other_lang="ko", errors=[], notice=None)
    assert kit.env.get_template("signup.html").filename.endswith("authd/pages/templates/signup.html")
