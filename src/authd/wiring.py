"""Builds the object graph once from the settings: storage adapters into core services.

The HTTP app and the CLI both start here, so they can never disagree on how
authd is put together. Background loops (revocation sync, key reload) are
started and stopped by the owner of the returned ``Services``, which also owns
the stores and clients. Routes and commands see ``Services.use_cases``: the
use cases only, with no store, database or Redis client to reach around them.
Each use case gets a small frozen policy value built here from the settings
(``token_policy``, ``session_policy``...), never the settings themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from authd.clock import Clock, SystemClock
from authd.config import Settings
from authd.core.account_access import Reauthentication
from authd.core.accounts import Accounts
from authd.core.admin import Administration
from authd.core.audit import Auditor
from authd.core.client_assertions import AssertionPolicy, ClientKeySets
from authd.core.client_auth import ClientAuthenticator
from authd.core.clients import ClientRegistry
from authd.core.cursors import CursorSealer
from authd.core.directory import SessionDirectory
from authd.core.email_flows import EmailAccounts
from authd.core.forms import FormTokens
from authd.core.health import Health
from authd.core.identities import IdentityLinks
from authd.core.keys import KeyManager
from authd.core.machines import ClientCredentials
from authd.core.mail import OutboxWorker, OutboxWriter
from authd.core.passkeys import PasskeyFactor, Passkeys
from authd.core.passwords import PasswordHasher
from authd.core.policies import (
    ClientPolicy,
    PasskeyPolicy,
    RateLimitPolicy,
    RegisteredClient,
    SessionPolicy,
    TokenPolicy,
)
from authd.core.ports import CookieSessionStore
from authd.core.ratelimit import BruteForceGuard, RateLimitStore
from authd.core.revocation import Revocations
from authd.core.second_factors import SecondFactors
from authd.core.second_step import SecondStep
from authd.core.secrets import ServerSecrets
from authd.core.session_cache import ForgettingSessionStore, SessionCache
from authd.core.sessions import CookieSessionService
from authd.core.social import SealedPendingLogins, SocialLogins
from authd.core.social_callback import SocialCallbacks
from authd.core.tokens import TokenService
from authd.core.webhook_log import WebhookLog
from authd.core.webhooks import WebhookEvents, WebhookPolicy, WebhookTarget, WebhookWorker
from authd.core.your_data import AccountData
from authd.errors import RootSecretError
from authd.storage.ratelimit_memory import MemoryRateLimitStore
from authd.storage.rootsecret import load_root_secret
from authd.storage.sql import SqlStore, migrate, open_database
from authd.storage.sql.engine import describe_database

if TYPE_CHECKING:  # loaded only when configured: idle memory is for what is used
    import httpx
    from redis.asyncio import Redis

    from authd.mail import FileMailer, SmtpMailer, TemplateRenderer
    from authd.oauth.client_jwks import HttpJwksFetcher
    from authd.oauth.driver import ProviderClient
    from authd.storage.redis.fanout import RevocationFanout
    from authd.webhooks import HttpSender

log = logging.getLogger("authd")
KEY_RELOAD_INTERVAL = 10.0
FEED_PRUNE_INTERVAL = 300.0
MAIL_WAKE_DELAY = 0.05
WEBHOOK_WAKE_DELAY = 0.01
WEBHOOK_GAUGE_INTERVAL = 5.0


@dataclass(frozen=True)
class UseCases:
    """What the HTTP routes and the CLI may call: use cases and the settings, no stores."""

    settings: Settings
    clock: Clock
    accounts: Accounts
    tokens: TokenService
    cookie_sessions: CookieSessionService
    directory: SessionDirectory
    social: SocialLogins
    social_callback: SocialCallbacks
    identity_links: IdentityLinks
    reauth: Reauthentication
    second_factors: SecondFactors
    second_step: SecondStep
    clients: ClientRegistry
    client_auth: ClientAuthenticator
    client_credentials: ClientCredentials
    guard: BruteForceGuard
    keys: KeyManager
    revocations: Revocations
    health: Health
    admin: Administration
    account_data: AccountData  # export and erasure; second factors register their exporters here
    providers: Mapping[str, ProviderClient]
    email: EmailAccounts | None
    webhooks: WebhookLog
    passkeys: Passkeys
    forms: FormTokens


@dataclass
class Services:
    settings: Settings
    clock: Clock
    store: SqlStore
    secrets: ServerSecrets
    hasher: PasswordHasher
    keys: KeyManager
    revocations: Revocations
    accounts: Accounts
    tokens: TokenService
    auditor: Auditor
    guard: BruteForceGuard
    clients: ClientRegistry
    client_auth: ClientAuthenticator
    directory: SessionDirectory
    cookie_sessions: CookieSessionService
    social: SocialLogins
    identity_links: IdentityLinks
    reauth: Reauthentication
    second_factors: SecondFactors
    second_step: SecondStep
    passkeys: Passkeys
    providers: dict[str, ProviderClient]
    provider_http: httpx.AsyncClient | None
    redis: Redis | None = None
    fanout: RevocationFanout | None = None
    session_cache: SessionCache | None = None
    email: EmailAccounts | None = None  # set by build_services; None only in hand-built graphs
    mail_worker: OutboxWorker | None = None
    jwks_fetcher: HttpJwksFetcher | None = None
    _mail_wake: asyncio.Event = field(default_factory=asyncio.Event)
    webhook_worker: WebhookWorker | None = None
    webhook_sender: HttpSender | None = None
    webhook_pending: dict[str, int] = field(default_factory=dict)  # the /metrics gauge
    _webhook_wakes: dict[str, asyncio.Event] = field(default_factory=dict)
    use_cases: UseCases = field(init=False)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.use_cases = _use_cases(self)

    async def start_background(self) -> None:
        self._tasks.append(asyncio.create_task(self._every(
            self.settings.revocation_poll_interval, self.revocations.sync, "revocation sync")))
        self._tasks.append(asyncio.create_task(self._every(
            KEY_RELOAD_INTERVAL, self.keys.reload, "key reload")))
        self._tasks.append(asyncio.create_task(self._every(
            FEED_PRUNE_INTERVAL, self.revocations.prune, "revocation feed pruning")))
        self._tasks.append(asyncio.create_task(self._every(
            FEED_PRUNE_INTERVAL, self.social.prune, "pending social login pruning")))
        self._tasks.append(asyncio.create_task(self._every(
            FEED_PRUNE_INTERVAL, self.prune_audit, "audit trail pruning")))
        self._tasks.append(asyncio.create_task(self._every(
            FEED_PRUNE_INTERVAL, self.client_auth.prune, "client assertion pruning")))
        self._tasks.append(asyncio.create_task(self._every(
            FEED_PRUNE_INTERVAL, self.second_step.prune, "mfa token pruning")))
        if self.mail_worker is not None and self.email is not None:
            self._tasks.append(asyncio.create_task(self._deliver_mail(self.mail_worker)))
            self._tasks.append(asyncio.create_task(self._every(
                FEED_PRUNE_INTERVAL, self.mail_worker.prune, "outbox pruning")))
            self._tasks.append(asyncio.create_task(self._every(
                FEED_PRUNE_INTERVAL, self.email.prune, "email token pruning")))
        if self.webhook_worker is not None:
            self._start_webhooks(self.webhook_worker)
        if self.fanout is not None:
            cache = self.session_cache
            on_ended = cache.forget if cache is not None else None

            async def on_reconnect() -> None:
                if cache is not None:
                    cache.clear()  # before any await: nothing is served from before the gap
                await self.revocations.sync()
            self._tasks.append(asyncio.create_task(self.fanout.listen(
                self.revocations.denylist.add, on_reconnect, on_ended)))

    def wake_mail(self) -> None:
        """A message was committed here: deliver it shortly rather than at the next poll.

        Shortly, not at once: delivery then runs after the request's answer is sent, so
        a request that mails takes no longer than one that does not.
        """
        asyncio.get_running_loop().call_later(MAIL_WAKE_DELAY, self._mail_wake.set)

    async def _deliver_mail(self, worker: OutboxWorker) -> None:
        """Deliver due outbox rows, woken by a local write or every ``mail.poll_interval``."""
        while True:
            await _woken(self._mail_wake, self.settings.mail.poll_interval)
            self._mail_wake.clear()
            try:
                while await worker.run_once():
                    pass
            except Exception:  # the database is away: the rows wait for the next pass
                log.warning("mail delivery failed; will retry", exc_info=True)

    def _start_webhooks(self, worker: WebhookWorker) -> None:
        """One delivery loop per endpoint: a slow receiver holds up only its own loop."""
        cfg = self.settings.webhook_delivery
        for name in self.settings.webhooks:
            wake = self._webhook_wakes.setdefault(name, asyncio.Event())
            self._tasks.append(asyncio.create_task(self._deliver_webhooks(worker, name, wake)))
        self._tasks.append(asyncio.create_task(self._every(
            FEED_PRUNE_INTERVAL, lambda: worker.prune(cfg.retention), "webhook pruning")))
        self._tasks.append(asyncio.create_task(self._every(
            WEBHOOK_GAUGE_INTERVAL, self.count_pending_webhooks, "webhook pending count")))

    def wake_webhooks(self) -> None:
        """A webhook row was committed here: every endpoint's loop looks at once."""
        def wake() -> None:
            for event in self._webhook_wakes.values():
                event.set()
        asyncio.get_running_loop().call_later(WEBHOOK_WAKE_DELAY, wake)

    async def count_pending_webhooks(self) -> None:
        pending = await self.store.webhooks.pending_webhooks()
        self.webhook_pending = {name: pending.get(name, 0) for name in self.settings.webhooks}

    async def _deliver_webhooks(self, worker: WebhookWorker, endpoint: str,
                                wake: asyncio.Event) -> None:
        """Deliver ``endpoint``'s due rows, woken by a local write or every poll interval."""
        while True:
            await _woken(wake, self.settings.webhook_delivery.poll_interval)
            wake.clear()
            try:
                while await worker.run_once(endpoint):
                    pass
            except Exception:  # the database is away: the rows wait for the next pass
                log.warning("webhook delivery to %s failed; will retry", endpoint, exc_info=True)

    async def prune_audit(self) -> int:
        """Drop audit events older than ``audit_retention_days`` (0 keeps them forever)."""
        return await self.auditor.prune(self.settings.audit_retention_days)

    async def _every(self, interval: float, action: Callable[[], Awaitable[object]],
                     what: str) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await action()
            except RootSecretError as exc:  # says what to fix in one sentence: no traceback
                log.error("%s failed: %s", what, exc.description)
            except Exception:  # keep serving with the last known state
                log.warning("%s failed; will retry", what, exc_info=True)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            while not task.done():  # a cancellation lost in a library's await is sent again
                await asyncio.wait({task}, timeout=1.0)
                task.cancel()
            if not task.cancelled() and task.exception() is not None:
                log.warning("a background task ended with an error", exc_info=task.exception())
        self._tasks.clear()
        self.hasher.close()
        if self.provider_http is not None:
            await self.provider_http.aclose()
        if self.jwks_fetcher is not None:
            await self.jwks_fetcher.aclose()
        if self.fanout is not None:
            await self.fanout.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        if self.mail_worker is not None:
            await self.mail_worker.close()
        if self.webhook_sender is not None:
            await self.webhook_sender.aclose()
        await self.store.db.dispose()


