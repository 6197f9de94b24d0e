"""``authd mail test``: one message through the configured mailer, outside the outbox.

It goes straight to the mail server, so the operator sees at once what
fails: the name (dns), the connection, TLS, the login (auth), or a refusal.
"""

from __future__ import annotations

from authd.config import Settings
from authd.core.accounts import normalise_email
from authd.core.ids import new_id
from authd.core.mail import MailRequest
from authd.mail import SmtpMailer
from authd.wiring import build_mailer


async def send_test(settings: Settings, address: str) -> str:
    """Send it; where it went (the SMTP server, or the .eml folder). Raises AuthdError on failure."""
    to = normalise_email(address)
    renderer, mailer = build_mailer(settings)
    request = MailRequest(to=to, template="test", values={"product": settings.mail.product_name})
    try:
        await mailer.send(renderer.render(request, new_id()))
    finally:
        if isinstance(mailer, SmtpMailer):
            mailer.close()
    if isinstance(mailer, SmtpMailer):
        return f"the SMTP server {mailer.target.describe()}"
    return f"the folder {mailer.folder}"
