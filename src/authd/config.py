"""One frozen settings object, built once at start-up and passed down.

Sources, strongest first: ``AUTHD_*`` environment variables (nested keys with
``__``, e.g. ``AUTHD_RATE_LIMITS__ACCOUNT_FAILURES``), then the TOML file named
by ``AUTHD_CONFIG``, then the defaults below. Secrets are ``SecretStr`` so they
are masked in every repr, log line and ``authd config check`` output.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

SigningAlg = Literal["ES256", "EdDSA", "RS256", "HS256"]
DAY = 86_400
# 32 random bytes in base64url are 43 characters; hex or base64 of 32 bytes are longer.
MIN_ROOT_SECRET_LENGTH = 43
MIN_ROOT_SECRET_DISTINCT = 10
MAKE_ROOT_SECRET = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'
MAKE_WEBHOOK_SECRET = ('python -c "import base64, secrets; '
                       'print(\'whsec_\' + base64.b64encode(secrets.token_bytes(32)).decode())"')


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RateLimits(_Frozen):
    """Brute-force controls; counted for existing and unknown accounts alike."""

    account_failures: int = Field(10, ge=1)
    ip_failures: int = Field(100, ge=1)
    window: int = Field(600, ge=1, description="seconds")
    signups_per_ip: int = Field(20, ge=1, description="per window")
    social_logins_per_ip: int = Field(300, ge=1, description="social login starts per window")
    revokes_per_ip: int = Field(600, ge=1, description="token revocation requests per window")


ClientAuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt"]
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


class ClientConfig(_Frozen):
    """A registered confidential client (introspection, authorization code, client_credentials).

    It authenticates with a secret (``secret_hash``) or with JWTs signed by its own
    private key (RFC 7523 ``private_key_jwt``): its public keys inline (``jwks``) or
    published at ``jwks_url``. Never both, so the weaker credential cannot stand in
    for the stronger one.
    """

    secret_hash: SecretStr | None = None
    jwks: dict[str, Any] | None = Field(None, description="the client's public keys (a JWKS)")
    jwks_url: str | None = Field(None, description="https URL of the client's public JWKS")
    token_endpoint_auth_method: ClientAuthMethod | None = Field(
        None, description="default: private_key_jwt with keys, else the secret by Basic or form")
    redirect_uris: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    # The APIs the client's own client_credentials tokens may be for; the first is the
    # default; none = the server's default audience.
    audiences: tuple[str, ...] = ()
    name: str = ""

    @field_validator("audiences")
    @classmethod
    def _audiences_are_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """An audience is compared byte for byte by every API: no blanks, no stray spaces."""
        for audience in value:
            if not audience or any(ch.isspace() for ch in audience):
                raise ValueError(f"audience {audience!r} must be an absolute URI or a "
                                 "non-empty name without whitespace")
            if ":" in audience and not _is_absolute_uri(audience):
                raise ValueError(f"audience {audience!r} looks like a URI but is not an "
                                 "absolute one (scheme://host/...)")
        return value

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url_is_secure(cls, value: str | None) -> str | None:
        if value is not None and not _is_secure_url(value):
            raise ValueError(f"{value!r} must be an https URL (http only on loopback)")
        return value

    @field_validator("jwks")
    @classmethod
    def _jwks_are_public_signing_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            check_client_jwks(value)
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> ClientConfig:
        has_keys = self.jwks is not None or self.jwks_url is not None
        if self.jwks is not None and self.jwks_url is not None:
            raise ValueError("set jwks or jwks_url, not both")
        if has_keys and self.secret_hash is not None:
            raise ValueError("set secret_hash or keys (jwks, jwks_url), not both: a client "
                             "authenticates one way")
        method = self.token_endpoint_auth_method
        if method == "private_key_jwt" and not has_keys:
            raise ValueError("private_key_jwt needs the client's public keys in jwks or jwks_url")
        if method in SECRET_METHODS and self.secret_hash is None:
            raise ValueError(f"{method} needs a secret_hash")
        return self

    @property
    def auth_methods(self) -> tuple[str, ...]:
        """The methods this client may use: the configured one, or what its credential allows."""
        if self.token_endpoint_auth_method is not None:
            return (self.token_endpoint_auth_method,)
        if self.jwks is not None or self.jwks_url is not None:
            return ("private_key_jwt",)
        return SECRET_METHODS if self.secret_hash is not None else ()


# Signature algorithms a client may sign its assertions with: asymmetric only, so a
# registered public key can never be used as an HMAC secret.
CLIENT_ASSERTION_ALGS = ("ES256", "EdDSA", "PS256", "RS256")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def check_client_jwks(value: Any) -> None:
    """Raise ValueError (one sentence) unless ``value`` is a JWKS of public asymmetric keys."""
    from authd import jose

    entries = value.get("keys") if isinstance(value, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ValueError("must be a JWKS: an object with a non-empty keys array")
    for entry in entries:
        if not isinstance(entry, dict):
            raise ValueError("every key must be a JSON object")
        if entry.get("kty") == "oct":
            raise ValueError("symmetric (oct) keys are refused: list the client's public keys")
        if _PRIVATE_JWK_MEMBERS & set(entry):
            raise ValueError("a private key is in jwks: list only public keys, keep the "
                             "private one with the client")
        try:
            key = jose.key_from_jwk(entry, default_alg="RS256", public_only=True)
        except jose.InvalidKey as exc:
            raise ValueError(f"a key is not usable: {exc}") from None
        if key.alg not in CLIENT_ASSERTION_ALGS:
            raise ValueError(f"alg {key.alg} is not accepted for client assertions (use one "
                             f"of {', '.join(CLIENT_ASSERTION_ALGS)})")


class ProviderConfig(_Frozen):
    """One social-login provider: an OIDC issuer by discovery, or a preset."""

    issuer: str | None = None
    preset: Literal["google", "github"] | None = None
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    scopes: tuple[str, ...] | None = Field(
        None, description="default: openid email profile; read:user user:email for GitHub")
    link_by_verified_email: bool = False
    token_auth_method: Literal["client_secret_basic", "client_secret_post"] | None = Field(
        None, description="default: client_secret_basic if discovery lists it, else _post")
    web_url: str | None = Field(None, description="GitHub preset: a GitHub Enterprise Server URL")
    api_url: str | None = Field(None, description="GitHub preset: its REST API URL")
    hosted_domain: str | None = Field(
        None, description="Google preset: only accounts of this Google Workspace domain (ID token hd)")

    @model_validator(mode="after")
    def _issuer_or_preset(self) -> ProviderConfig:
        if (self.issuer is None) == (self.preset is None):
            raise ValueError("set exactly one of issuer or preset")
        if self.preset != "github" and (self.web_url or self.api_url):
            raise ValueError("web_url and api_url are for the github preset")
        if self.hosted_domain is not None and (
                self.preset != "google" or not _is_domain(self.hosted_domain)):
            raise ValueError("hosted_domain is for the google preset: a domain such as example.com")
        for url in (self.issuer, self.web_url, self.api_url):
            if url is not None and not _is_secure_url(url):
                raise ValueError(f"{url!r} must be an https URL (http only on loopback)")
        return self


def _is_domain(value: str) -> bool:
    label = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
    return len(value) <= 253 and re.fullmatch(rf"{label}(?:\.{label})+", value) is not None


class OAuthConfig(_Frozen):
    providers: dict[str, ProviderConfig] = {}

    @field_validator("providers")
    @classmethod
    def _names_fit_a_path(cls, value: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        for name in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", name):
                raise ValueError(f"provider name {name!r}: use a-z, 0-9, - and _ (it is a URL segment)")
        return value


class MailLinks(_Frozen):
    """The app's own pages that mail links open (each receives ``?token=``); default: the issuer."""

    verify_email: str | None = None
    reset_password: str | None = None
    confirm_email: str | None = None
    sign_in: str | None = None

    @field_validator("verify_email", "reset_password", "confirm_email", "sign_in")
    @classmethod
    def _secure(cls, value: str | None) -> str | None:
        if value is not None and (not _is_secure_url(value.split("?", 1)[0])):
            raise ValueError(f"{value!r} must be an https URL (http only on loopback)")
        return value


