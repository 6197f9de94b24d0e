"""The second-factor notices render in English and Korean with the product and factor named.

What users rely on: a mail about a factor added to (or removed from) their
account, in their language, that says which factor and what to do if it was
not them.
"""

from __future__ import annotations

import pytest

from authd.core.mail import MailRequest
from authd.mail import TemplateRenderer


@pytest.mark.parametrize("template", ["factor_added", "factor_removed"])
@pytest.mark.parametrize(("locale", "words"), [("en", "second factor"), ("ko", "2단계 인증")])
def test_factor_notices_render_in_each_language(template: str, locale: str, words: str) -> None:
    """Subject, text and HTML parts name the factor and the product; the subject is in the
    user's language."""
    renderer = TemplateRenderer("Example <no-reply@example.com>")
    mail = renderer.render(MailRequest("ada@example.com", template, locale,
                                       {"factor": "TOTP", "product": "Example Co"}), "m1")
    assert words in mail.subject and "Example Co" in mail.subject
    for part in (mail.text, mail.html):
        assert "TOTP" in part and "Example Co" in part