async def _woken(event: asyncio.Event, interval: float) -> None:
    """Return when ``event`` is set or after ``interval`` seconds, whichever comes first.

    ``asyncio.timeout`` rather than ``asyncio.wait_for``: before Python 3.12, ``wait_for``
    can swallow a cancellation that arrives as the event is set, and the loop that called
    it would then never stop (a shutdown waiting for it forever).
    """
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(interval):
            await event.wait()


async def build_services(settings: Settings, clock: Clock | None = None, *,
                         run_migrations: bool = True) -> Services:
    clock = clock or SystemClock()
    engine = open_database(settings.sqlalchemy_url)
    if run_migrations:
        await migrate(engine)
    store = SqlStore.over(engine)
    root = load_root_secret(
        settings.key_encryption_key.get_secret_value() if settings.key_encryption_key else None,
        settings.data_dir)
    secrets = ServerSecrets.from_root(root)
    auditor = Auditor(store.audit, clock)
    hasher = PasswordHasher(memory_kib=settings.argon2_memory_kib,
                            time_cost=settings.argon2_time_cost,
                            parallelism=settings.argon2_parallelism,
                            workers=settings.hash_workers)
    redis = None
    limits: RateLimitStore = MemoryRateLimitStore()
    if settings.redis_url:  # the Redis client library is imported only when Redis is configured
        from authd.storage.redis.client import create_redis
        from authd.storage.redis.fanout import RevocationFanout
        from authd.storage.redis.ratelimit import FallbackRateLimitStore, RedisRateLimitStore
        from authd.storage.redis.sessions import RedisCookieSessions

        redis = create_redis(settings.redis_url)
        limits = FallbackRateLimitStore(
            RedisRateLimitStore(redis, settings.redis_key_prefix), MemoryRateLimitStore())
    guard = BruteForceGuard(limits, rate_limit_policy(settings), clock)
    keys = KeyManager(store.keys, secrets, settings.signing_alg, settings.access_token_ttl,
                      KEY_RELOAD_INTERVAL, auditor, clock,
                      where=describe_database(settings.sqlalchemy_url))
    await keys.start()
    revocations = Revocations(store.revocations, clock)
    await revocations.sync()  # a starting instance knows every revocation before it answers
    fanout = None
    if redis is not None and settings.redis_url:
        fanout = RevocationFanout(redis, settings.redis_key_prefix, subscriber=create_redis(
            settings.redis_url, name="authd-subscriber", retries=0))
    if fanout is not None:
        revocations.add_publisher(fanout.publish)
    tokens = TokenService(token_policy(settings), store.families, store.users, keys, revocations,
                          secrets.refresh_mac, auditor, clock)
    cookie_store: CookieSessionStore = store.sessions
    session_cache = None
    if redis is not None and fanout is not None:  # a shared store: cache it, heard by pub/sub
        session_cache = SessionCache(fanout)
        cookie_store = ForgettingSessionStore(
            RedisCookieSessions(redis, settings.redis_key_prefix), session_cache)
    directory = SessionDirectory(store.families, cookie_store, tokens, auditor, clock)
    email, worker, outbox = _mail(settings, store, secrets, hasher, guard, directory, auditor, clock)
    accounts = Accounts(store.users, hasher, guard, auditor, clock,
                        require_verified_email=settings.require_verified_email,
                        on_sign_up=email.send_verification)
    provider_http, providers = _providers(settings, clock)
    pending = SealedPendingLogins(store.pending, secrets)  # state, nonce, verifier: sealed
    passkeys = Passkeys(store.users, store.passkeys, guard, auditor, clock,
                        passkey_policy(settings, secrets))
    passkey_factor = PasskeyFactor(passkeys)
    second_factors = SecondFactors(store.second_factors, store.users, secrets,
                                   settings.mail.product_name, auditor, clock,
                                   notify=email.notify_user, passkeys=passkey_factor)
    second_step = SecondStep(second_factors, store.second_factors, store.users, guard, auditor,
                             clock, passkeys=passkey_factor)
    social = SocialLogins(store.users, store.identities, store.codes, pending, tokens,
                          auditor, clock, second_step=second_step)
    clients = ClientRegistry(client_policy(settings))
    jwks_fetcher, client_auth = _client_auth(settings, clients, store, guard, auditor, clock)
    services = Services(settings=settings, clock=clock, store=store, secrets=secrets, hasher=hasher,
                    keys=keys, revocations=revocations, accounts=accounts, tokens=tokens,
                    auditor=auditor, guard=guard, clients=clients, client_auth=client_auth,
                    jwks_fetcher=jwks_fetcher,
                    directory=directory,
                    cookie_sessions=CookieSessionService(cookie_store, store.users,
                                                         session_policy(settings),
                                                         secrets.csrf_mac, auditor, clock,
                                                         session_cache),
                    social=social,
                    identity_links=IdentityLinks(store.users, store.identities, pending,
                                                 auditor, clock, notify=email.notify_user),
                    reauth=Reauthentication(store.users, hasher, guard, cookie_store, tokens,
                                            auditor, clock, factors=second_factors,
                                            passkeys=passkey_factor),
                    second_factors=second_factors, second_step=second_step, passkeys=passkeys,
                    providers=providers, provider_http=provider_http,
                    redis=redis, fanout=fanout, session_cache=session_cache,
                    email=email, mail_worker=worker)
    outbox.on_written(services.wake_mail)
    if settings.webhooks:
        _webhooks(services)
    return services


