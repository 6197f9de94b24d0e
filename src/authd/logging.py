"""Logs on stderr: readable lines on a terminal, one JSON object per line otherwise.

``log_format = "auto"`` (the default) picks text when stderr is a TTY (a
person is reading) and JSON when it is not (a log collector is). Callers pass
ids in ``extra``; nothing here ever receives a password, token, secret or
session id, and the request log records paths without query strings (a
social-login callback carries a code there).
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

import orjson

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": round(record.created, 3), "level": record.levelname.lower(),
            "logger": record.name, "msg": record.getMessage(),
        }
        entry.update(_extras(record))
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """``HH:MM:SS level logger: message key=value ...`` for a person at a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        clock = time.strftime("%H:%M:%S", time.localtime(record.created))
        line = f"{clock} {record.levelname.lower():7} {record.name}: {record.getMessage()}"
        extras = " ".join(f"{k}={_plain(v)}" for k, v in _extras(record).items())
        if extras:
            line = f"{line}  {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def _plain(value: Any) -> str:
    text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
    return orjson.dumps(text).decode() if (" " in text or not text) else text


def formatter_for(log_format: str, stream: TextIO) -> logging.Formatter:
    """``text`` or ``json``; ``auto`` is text on a terminal and JSON anywhere else."""
    if log_format == "auto":
        log_format = "text" if stream.isatty() else "json"
    return TextFormatter() if log_format == "text" else JsonFormatter()


def configure(level: str, log_format: str = "auto") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter_for(log_format, sys.stderr))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True
