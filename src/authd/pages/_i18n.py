"""Languages of the hosted pages: gettext catalogues read with Babel, chosen per request.

The catalogues are the ``.po`` files in ``locale/<lang>/LC_MESSAGES/pages.po``,
read once at start-up with ``babel.messages.pofile`` (no compile step, so a
translator edits one text file and restarts). English is the source
language: its messages are the ``msgid`` themselves. The language of a
request is ``?lang=`` (then remembered in a cookie), else that cookie, else
the best ``Accept-Language`` match, else ``[ui] default_locale``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from importlib import resources

from babel.dates import format_datetime
from babel.messages.pofile import read_po

LOCALES = ("en", "ko")
MAX_ACCEPT_LANGUAGE = 512

Gettext = Callable[..., str]


def load_catalogues() -> dict[str, dict[str, str]]:
    """msgid → translation for every shipped language (empty for English, the source)."""
    found: dict[str, dict[str, str]] = {"en": {}}
    root = resources.files("authd.pages") / "locale"
    for lang in LOCALES[1:]:
        with (root / lang / "LC_MESSAGES" / "pages.po").open("rb") as po:
            catalogue = read_po(po, locale=lang)
        found[lang] = {str(m.id): str(m.string) for m in catalogue
                       if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
    return found


def gettext_for(catalogue: Mapping[str, str]) -> Gettext:
    """``_("Hello %(name)s", name=...)``: the translation, with named values put in."""
    def _(message: str, **values: object) -> str:
        text = catalogue.get(message, message)
        return text % values if values else text
    return _


def choose(query: str | None, cookie: str | None, accept_language: str | None,
           default: str) -> str:
    """The page language: an explicit choice, else the browser's preference, else the default."""
    for explicit in (query, cookie):
        if explicit in LOCALES:
            return explicit
    return _from_header(accept_language or "") or default


def _from_header(header: str) -> str | None:
    best: tuple[float, str] | None = None
    for entry in header[:MAX_ACCEPT_LANGUAGE].split(","):
        tag, _, params = entry.strip().lower().partition(";")
        lang = tag.strip().split("-", 1)[0]
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if lang in LOCALES and weight > 0 and (best is None or weight > best[0]):
            best = (weight, lang)
    return best[1] if best else None


def format_time(timestamp: float, lang: str) -> str:
    """A date and time as people of ``lang`` write it (UTC, named as such)."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return format_datetime(moment, format="medium", tzinfo=UTC, locale=lang) + " UTC"