def _client_auth(settings: Settings, clients: ClientRegistry, store: SqlStore,
                 guard: BruteForceGuard, auditor: Auditor, clock: Clock
                 ) -> tuple[HttpJwksFetcher | None, ClientAuthenticator]:
    """Client authentication; httpx is imported only when a client publishes its keys at a URL."""
    inline = {cid: c.jwks for cid, c in settings.clients.items() if c.jwks is not None}
    urls = {cid: c.jwks_url for cid, c in settings.clients.items() if c.jwks_url is not None}
    fetcher = None
    if urls:
        from authd.oauth.client_jwks import HttpJwksFetcher
        fetcher = HttpJwksFetcher()
    keys = ClientKeySets(inline, urls, fetcher, clock)
    policy = AssertionPolicy(audiences=(settings.issuer, f"{settings.issuer}/v1/token"))
    return fetcher, ClientAuthenticator(clients, keys, store.client_assertions, policy, guard,
                                        auditor, clock)


def webhook_policy(settings: Settings) -> WebhookPolicy:
    cfg = settings.webhook_delivery
    return WebhookPolicy(delays=cfg.retry_delays, max_delay=cfg.max_retry_delay,
                         give_up_after=cfg.give_up_after, timeout=cfg.timeout,
                         concurrency=cfg.concurrency)


