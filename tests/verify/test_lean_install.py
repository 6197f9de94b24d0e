"""authd.verify installs and imports without any of the server's dependencies."""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVER_ONLY = ("starlette", "sqlalchemy", "argon2", "redis", "pydantic", "uvicorn", "alembic")


def test_verify_needs_only_the_base_dependencies(tmp_path: Path) -> None:
    """`pip install authd` (no extras) is enough to verify tokens; no server package comes along."""
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    probe = (
        "import importlib.util, sys\n"
        "from authd.verify import TokenVerifier, InvalidToken\n"
        "from authd.verify.testing import LocalIssuer\n"
        "issuer = LocalIssuer()\n"
        "v = issuer.verifier(audience='api')\n"
        "assert v.verify(issuer.mint(audience='api'))['sub'] == 'user-1'\n"
        f"missing = [m for m in {SERVER_ONLY!r} if importlib.util.find_spec(m) is None]\n"
        "print(' '.join(missing))\n"
    )
    result = subprocess.run([str(python), "-c", probe], check=True, capture_output=True,
                            text=True, timeout=60)
    assert result.stdout.split() == list(SERVER_ONLY), result.stdout
    assert sys.prefix != str(env_dir)
