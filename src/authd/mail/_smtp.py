"""Delivery to an SMTP server with the standard library, in one thread per mailer.

``smtp://user:pass@host:587`` upgrades with STARTTLS (refusing a server that
does not offer it), ``smtps://host:465`` starts with TLS, and
``smtp://host:25?tls=none`` sends in clear, for a relay on loopback only
(the configuration refuses it anywhere else). Certificates are verified
against the system's trust store. The connection is kept open between
messages (one TLS handshake for a burst), and every failure becomes a
``MailError`` that names its stage in one sentence: dns, connect, tls, auth,
refused (permanent for a 5xx answer), or write.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from authd.core.models import OutgoingMail
from authd.errors import MailError
from authd.mail._compose import to_mime


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    tls: str  # starttls | implicit | none
    username: str | None
    password: str | None
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 20.0) -> SmtpTarget:
        parts = urlsplit(url)
        implicit = parts.scheme == "smtps"
        tls = "implicit" if implicit else "starttls"
        if parse_qs(parts.query).get("tls") == ["none"]:
            tls = "none"
        return cls(host=parts.hostname or "", port=parts.port or (465 if implicit else 587), tls=tls,
                   username=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None, timeout=timeout)

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.tls})"


class SmtpMailer:
    def __init__(self, target: SmtpTarget) -> None:
        self.target = target
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtp")
        self._conn: smtplib.SMTP | None = None

    async def send(self, mail: OutgoingMail) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._send, mail)

    def close(self) -> None:
        self._thread.submit(self._drop).result()
        self._thread.shutdown(wait=True)

    def _send(self, mail: OutgoingMail) -> None:
        message = to_mime(mail)
        reused = self._conn is not None
        try:
            self._connection().send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._drop()
            if not reused:
                raise MailError("connect", f"{self.target.describe()} closed the connection") from None
            self._send_fresh(message)
        except MailError:
            self._drop()
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise _classify(exc, self.target) from None

    def _send_fresh(self, message: object) -> None:
        try:
            self._connection().send_message(message)  # type: ignore[arg-type]
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise _classify(exc, self.target) from None

    def _connection(self) -> smtplib.SMTP:
        if self._conn is None:
            self._conn = connect(self.target)
        return self._conn

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                self._conn.close()
            self._conn = None


def connect(target: SmtpTarget) -> smtplib.SMTP:
    """An open, secured and authenticated connection, or MailError naming what failed."""
    t = target
    try:
        socket.getaddrinfo(t.host, t.port)
    except socket.gaierror:
        raise MailError("dns", f"the mail server's name {t.host!r} does not resolve") from None
    context = ssl.create_default_context()
    conn: smtplib.SMTP
    try:
        if t.tls == "implicit":
            conn = smtplib.SMTP_SSL(t.host, t.port, timeout=t.timeout, context=context)
        else:
            conn = smtplib.SMTP(t.host, t.port, timeout=t.timeout)
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise MailError("tls", f"TLS with {t.describe()} failed: {_reason(exc)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError("connect", f"cannot connect to {t.describe()}: {_reason(exc)}") from None
    try:
        conn.ehlo()
        if t.tls == "starttls":
            if not conn.has_extn("starttls"):
                raise MailError("tls", f"{t.describe()} does not offer STARTTLS; "
                                       "use smtps:// or a server that does")
            conn.starttls(context=context)
            conn.ehlo()
        if t.username:
            conn.login(t.username, t.password or "")
    except MailError:
        conn.close()
        raise
    except smtplib.SMTPAuthenticationError as exc:
        conn.close()
        raise MailError("auth", f"{t.describe()} refused the user name or password "
                                f"({exc.smtp_code})") from None
    except (ssl.SSLError, ssl.CertificateError) as exc:
        conn.close()
        raise MailError("tls", f"TLS with {t.describe()} failed: {_reason(exc)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        conn.close()
        raise _classify(exc, t) from None
    return conn


def _classify(exc: BaseException, t: SmtpTarget) -> MailError:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return MailError("refused", f"{t.describe()} refused the recipient ({codes[0] if codes else '?'})",
                         permanent=all(500 <= c < 600 for c in codes))
    if isinstance(exc, smtplib.SMTPResponseException):
        return MailError("refused", f"{t.describe()} refused the message ({exc.smtp_code})",
                         permanent=500 <= exc.smtp_code < 600)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return MailError("tls", f"TLS with {t.describe()} failed: {_reason(exc)}")
    return MailError("connect", f"the connection to {t.describe()} failed: {_reason(exc)}")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
    return str(text)
