"""The default issuer follows the served port; a configured one (env or TOML) never changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from authd.config import load_settings


def test_unconfigured_issuer_is_localhost_on_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an issuer setting, `authd serve --port 9000` publishes http://localhost:9000."""
    monkeypatch.delenv("AUTHD_ISSUER", raising=False)
    monkeypatch.delenv("AUTHD_CONFIG", raising=False)
    settings = load_settings().issuer_for_port(9000)
    assert settings.issuer == "http://localhost:9000" and settings.audience == "http://localhost:9000"
    assert settings.insecure_cookies_allowed  # localhost is loopback: plain-http cookies work


def test_configured_issuer_is_kept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An issuer from the environment or the TOML file wins over the port."""
    monkeypatch.delenv("AUTHD_CONFIG", raising=False)
    monkeypatch.setenv("AUTHD_ISSUER", "http://127.0.0.1:8000")
    assert load_settings().issuer_for_port(9000).issuer == "http://127.0.0.1:8000"
    monkeypatch.delenv("AUTHD_ISSUER")
    toml = tmp_path / "authd.toml"
    toml.write_text('issuer = "https://auth.example.com"\n')
    monkeypatch.setenv("AUTHD_CONFIG", str(toml))
    settings = load_settings().issuer_for_port(9000)
    assert settings.issuer == "https://auth.example.com" and not settings.insecure_cookies_allowed