def _webhooks(svc: Services) -> None:
    """Webhook rows written with the audit events they report, and their sender and worker."""
    from standardwebhooks import Webhook

    from authd.webhooks import Endpoint, HttpSender

    settings = svc.settings
    events = WebhookEvents([WebhookTarget(name, cfg.events) for name, cfg in
                            settings.webhooks.items()], svc.secrets, svc.clock)
    svc.store.audit.attach(events)
    svc.auditor.add_listener(events.written)
    events.on_written(svc.wake_webhooks)
    svc.webhook_sender = HttpSender(
        {name: Endpoint(cfg.url, Webhook(cfg.secret.get_secret_value()))
         for name, cfg in settings.webhooks.items()},
        svc.clock, settings.webhook_delivery.timeout)
    svc.webhook_worker = WebhookWorker(svc.store.webhooks, events, svc.webhook_sender,
                                       svc.auditor, svc.clock, webhook_policy(settings))


def _mail(settings: Settings, store: SqlStore, secrets: ServerSecrets, hasher: PasswordHasher,
          guard: BruteForceGuard, directory: SessionDirectory, auditor: Auditor, clock: Clock
          ) -> tuple[EmailAccounts, OutboxWorker, OutboxWriter]:
    """The email use cases and the outbox worker: SMTP if ``mail.smtp_url``, else .eml files."""
    from authd.core.email_flows import MailPolicy
    from authd.core.email_tokens import Purpose, TokenTtls
    cfg = settings.mail
    outbox = OutboxWriter(secrets, clock)
    links = {Purpose.VERIFY: cfg.links.verify_email, Purpose.RESET: cfg.links.reset_password,
             Purpose.CHANGE: cfg.links.confirm_email, Purpose.SIGN_IN: cfg.links.sign_in}
    if settings.ui.enabled:  # a link opens a page a person can use, unless the app has its own
        pages = {Purpose.VERIFY: "/verify-email", Purpose.RESET: "/reset-password",
                 Purpose.CHANGE: "/confirm-email", Purpose.SIGN_IN: "/sign-in"}
        links = {k: v or f"{settings.issuer}{pages[k]}" for k, v in links.items()}
    policy = MailPolicy(
        issuer=settings.issuer, product_name=cfg.product_name,
        links={k: v for k, v in links.items() if v},
        ttls=TokenTtls(cfg.verify_ttl, cfg.reset_ttl, cfg.change_ttl, cfg.sign_in_ttl),
        email_sign_up=settings.email_sign_up, per_address_per_hour=cfg.per_address_per_hour,
        requests_per_ip=cfg.requests_per_ip)
    email = EmailAccounts(store.users, store.email_tokens, outbox, hasher, guard, directory,
                          auditor, clock, policy)
    renderer, mailer = build_mailer(settings)
    worker = OutboxWorker(store.outbox, outbox, renderer, mailer, auditor, clock,
                          give_up_after=cfg.give_up_after)
    return email, worker, outbox


