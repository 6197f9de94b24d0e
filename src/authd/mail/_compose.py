"""A rendered message as MIME: multipart/alternative with the plain-text part first."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from authd.core.models import OutgoingMail


def to_mime(mail: OutgoingMail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail.sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(mail.sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(idstring=mail.id or None, domain=domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to these
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message
