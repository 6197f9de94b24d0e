"""The import boundaries of docs/architecture.md, checked on every module's syntax tree.

Dependencies point one way: the core is pure (no framework, driver,
configuration or protocol package), the HTTP layer only translates (no
storage, no driver), the codec knows nothing of the server, and the
resource-server library needs only the lean install. A new import that
crosses a boundary fails here with the module, the line and the import named.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
STDLIB = frozenset(sys.stdlib_module_names)
DRIVERS = ("sqlalchemy", "asyncpg", "redis", "alembic", "sqlite3", "aiosqlite", "psycopg",
           "psycopg2", "httpx", "httpcore")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, e.g. authd.core.social
    target: str  # what it imports, e.g. authd.oauth.flow
    line: int
    lazy: bool  # inside a function: only loaded when that function runs

    def __str__(self) -> str:
        return f"{self.module} imports {self.target} (line {self.line})"


@dataclass(frozen=True)
class Rule:
    """Modules under ``layer`` may import only what ``allowed`` names (package prefixes)."""

    layer: str
    allowed: tuple[str, ...]
    stdlib: bool = True
    allowed_lazily: tuple[str, ...] = ()

    def permits(self, imp: Import) -> bool:
        top = imp.target.split(".")[0]
        if self.stdlib and top in STDLIB:
            return True
        names = self.allowed + (self.allowed_lazily if imp.lazy else ())
        return any(imp.target == name or imp.target.startswith(name + ".") for name in names)


RULES = (
    # The pure core: rules and use cases over Protocols; time from an injected Clock.
    # py_webauthn (``webauthn``) is pure protocol code over ``cryptography``: bytes in,
    # results out, no I/O, so the passkey rules may use it like a primitive; pyotp (TOTP
    # codes over hmac) likewise.
    Rule("authd.core", ("authd.core", "authd.clock", "authd.errors", "authd.jose",
                        "cryptography", "orjson", "argon2", "webauthn", "pyotp")),
    # The codec stands alone: the server and authd.verify build on it, never the reverse.
    Rule("authd.jose", ("authd.jose", "cryptography", "orjson")),
    # The resource-server library: what `pip install authd` (no extras) brings, and Starlette
    # only inside the helper an app that already uses Starlette calls.
    Rule("authd.verify", ("authd.verify", "authd.jose", "authd.clock", "cryptography", "orjson",
                          "httpx"), allowed_lazily=("starlette",)),
    Rule("authd.clock", ()),
)


@dataclass(frozen=True)
class Forbidden:
    """Modules under ``layer`` must not import anything under ``forbidden``."""

    layer: str
    forbidden: tuple[str, ...]

    def permits(self, imp: Import) -> bool:
        return not any(imp.target == name or imp.target.startswith(name + ".")
                       for name in self.forbidden)


FORBIDDEN = (
    # The HTTP layer translates: it sees use cases, never a store or a driver.
    Forbidden("authd.http", ("authd.storage", *DRIVERS)),
    # The hosted pages translate too: the same use cases as the API, never a store.
    Forbidden("authd.pages", ("authd.storage", *DRIVERS)),
)


def module_name(path: Path) -> str:
    """The dotted name of a source file under src/."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(module: str, source: str, *, is_package: bool = False) -> Iterator[Import]:
    """Every import in ``source``, at any depth (``TYPE_CHECKING`` blocks included)."""
    tree = ast.parse(source)
    lazy_lines = {node.lineno for fn in ast.walk(tree)
                  if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
                  for node in ast.walk(fn) if isinstance(node, ast.Import | ast.ImportFrom)}
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, node.lineno, node.lineno in lazy_lines)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "__future__":
                continue
            for alias in node.names:
                # `from authd import jose` imports the module authd.jose
                target = f"{base}.{alias.name}" if base == "authd" else base
                yield Import(module, target, node.lineno, node.lineno in lazy_lines)


def all_imports() -> list[Import]:
    """The imports of every module of the authd package."""
    found: list[Import] = []
    for path in sorted((SRC / "authd").rglob("*.py")):
        found += imports_of(module_name(path), path.read_text(encoding="utf-8"),
                            is_package=path.name == "__init__.py")
    return found


def violations(imports: list[Import]) -> list[str]:
    """One line per import that a rule of its layer does not allow."""
    wrong: list[str] = []
    for imp in imports:
        for rule in (*RULES, *FORBIDDEN):
            inside = imp.module == rule.layer or imp.module.startswith(rule.layer + ".")
            if inside and not rule.permits(imp):
                wrong.append(f"{imp}: not allowed in {rule.layer}")
    return list(dict.fromkeys(wrong))  # one line per import, however many names it takes


def test_every_module_keeps_to_its_layer() -> None:
    """The core stays pure, HTTP never reaches storage or a driver, jose and verify stay lean:
    the architecture users and contributors read about is the one the code has."""
    imports = all_imports()
    assert len({imp.module for imp in imports}) > 80  # the walk really saw the package
    wrong = violations(imports)
    assert not wrong, "imports across a layer boundary:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("module", "source", "offender"), [
    ("authd.core.social", "from authd.oauth.flow import Profile\n", "authd.oauth.flow"),
    ("authd.core.tokens", "from authd.config import Settings\n", "authd.config"),
    ("authd.core.accounts", "def f():\n    import sqlalchemy\n", "sqlalchemy"),
    ("authd.http.errors", "from authd.storage.errors import is_unavailable\n",
     "authd.storage.errors"),
    ("authd.http.routes.health", "from redis.asyncio import Redis\n", "redis.asyncio"),
    ("authd.jose._jws", "from authd.core.ids import b64url\n", "authd.core.ids"),
    ("authd.verify._verifier", "from authd import config\n", "authd.config"),
    ("authd.verify._verifier", "import starlette\n", "starlette"),
])
def test_a_crossing_import_is_named(module: str, source: str, offender: str) -> None:
    """A forbidden import is reported with the module, the import and its line, so whoever adds
    it sees at once what to move."""
    wrong = violations(list(imports_of(module, source)))
    assert len(wrong) == 1 and module in wrong[0] and offender in wrong[0] and "line" in wrong[0]


def test_allowed_imports_pass() -> None:
    """What each layer may use (the codec in the core, Starlette lazily in authd.verify's helper,
    relative imports inside a package) is not reported."""
    allowed = {
        "authd.core.tokens": "from authd import jose\nimport orjson\nfrom .ids import new_id\n",
        "authd.verify.asgi": "def f():\n    from starlette.requests import Request\n",
        "authd.http.routes.me": "from authd.core.account_access import FULL_PROFILE_SCOPE\n",
    }
    for module, source in allowed.items():
        assert violations(list(imports_of(module, source))) == [], module
