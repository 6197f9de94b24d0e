"""The ``authd`` command line.

``pip install authd`` alone is the resource-server library; the commands need
the ``[server]`` extra. Without it, ``authd`` says so in one sentence instead
of ending in a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    try:
        from authd.cli.main import main as run

        run()
    except ModuleNotFoundError as exc:  # raised at import, or by a command's lazy import
        missing = (exc.name or "a module").split(".")[0]
        sys.stderr.write(f"error: the authd command needs {missing!r}, which is not installed; "
                         "install the server extra: pip install 'authd[server]'\n")
        raise SystemExit(2) from None