def build_mailer(settings: Settings) -> tuple[TemplateRenderer, FileMailer | SmtpMailer]:
    """The templates and the mailer of ``settings``: SMTP if ``mail.smtp_url``, else .eml files."""
    from authd.mail import FileMailer, SmtpMailer, SmtpTarget, TemplateRenderer

    cfg = settings.mail
    renderer = TemplateRenderer(cfg.from_, cfg.templates_dir)
    if cfg.smtp_url:
        target = SmtpTarget.from_url(cfg.smtp_url.get_secret_value(), cfg.smtp_timeout)
        return renderer, SmtpMailer(target)
    return renderer, FileMailer(settings.data_dir / "outbox")


def _use_cases(svc: Services) -> UseCases:
    """The facade over ``svc``: the use cases already built, and the ones made of them."""
    probes: dict[str, Callable[[], Awaitable[object]]] = {"database": svc.store.ping}
    if svc.redis is not None:
        probes["redis"] = svc.redis.ping
    data = AccountData(svc.store.users, svc.store.identities, svc.directory, svc.store.audit,
                       svc.store.erasure, svc.tokens, svc.auditor, svc.clock,
                       svc.secrets.pseudonym_mac)
    data.register_factor_exporter("totp", svc.second_factors.export)
    data.register_factor_exporter("passkeys", svc.passkeys.export)
    return UseCases(
        settings=svc.settings, clock=svc.clock, accounts=svc.accounts, tokens=svc.tokens,
        cookie_sessions=svc.cookie_sessions, directory=svc.directory, social=svc.social,
        social_callback=SocialCallbacks(svc.social, svc.identity_links, svc.cookie_sessions,
                                        svc.clients, svc.clock, second_step=svc.second_step),
        identity_links=svc.identity_links, reauth=svc.reauth,
        second_factors=svc.second_factors, second_step=svc.second_step, clients=svc.clients,
        client_auth=svc.client_auth,
        client_credentials=ClientCredentials(svc.clients, svc.client_auth, svc.tokens,
                                             svc.auditor, svc.settings.audience),
        guard=svc.guard, keys=svc.keys, revocations=svc.revocations,
        health=Health(probes, svc.guard, shared_limits=svc.redis is not None),
        admin=Administration(svc.store.users, svc.accounts, svc.directory, svc.store.audit,
                             svc.auditor, svc.keys, data, CursorSealer(svc.secrets.cursor_mac),
                             svc.email, svc.second_factors, svc.passkeys),
        account_data=data, providers=svc.providers, email=svc.email,
        webhooks=WebhookLog(svc.store.webhooks, svc.clock, tuple(svc.settings.webhooks)),
        passkeys=svc.passkeys,
        forms=FormTokens(svc.secrets.form_mac))


