"""The embedded default: each message becomes an .eml file in ``data_dir/outbox/``.

Written to a temporary name, fsynced, then renamed, so a reader never sees
half a message and an acknowledged one survives a crash. One log line names
the file (never its link or code): open it with any mail program.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from authd.core.models import OutgoingMail
from authd.errors import MailError
from authd.mail._compose import to_mime

log = logging.getLogger("authd.mail")


class FileMailer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send(self, mail: OutgoingMail) -> None:
        path = await asyncio.to_thread(self._write, mail)
        log.info("mail for %s written to %s", _mask(mail.to), path)

    def _write(self, mail: OutgoingMail) -> Path:
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            final = self.folder / f"{mail.id or 'message'}.eml"
            temp = final.with_suffix(".tmp")
            with open(temp, "wb") as out:
                out.write(to_mime(mail).as_bytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, final)
            _fsync_dir(self.folder)
        except OSError as exc:
            raise MailError("write", f"cannot write to {self.folder}: {exc.strerror}") from None
        return final


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mask(address: str) -> str:
    """``a***@example.com``: enough for an operator, not a list of who uses the service."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"
