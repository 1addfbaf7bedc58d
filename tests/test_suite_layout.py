"""The suite's own layout: what test modules share lives in `tests/support`, and no test module imports conftest or
another test module (fixtures shared between modules are plugins registered once in tests/conftest.py).

Every `import` and `from … import` counts, wherever it is written, inside functions too.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every absolute import in the file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def _forbidden(module: str) -> bool:
    return module == "conftest" or module.startswith("test_")


def _offences(paths) -> list[str]:
    return [f"{path.relative_to(TESTS)}:{line} imports {module}" for path in paths
            for line, module in _imported_modules(path) if _forbidden(module)]


def test_no_test_module_imports_conftest_or_another_test_module():
    paths = sorted(TESTS.glob("test_*.py")) + [TESTS / "conftest.py"] + sorted((TESTS / "support").glob("*.py"))
    assert len(paths) > 100
    assert _offences(paths) == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    made = tmp_path / "test_made.py"
    made.write_text("import os\n\n\ndef test_x():\n    from conftest import csrf_of\n    import test_crawl\n"
                    "    from test_browser import browser\n    from support.web import login\n", encoding="utf-8")
    assert [module for _, module in _imported_modules(made) if _forbidden(module)] == [
        "conftest", "test_crawl", "test_browser"]


def test_helper_modules_live_in_the_support_package():
    """Only test modules, conftest.py and test data sit at the top of tests/; shared code is under tests/support."""
    loose = sorted(p.name for p in TESTS.glob("*.py") if not p.name.startswith("test_") and p.name != "conftest.py")
    assert loose == []
    assert (TESTS / "support" / "__init__.py").is_file()
