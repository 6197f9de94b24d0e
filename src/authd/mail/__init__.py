"""Outgoing mail: templates (Jinja2), and delivery to an SMTP server or to .eml files.

``authd.core.mail`` decides what to send and when; this package renders and
delivers. Imported only by the server (the ``[server]`` extra).
"""

from authd.mail._files import FileMailer
from authd.mail._smtp import SmtpMailer, SmtpTarget
from authd.mail._templates import TemplateRenderer

__all__ = ["FileMailer", "SmtpMailer", "SmtpTarget", "TemplateRenderer"]