class MailConfig(_Frozen):
    """Outgoing mail: verification, password reset, email change and sign-in codes."""

    from_: str = Field("authd <no-reply@localhost>", alias="from", min_length=3)
    smtp_url: SecretStr | None = Field(
        None, description="smtp://user:pass@host:587 (STARTTLS), smtps://host:465, "
                          "smtp://127.0.0.1:25?tls=none (loopback only); unset: .eml files "
                          "in data_dir/outbox/")
    templates_dir: Path | None = None
    product_name: str = Field("authd", min_length=1, max_length=100)
    links: MailLinks = MailLinks()
    per_address_per_hour: int = Field(5, ge=1, description="mails one address may be sent per hour")
    requests_per_ip: int = Field(100, ge=1, description="mail-sending requests per IP per window")
    verify_ttl: int = Field(DAY, ge=60)
    reset_ttl: int = Field(1800, ge=60)
    change_ttl: int = Field(3600, ge=60)
    sign_in_ttl: int = Field(600, ge=60, le=3600)
    poll_interval: float = Field(1.0, gt=0, le=60, description="seconds between outbox polls")
    give_up_after: int = Field(3 * DAY, ge=60, description="seconds a message is retried")
    smtp_timeout: float = Field(20.0, gt=0, le=300)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("must be smtp://host:587 (STARTTLS), smtps://host:465 or "
                             "smtp://127.0.0.1:25?tls=none")
        if "tls=none" in parts.query and (parts.scheme != "smtp" or not _is_loopback(parts.hostname)):
            raise ValueError("tls=none is only allowed to a loopback host")
        return value


