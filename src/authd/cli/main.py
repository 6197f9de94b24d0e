"""``authd``: serve, migrate, keys, users, audit, clients and config commands.

Every command loads the same validated settings as the server; a bad
setting prints one line per problem and exits with status 2.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, NoReturn, TypeVar
from urllib.parse import urlsplit, urlunsplit

import orjson
import typer
from sqlalchemy.exc import SQLAlchemyError

from authd.cli.bench import bench_app
from authd.cli.webhooks import webhooks_app
from authd.config import ConfigError, Settings, load_settings
from authd.core.admin import page_size
from authd.core.clients import new_client_secret
from authd.core.models import User
from authd.core.your_data import profile_json
from authd.errors import AuthdError, ServiceUnavailable
from authd.wiring import Services, build_services

T = TypeVar("T")

app = typer.Typer(help="authd: an authentication server.", no_args_is_help=True,
                  add_completion=False)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration.", no_args_is_help=True)
clients_app = typer.Typer(help="OAuth clients.", no_args_is_help=True)
mail_app = typer.Typer(help="Outgoing mail.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")
app.add_typer(config_app, name="config")
app.add_typer(clients_app, name="clients")
app.add_typer(mail_app, name="mail")
app.add_typer(bench_app, name="bench")
app.add_typer(webhooks_app, name="webhooks")


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        for problem in exc.problems:
            typer.echo(f"config error: {problem}", err=True)
        raise typer.Exit(2) from None


def _with_services(action: Callable[[Services], Awaitable[T]], settings: Settings | None = None) -> T:
    settings = settings or _settings()

    async def run() -> T:
        svc = await build_services(settings)
        try:
            return await action(svc)
        finally:
            await svc.close()

    try:
        return asyncio.run(run())
    except AuthdError as exc:
        # An unreachable database arrives as ServiceUnavailable with the driver's error as cause.
        cause = exc.__cause__ if isinstance(exc, ServiceUnavailable) else None
        if isinstance(cause, OSError | SQLAlchemyError):
            _cannot_open(settings, cause)
        typer.echo(f"error: {exc.description}", err=True)
        raise typer.Exit(1) from None
    except (OSError, SQLAlchemyError) as exc:  # e.g. PostgreSQL down, a database that does not exist
        _cannot_open(settings, exc)


def _cannot_open(settings: Settings, exc: BaseException) -> NoReturn:
    """One line that names the database (password masked) and the driver's reason."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    typer.echo(f"error: cannot open the database {_database(settings)}: {reason}", err=True)
    raise typer.Exit(1) from None


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
          workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1) -> None:
    """Run the HTTP server (migrations and first keys are applied before it listens)."""
    import uvicorn

    from authd import logging as authd_logging
    from authd.http.app import create_app

    _return_freed_memory()
    settings = _settings().issuer_for_port(port)
    authd_logging.configure(settings.log_level, settings.log_format)
    _with_services(lambda svc: asyncio.sleep(0), settings)  # migrate + bootstrap keys once, up front
    logging.getLogger("authd").info(_start_line(settings, host, port))
    if workers > 1:
        os.environ["AUTHD_ISSUER"] = settings.issuer  # the workers load the settings themselves
        uvicorn.run("authd.http.app:create_app_from_env", factory=True, workers=workers,
                    host=host, port=port, access_log=False, log_config=None,
                    proxy_headers=False, server_header=False)
    else:
        uvicorn.run(create_app(settings), host=host, port=port, access_log=False,
                    log_config=None, proxy_headers=False, server_header=False)


def _return_freed_memory() -> None:
    """Large allocations come from the OS and go back to it when freed (glibc).

    glibc raises its mmap threshold after the first large block is freed, so
    from then on every Argon2 hash (19 MiB by default) is carved from the heap
    of the thread that computed it and stays there: an idle server kept ~20 MB
    per hashing thread. A fixed threshold of 128 KiB keeps idle memory flat,
    for the cost of mapping fresh pages for each hash.
    """
    os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(128 * 1024))  # worker processes
    with contextlib.suppress(OSError, AttributeError):  # not glibc: its own allocator decides
        ctypes.CDLL(None).mallopt(-3, 128 * 1024)  # -3: M_MMAP_THRESHOLD