def token_policy(settings: Settings) -> TokenPolicy:
    return TokenPolicy(
        issuer=settings.issuer, audience=settings.audience,
        allowed_audiences=settings.allowed_audiences,
        client_audiences=tuple(dict.fromkeys(
            a for config in settings.clients.values() for a in config.audiences)),
        default_scopes=settings.default_scopes,
        access_token_ttl=settings.access_token_ttl,
        refresh_reuse_grace=settings.refresh_reuse_grace,
        refresh_idle_ttl=settings.refresh_idle_ttl,
        refresh_absolute_ttl=settings.refresh_absolute_ttl)


def session_policy(settings: Settings) -> SessionPolicy:
    return SessionPolicy(idle_timeout=float(settings.session_idle_timeout),
                         absolute_lifetime=float(settings.session_absolute_lifetime))


def passkey_policy(settings: Settings, secrets: ServerSecrets) -> PasskeyPolicy:
    return PasskeyPolicy(rp_id=settings.webauthn_rp_id, rp_name=settings.webauthn.rp_name,
                         origins=settings.webauthn_origins,
                         challenge_key=secrets.passkey_challenge, decoy_key=secrets.passkey_decoy,
                         challenges_per_ip=settings.webauthn.challenges_per_ip)


def rate_limit_policy(settings: Settings) -> RateLimitPolicy:
    return RateLimitPolicy(**settings.rate_limits.model_dump())


def client_policy(settings: Settings) -> ClientPolicy:
    return ClientPolicy(
        default_client_id=settings.default_client_id, default_scopes=settings.default_scopes,
        confidential={client_id: RegisteredClient(
            config.secret_hash.get_secret_value() if config.secret_hash else None, config.scopes,
            config.audiences, config.auth_methods)
            for client_id, config in settings.clients.items()})


def _providers(settings: Settings, clock: Clock) -> tuple[httpx.AsyncClient | None,
                                                        dict[str, ProviderClient]]:
    """Social-login providers and their HTTP client; httpx is imported only when there are some."""
    if not settings.oauth.providers:
        return None, {}
    from authd.oauth.driver import ProviderClient, new_http_client

    http = new_http_client()
    return http, {name: ProviderClient(name, config, f"{settings.issuer}/v1/oauth/{name}/callback",
                                       http, clock)
                  for name, config in settings.oauth.providers.items()}
