"""Log formats: readable text for a person at a terminal, JSON lines for collectors."""

from __future__ import annotations

import io
import logging

import orjson

from authd.logging import JsonFormatter, TextFormatter, formatter_for


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _record(msg: str, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "authd.audit", "levelname": "INFO", "levelno": 20,
                                    "msg": msg, "created": 1_800_000_000.25})
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_text_lines_are_readable_and_carry_the_extras() -> None:
    """One line: time, level, logger, message, then key=value pairs (quoted when they hold spaces)."""
    line = TextFormatter().format(_record("login.failed", user_id="u1", ip="203.0.113.7",
                                          reason="wrong password", detail={"n": 2}))
    assert "\n" not in line and "{" not in line.split("  ", 1)[0]
    assert " info    authd.audit: login.failed  " in line
    assert 'user_id=u1 ip=203.0.113.7 reason="wrong password" detail={"n":2}' in line


def test_text_lines_show_exceptions_below_the_message() -> None:
    """An exception's traceback follows its line, for a person to read."""
    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        record = _record("failed")
        record.exc_info = sys.exc_info()
    assert TextFormatter().format(record).splitlines()[-1] == "ValueError: boom"


def test_json_lines_are_one_object_each() -> None:
    """JSON lines keep the fields collectors index: ts, level, logger, msg and the extras."""
    entry = orjson.loads(JsonFormatter().format(_record("login.failed", user_id="u1")))
    assert entry == {"ts": 1_800_000_000.25, "level": "info", "logger": "authd.audit",
                     "msg": "login.failed", "user_id": "u1"}


def test_auto_picks_text_on_a_terminal_and_json_elsewhere() -> None:
    """log_format=auto: text on a TTY, JSON on a pipe or file; json and text force one."""
    assert isinstance(formatter_for("auto", _Terminal()), TextFormatter)
    assert isinstance(formatter_for("auto", io.StringIO()), JsonFormatter)
    assert isinstance(formatter_for("json", _Terminal()), JsonFormatter)
    assert isinstance(formatter_for("text", io.StringIO()), TextFormatter)