def _start_line(settings: Settings, host: str, port: int) -> str:
    """Where authd listens and what it serves from: the first thing a new user needs to see."""
    listen = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    database = _database(settings)
    return (f"authd listening on http://{listen}; issuer {settings.issuer}; "
            f"data folder {settings.data_dir.resolve()}; database {database}")


def _database(settings: Settings) -> str:
    """The database URL as a user configured it, with any password masked."""
    url = settings.database_url or f"sqlite:///{(settings.data_dir / 'authd.db').resolve()}"
    return mask_url_password(url)


def mask_url_password(url: str) -> str:
    """``scheme://user:****@host/db``: a database URL fit for a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:****@{host}"))


@app.command()
def migrate() -> None:
    """Apply database migrations (the server also does this at start)."""
    _with_services(lambda svc: asyncio.sleep(0))
    typer.echo("database is up to date")


@keys_app.command("list")
def keys_list() -> None:
    """List signing keys and their states."""
    for r in _with_services(lambda svc: svc.use_cases.admin.keys()):
        typer.echo(f"{r.kid}  {r.alg:6}  {r.state:8}  created={int(r.created_at)}"
                   f"  publish_until={int(r.publish_until) if r.publish_until else '-'}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Activate the published next key and publish a new next key (audited)."""
    typer.echo(f"active key is now {_with_services(lambda svc: svc.use_cases.admin.rotate_keys())}")


@users_app.command("create")
def users_create(email: Annotated[str, typer.Option(help="Email address.")],
                 name: Annotated[str | None, typer.Option(help="Display name.")] = None,
                 password: Annotated[str | None, typer.Option(
                     help="Password (prompted when omitted; prefer the prompt).")] = None) -> None:
    """Create a user (the same password policy as sign-up)."""
    secret = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = _with_services(lambda svc: svc.use_cases.admin.create_user(email, secret, name))
    typer.echo(f"created {user.id} {user.email}")


@users_app.command("list")
def users_list(limit: int = 100, offset: int = 0) -> None:
    """List users."""
    users = _with_services(lambda svc: svc.use_cases.admin.list_users(limit, offset))
    for u in users:
        typer.echo(f"{u.id}  {u.email}  {'disabled' if u.disabled else 'active'}")


@users_app.command("disable")
def users_disable(email: str) -> None:
    """Disable a user, end all their sessions and revoke their tokens (audited)."""
    if _with_services(lambda svc: svc.use_cases.admin.disable_user(email)) is None:
        typer.echo(f"no user {email}", err=True)
        raise typer.Exit(1)
    typer.echo(f"disabled {email}")


@users_app.command("search")
def users_search(query: Annotated[str | None, typer.Argument(
                     help="Email prefix or name prefix (case-insensitive).")] = None,
                 limit: int = 50,
                 cursor: Annotated[str | None, typer.Option(help="next_cursor of a page.")] = None
                 ) -> None:
    """Search users as GET /admin/v1/users does: JSON lines, then the next page's cursor."""
    page = _with_services(lambda svc: svc.use_cases.admin.search(query, page_size(limit), cursor))
    for user in page.items:
        typer.echo(orjson.dumps(profile_json(user)).decode())
    if page.next_cursor:
        typer.echo(f"next cursor: {page.next_cursor}", err=True)


@users_app.command("show")
def users_show(user: Annotated[str, typer.Argument(help="User id or email.")]) -> None:
    """One user, as JSON."""
    async def action(svc: Services) -> User:
        return await svc.use_cases.admin.view_user((await svc.use_cases.admin.find_user(user)).id)
    found = _with_services(action)
    typer.echo(orjson.dumps(profile_json(found), option=orjson.OPT_INDENT_2).decode())


