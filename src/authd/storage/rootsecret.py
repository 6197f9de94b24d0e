"""Where the root secret comes from: the configuration, else a file in the data folder.

A configured ``key_encryption_key`` is used as given (its UTF-8 bytes), so
the keys sealed under it stay readable; its strength is checked when the
settings are loaded. Without one, the first start writes 32 random bytes
(base64url) to ``data_dir/kek``, created 0600 in a 0700 folder and fsynced
before anything is sealed under it, and later starts read it back.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from authd.errors import RootSecretError

KEK_FILE = "kek"
ROOT_SECRET_BYTES = 32


def load_root_secret(configured: str | None, data_dir: Path) -> bytes:
    """The configured secret, else the one in ``data_dir/kek``, created on first start."""
    if configured:
        return configured.encode("utf-8")
    path = data_dir / KEK_FILE
    if path.exists():
        return _read(path)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new folder: owner only
    root = secrets.token_bytes(ROOT_SECRET_BYTES)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.urlsafe_b64encode(root).rstrip(b"=") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return root


def _read(path: Path) -> bytes:
    """A damaged file must stop the start, not yield a short key that seals nothing safely."""
    text = path.read_bytes().strip()
    try:
        root = base64.urlsafe_b64decode(text + b"=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        root = b""
    if len(root) < ROOT_SECRET_BYTES:
        raise RootSecretError(
            f"{path} does not hold a root secret of {ROOT_SECRET_BYTES} bytes (base64url); "
            "restore it from a backup, or set AUTHD_KEY_ENCRYPTION_KEY")
    return root