WEBHOOK_SECRET_PREFIX = "whsec_"
MIN_WEBHOOK_SECRET_BYTES = 24
WEBHOOK_EVENT_PATTERN = re.compile(r"\*|[a-z_]+\.(?:\*|[a-z_]+)")


class WebhookEndpoint(_Frozen):
    """One receiver of signed event notifications (Standard Webhooks)."""

    url: str
    secret: SecretStr
    events: tuple[str, ...] = Field(("*",), min_length=1,
                                    description="event types or patterns: user.*, *")

    @field_validator("url")
    @classmethod
    def _https_only(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
            raise ValueError(f"{value!r} must be an https URL (http only on a loopback host)")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError(f"{value!r}: plain http is only allowed to a loopback host; use https")
        return value

    @field_validator("secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr) -> SecretStr:
        """``whsec_`` + base64 of at least 24 random bytes: what Standard Webhooks libraries read."""
        secret = value.get_secret_value()
        body = secret[len(WEBHOOK_SECRET_PREFIX):]
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        except ValueError:
            raw = b""
        if not secret.startswith(WEBHOOK_SECRET_PREFIX) or len(raw) < MIN_WEBHOOK_SECRET_BYTES \
                or len(set(raw)) < MIN_ROOT_SECRET_DISTINCT:
            raise ValueError(
                f"must be {WEBHOOK_SECRET_PREFIX!r} followed by the base64 of at least "
                f"{MIN_WEBHOOK_SECRET_BYTES} random bytes; make one with {MAKE_WEBHOOK_SECRET}")
        return value

    @field_validator("events")
    @classmethod
    def _known_patterns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            if not WEBHOOK_EVENT_PATTERN.fullmatch(pattern):
                raise ValueError(f"{pattern!r} is not an event type or pattern "
                                 "(e.g. user.created, user.*, *)")
        return value


class WebhookDelivery(_Frozen):
    """How every webhook endpoint is called and retried."""

    timeout: float = Field(5.0, gt=0, le=60, description="seconds per attempt")
    concurrency: int = Field(16, ge=1, le=64, description="requests in flight per endpoint")
    retry_delays: tuple[float, ...] = Field(
        (5.0, 25.0, 90.0), min_length=1,
        description="seconds between the first tries (5 s, 30 s, 2 min after the first); "
                    "later gaps double, up to max_retry_delay")
    max_retry_delay: float = Field(3600.0, gt=0)
    give_up_after: float = Field(3 * DAY, gt=0, description="seconds an event is retried")
    poll_interval: float = Field(1.0, gt=0, le=60, description="seconds between outbox polls")
    retention: int = Field(7 * DAY, ge=60,
                           description="seconds delivered events are kept for the log and replay")
class WebAuthnConfig(_Frozen):
    """Passkeys: the relying party and the pages that may run WebAuthn ceremonies."""

    rp_id: str | None = Field(
        None, description="relying-party id (a domain); default: the issuer's host. A parent "
                          "domain (example.com for id.example.com) lets passkeys work on its "
                          "subdomains")
    rp_name: str = Field("authd", min_length=1, max_length=100,
                         description="the name browsers show when a passkey is created")
    origins: tuple[str, ...] = Field(
        (), description="exact origins besides the issuer's whose pages may register and use "
                        "passkeys (e.g. https://app.example.com); each must be within rp_id")
    challenges_per_ip: int = Field(300, ge=1, description="sign-in challenges per IP per window")

    @field_validator("rp_id")
    @classmethod
    def _rp_id_is_domain(cls, value: str | None) -> str | None:
        if value is not None and value != "localhost" and not _is_domain(value.lower()):
            raise ValueError("must be a domain such as example.com (no scheme, port or path)")
        return value.lower() if value else value

    @field_validator("origins")
    @classmethod
    def _origins_are_exact(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            parts = urlsplit(origin)
            if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
                raise ValueError(f"{origin!r} is not an exact origin like https://app.example")
            if parts.scheme == "http" and not _is_loopback(parts.hostname):
                raise ValueError(f"{origin!r}: plain http is only allowed on a loopback host")
        return tuple(o.rstrip("/") for o in value)


def _within(host: str, rp_id: str) -> bool:
    """WebAuthn's rule: the relying-party id is the page's host or a parent domain of it."""
    return host == rp_id or host.endswith("." + rp_id)
class UiConfig(_Frozen):
    """The hosted pages (/login, /account, ...): on by default; branding and template overrides."""

    enabled: bool = Field(True, description="serve the hosted pages; mail links then open them")
    app_name: str = Field("authd", min_length=1, max_length=100)
    logo_url: str | None = Field(None, description="an https (or loopback http) image URL")
    primary_color: str = Field("#1f5fbf", description="#rrggbb; text on it stays white, so keep "
                                                       "it dark enough for 4.5:1 contrast")
    templates_dir: Path | None = Field(None, description="a folder whose files override the "
                                                         "pages' templates of the same name")
    default_locale: Literal["en", "ko"] = "en"

    @field_validator("logo_url")
    @classmethod
    def _logo_is_secure(cls, value: str | None) -> str | None:
        if value is not None and not _is_secure_url(value):
            raise ValueError(f"{value!r} must be an https URL (http only on loopback)")
        return value

    @field_validator("primary_color")
    @classmethod
    def _colour(cls, value: str) -> str:
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", value):
            raise ValueError("must be a colour written #rrggbb")
        return value.lower()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AUTHD_",
        env_nested_delimiter="__",
        frozen=True,
        extra="forbid",
        case_sensitive=False,
    )

    # Without a configured issuer, ``authd serve`` uses http://localhost:<its port>
    # (see ``issuer_for_port``): a host name, because browsers refuse an IP
    # address as a passkey relying-party id.
    issuer: str = "http://localhost:8000"
    data_dir: Path = Path("./var")
    database_url: str | None = None
    redis_url: str | None = None
    redis_key_prefix: str = Field("authd:", min_length=1, max_length=64)

    access_token_ttl: int = Field(300, ge=10, le=DAY)
    refresh_reuse_grace: int = Field(10, ge=0, le=300)
    refresh_idle_ttl: int = Field(14 * DAY, ge=60)
    refresh_absolute_ttl: int = Field(90 * DAY, ge=60)
    session_idle_timeout: int = Field(1800, ge=60)
    session_absolute_lifetime: int = Field(7 * DAY, ge=60)
    sensitive_max_age: int = Field(
        600, ge=10, le=DAY,
        description="seconds since the last login (or POST /v1/reauth) within which identity "
                    "linking, unlinking and password changes are allowed")
    signing_alg: SigningAlg = "ES256"
    default_audience: str | None = None
    allowed_audiences: tuple[str, ...] = ()
    default_client_id: str = "authd"
    default_scopes: tuple[str, ...] = ("openid", "profile", "email")

    cors_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    redirect_allowlist: tuple[str, ...] = ()
    rate_limits: RateLimits = RateLimits()
    clients: dict[str, ClientConfig] = {}
    oauth: OAuthConfig = OAuthConfig()
    mail: MailConfig = MailConfig()
    webauthn: WebAuthnConfig = WebAuthnConfig()
    ui: UiConfig = UiConfig()
    require_verified_email: bool = Field(
        False, description="refuse password logins of accounts whose email is not verified")
    email_sign_up: bool = Field(False, description="a sign-in code for an unknown address creates "
                                                   "the account")
    webhooks: dict[str, WebhookEndpoint] = {}
    webhook_delivery: WebhookDelivery = WebhookDelivery()

    key_encryption_key: SecretStr | None = None
    argon2_memory_kib: int = Field(19_456, ge=19_456)
    argon2_time_cost: int = Field(2, ge=2)
    argon2_parallelism: int = Field(1, ge=1)
    hash_workers: int = Field(2, ge=1, le=64)
    max_body_bytes: int = Field(65_536, ge=1024)
    revocation_poll_interval: float = Field(0.5, gt=0, le=10)
    audit_retention_days: int = Field(365, ge=0, le=36_500,
                                      description="days audit events are kept; 0 keeps them forever")
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "text"] = "auto"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml_path = os.environ.get("AUTHD_CONFIG")
        if toml_path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(toml_path)))
        return tuple(sources)

    @field_validator("issuer")
    @classmethod
    def _issuer_is_origin_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL")
        if parts.query or parts.fragment:
            raise ValueError("must not have a query or fragment")
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            raise ValueError("plain http is only allowed on a loopback host")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must be a sqlite:/// or postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _known_redis(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("key_encryption_key")
    @classmethod
    def _root_secret_is_strong(cls, value: SecretStr | None) -> SecretStr | None:
        """The root secret keys everything sealed and every refresh-token MAC: 32 random bytes.

        Used as given (its UTF-8 bytes), so existing secrets keep opening what
        they sealed; a short or repetitive value is refused before anything is
        sealed under it.
        """
        if value is None:
            return None
        secret = value.get_secret_value()
        if len(secret) < MIN_ROOT_SECRET_LENGTH or len(set(secret)) < MIN_ROOT_SECRET_DISTINCT:
            raise ValueError(
                f"must be at least {MIN_ROOT_SECRET_LENGTH} characters of random text "
                f"(32 random bytes); make one with {MAKE_ROOT_SECRET}")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_exact(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            parts = urlsplit(origin)
            if origin == "*" or parts.scheme not in ("http", "https") or parts.path not in ("", "/"):
                raise ValueError(f"{origin!r} is not an exact origin like https://app.example")
        return tuple(o.rstrip("/") for o in value)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Addresses or CIDR networks; never every address (any client could pick its own)."""
        networks = []
        for entry in value:
            try:
                network = ipaddress.ip_network(entry.strip())
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or CIDR network "
                                 "(e.g. 10.0.0.7, 10.0.0.0/8, fd00::/8; no host bits "
                                 "after the prefix)") from None
            if network.prefixlen == 0:
                raise ValueError(f"{entry!r} would trust every address, so any client "
                                 "could choose its own; list your proxies")
            networks.append(str(network))
        return tuple(networks)

    @field_validator("webhooks")
    @classmethod
    def _webhook_names(cls, value: dict[str, WebhookEndpoint]) -> dict[str, WebhookEndpoint]:
        for name in value:
            if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,31}", name):
                raise ValueError(f"webhook name {name!r}: use a-z, 0-9, - and _ (at most 32)")
        return value

    @model_validator(mode="after")
    def _refresh_lifetimes_agree(self) -> Settings:
        if self.refresh_idle_ttl > self.refresh_absolute_ttl:
            raise ValueError("refresh_idle_ttl must not exceed refresh_absolute_ttl")
        if self.session_idle_timeout > self.session_absolute_lifetime:
            raise ValueError("session_idle_timeout must not exceed session_absolute_lifetime")
        return self

    @model_validator(mode="after")
    def _passkey_origins_fit_the_rp_id(self) -> Settings:
        rp_id = self.webauthn_rp_id
        for origin in (self.issuer, *self.webauthn.origins):
            host = (urlsplit(origin).hostname or "").lower()
            if not _within(host, rp_id):
                raise ValueError(f"the passkey relying-party id {rp_id!r} (webauthn.rp_id, else "
                                 f"the issuer's host) must be the host of {origin} or a parent "
                                 "domain of it")
        return self

    # Derived values: computed, never configured twice.

    @property
    def sqlalchemy_url(self) -> str:
        """The SQLAlchemy URL: ``sqlite:///path``, or ``postgresql+asyncpg://`` for PostgreSQL."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'authd.db').resolve()}"
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        if url.startswith("postgresql://"):
            return "postgresql+asyncpg://" + url[len("postgresql://"):]
        return url

    def issuer_for_port(self, port: int) -> Settings:
        """These settings, with the default issuer following the port ``authd serve`` listens on.

        A configured issuer is kept as it is; otherwise discovery, the JWKS URL
        and every token's ``iss`` would name a port nobody listens on.
        """
        if "issuer" in self.model_fields_set:
            return self
        return self.model_copy(update={"issuer": f"http://localhost:{port}"})

    @property
    def webauthn_rp_id(self) -> str:
        """The passkeys' relying-party id: ``webauthn.rp_id``, else the issuer's host."""
        return self.webauthn.rp_id or (urlsplit(self.issuer).hostname or "localhost").lower()

    @property
    def webauthn_origins(self) -> tuple[str, ...]:
        """The origins whose WebAuthn ceremonies are accepted: the issuer's, then the configured."""
        parts = urlsplit(self.issuer)
        return tuple(dict.fromkeys([f"{parts.scheme}://{parts.netloc}", *self.webauthn.origins]))

    @property
    def audience(self) -> str:
        return self.default_audience or self.issuer

    @property
    def redirect_targets(self) -> tuple[str, ...]:
        """Where a login may send the browser: the allow-list, and authd's own account page."""
        own = (f"{self.issuer}/account",) if self.ui.enabled else ()
        return (*self.redirect_allowlist, *own)

    @property
    def insecure_cookies_allowed(self) -> bool:
        """Plain-http loopback issuers (development) may drop the cookie's Secure flag."""
        parts = urlsplit(self.issuer)
        return parts.scheme == "http" and _is_loopback(parts.hostname or "")

    def masked(self) -> dict[str, Any]:
        """The effective configuration with every secret replaced by ``**********``."""
        return self.model_dump(mode="json")


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def _is_absolute_uri(value: str) -> bool:
    parts = urlsplit(value)
    return bool(re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme)) and bool(
        parts.netloc or parts.path)


def _is_secure_url(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname or parts.query or parts.fragment:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(parts.hostname))


class ConfigError(Exception):
    """Start-up configuration is invalid; ``problems`` holds one line per bad setting."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def load_settings(**overrides: Any) -> Settings:
    """Build the settings from the environment and TOML file, or raise ConfigError."""
    toml_path = os.environ.get("AUTHD_CONFIG")
    if toml_path and not Path(toml_path).is_file():
        raise ConfigError([f"AUTHD_CONFIG: no such file: {toml_path}"])
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors()]) from None
    except ValueError as exc:  # e.g. a TOML syntax error
        raise ConfigError([f"config: {exc}"]) from None


def _describe(err: Any) -> str:
    where = ".".join(str(part) for part in err["loc"]) or "config"
    return f"{where}: {err['msg']}"
