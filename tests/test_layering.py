"""Dependencies point one way — products ← risk ← advisor ← api — checked on every module's imports.

The one exception is the CLI's `serve` / `token` commands (advisor/cli/serve.py): a door that starts the
API server, importing `api` lazily inside the commands so no other CLI command loads the web stack.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS = ("products", "risk", "advisor", "api")
ALLOWED_UPWARD = {Path("advisor/cli/serve.py"): {"api"}}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level package, imported at module level) for every import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, bool]] = []
    top_level = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.extend((name.split(".")[0], id(node) in top_level) for name in names)
    return found


def test_every_package_imports_only_the_layers_below_it() -> None:
    wrong: list[str] = []
    for rank, layer in enumerate(LAYERS):
        above = set(LAYERS[rank + 1:])
        for path in sorted((REPO / layer).rglob("*.py")):
            relative = path.relative_to(REPO)
            allowed = ALLOWED_UPWARD.get(relative, set())
            for package, module_level in _imports(path):
                if package in above and (package not in allowed or module_level):
                    wrong.append(f"{relative} imports {package}" + (" at module level" if module_level else ""))
    assert not wrong, "\n".join(wrong)


def test_the_core_imports_no_web_framework_or_database() -> None:
    banned = {"fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "jinja2", "weasyprint"}
    wrong = [f"{path.relative_to(REPO)} imports {package}"
             for layer in ("products", "risk", "advisor")
             for path in sorted((REPO / layer).rglob("*.py"))
             if Path("advisor/cli/serve.py") != path.relative_to(REPO)
             for package, _ in _imports(path) if package in banned]
    assert not wrong, "\n".join(wrong)