@users_app.command("enable")
def users_enable(user: Annotated[str, typer.Argument(help="User id or email.")]) -> None:
    """Let a disabled user sign in again (audited)."""
    async def action(svc: Services) -> None:
        found = await svc.use_cases.admin.find_user(user)
        await svc.use_cases.admin.update_user(found.id, {"disabled": False})
    _with_services(action)
    typer.echo(f"enabled {user}")


@users_app.command("delete")
def users_delete(user: Annotated[str, typer.Argument(help="User id or email.")],
                 yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Delete a user and everything tied to it; the audit trail keeps a pseudonym."""
    if not yes:
        typer.confirm(f"delete {user} and all their data?", abort=True)

    async def action(svc: Services) -> None:
        found = await svc.use_cases.admin.find_user(user)
        await svc.use_cases.admin.delete_user(found.id)
    _with_services(action)
    typer.echo(f"deleted {user}")


@users_app.command("sessions")
def users_sessions(user: Annotated[str, typer.Argument(help="User id or email.")],
                   revoke: Annotated[bool, typer.Option(help="End them all.")] = False) -> None:
    """List a user's sessions and refresh families, or end them all with --revoke (audited)."""
    async def action(svc: Services) -> list[str]:
        found = await svc.use_cases.admin.find_user(user)
        if revoke:
            return [f"ended {await svc.use_cases.admin.revoke_sessions(found.id)}"]
        return [orjson.dumps(v.as_json(None)).decode()
                for v in await svc.use_cases.admin.sessions(found.id)]
    for line in _with_services(action):
        typer.echo(line)


@users_app.command("password-reset")
def users_password_reset(user: Annotated[str, typer.Argument(help="User id or email.")]) -> None:
    """End every session of the user and mail them a password reset link (audited)."""
    async def action(svc: Services) -> None:
        found = await svc.use_cases.admin.find_user(user)
        await svc.use_cases.admin.password_reset(found.id)
        if svc.mail_worker is not None:
            await svc.mail_worker.run_once()  # deliver now: this process exits next
    _with_services(action)
    typer.echo(f"mailed a reset link to {user}")


@users_app.command("mfa-reset")
def users_mfa_reset(email: str) -> None:
    """Remove a user's second factors (TOTP, recovery codes, passkeys) after a lost device
    (audited); EMAIL may also be a user id."""
    _with_services(lambda svc: svc.use_cases.admin.reset_mfa(email))
    typer.echo(f"second factors removed for {email}")


@app.command()
def audit(user: Annotated[str | None, typer.Option(help="User id.")] = None,
          event: Annotated[str | None, typer.Option(help="Event name.")] = None,
          limit: int = 50) -> None:
    """Show the newest security events as JSON lines."""
    events = _with_services(lambda svc: svc.use_cases.admin.events(
        user_id=user, event=event, limit=limit))
    for e in events:
        typer.echo(orjson.dumps({"at": e.at, "event": e.event, "user_id": e.user_id,
                                 "ip": e.ip, **(e.detail or {})}).decode())


@clients_app.command("secret")
def clients_secret() -> None:
    """Generate a client secret and the secret_hash to configure for it."""
    secret, hashed = new_client_secret()
    typer.echo(f"client_secret = {secret}\nsecret_hash   = {hashed}")


@config_app.command("check")
def config_check() -> None:
    """Print the effective configuration (secrets masked); exit 2 on any error."""
    settings = _settings()
    typer.echo(orjson.dumps(settings.masked(), option=orjson.OPT_INDENT_2).decode())


@mail_app.command("test")
def mail_test(address: Annotated[str, typer.Argument(help="Where to send the test message.")]) -> None:
    """Send a test message through the configured mailer; say in one sentence what failed."""
    from authd.cli.mail import send_test

    settings = _settings()
    try:
        where = asyncio.run(send_test(settings, address))
    except AuthdError as exc:
        stage = getattr(exc, "stage", None)
        typer.echo(f"mail test failed{f' ({stage})' if stage else ''}: {exc.description}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"sent a test message to {address} through {where}")


def main() -> None:
    app()
