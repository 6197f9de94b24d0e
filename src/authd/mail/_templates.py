"""Rendering mail from templates: a plain-text and an HTML part, in the user's language.

Each message is three files in a language folder: ``NAME.subject.txt``,
``NAME.txt`` and ``NAME.html``. The folder is the locale (``ko``, ``pt-br``);
``ko-kr`` falls back to ``ko``, then to ``en``. Files in ``mail.templates_dir``
win over the shipped ones, file by file, so one template or a whole new
language is a folder away. HTML is autoescaped; the plain-text part is not
HTML and is not escaped.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from authd.core.mail import MailRequest
from authd.core.models import OutgoingMail

SHIPPED = Path(__file__).parent / "templates"
DEFAULT_LOCALE = "en"


class TemplateRenderer:
    def __init__(self, sender: str, templates_dir: Path | None = None) -> None:
        self._sender = sender
        folders = [str(templates_dir)] if templates_dir else []
        self._env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([*folders, str(SHIPPED)]),
            autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
            undefined=jinja2.StrictUndefined, keep_trailing_newline=True)

    def render(self, request: MailRequest, message_id: str) -> OutgoingMail:
        folder = self._folder(request.template, request.locale)
        values = dict(request.values)

        def part(suffix: str) -> str:
            return self._env.get_template(f"{folder}/{request.template}.{suffix}").render(values)
        subject = " ".join(part("subject.txt").split())  # one line: no header injection
        return OutgoingMail(to=request.to, subject=subject, text=part("txt"), html=part("html"),
                            sender=self._sender, id=message_id)

    def _folder(self, template: str, locale: str | None) -> str:
        for candidate in _candidates(locale):
            try:
                self._env.get_template(f"{candidate}/{template}.txt")
            except jinja2.TemplateNotFound:
                continue
            return candidate
        return DEFAULT_LOCALE

    def check(self) -> None:
        """Load every shipped template once: a broken override fails at start-up, not at 3 a.m."""
        for path in (SHIPPED / DEFAULT_LOCALE).iterdir():
            self._env.get_template(f"{DEFAULT_LOCALE}/{path.name}")


def _candidates(locale: str | None) -> list[str]:
    """``ko-KR`` → ko-kr, ko, en; tags from Accept-Language are already lower-cased."""
    if not locale:
        return [DEFAULT_LOCALE]
    tag = locale.lower().replace("_", "-")
    found = [tag]
    if "-" in tag:
        found.append(tag.split("-", 1)[0])
    return [c for c in found if c.replace("-", "").isalnum()] + [DEFAULT_LOCALE]
