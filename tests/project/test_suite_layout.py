"""The suite's own layout: test modules mirror the package (`tests/<package>/test_<module>.py`, a folder per top-level
package of src/fanzha, and `tests/project/` for the repository's own rules), what they share lives in `tests/support`,
and no test module imports conftest or another test module (fixtures shared between modules are plugins registered
once in tests/conftest.py).

Every `import` and `from … import` counts, wherever it is written, inside functions too.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SRC = TESTS.parent / "src" / "fanzha"
# Folders that are not a package of src/fanzha: the repository's own rules, shared helpers, test data.
OWN_FOLDERS = {"project", "support", "fixtures"}


def _test_modules() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if p.parent.name not in ("support", "fixtures"))


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
    paths = _test_modules() + [TESTS / "conftest.py"] + sorted((TESTS / "support").glob("*.py"))
    assert len(paths) > 100
    assert _offences(paths) == []


def test_the_check_sees_imports_inside_functions(tmp_path):
    made = tmp_path / "test_made.py"
    made.write_text("import os\n\n\ndef test_x():\n    from conftest import csrf_of\n    import test_crawl\n"
                    "    from test_browser import browser\n    from support.web import login\n", encoding="utf-8")
    assert [module for _, module in _imported_modules(made) if _forbidden(module)] == [
        "conftest", "test_crawl", "test_browser"]


def test_helper_modules_live_in_the_support_package():
    """Only conftest.py sits at the top of tests/; shared code is under tests/support."""
    assert sorted(p.name for p in TESTS.glob("*.py")) == ["conftest.py"]
    assert (TESTS / "support" / "__init__.py").is_file()


def test_test_modules_sit_in_the_folder_of_their_package():
    """tests/<package>/test_<module>.py: each folder is a top-level package (or module) of src/fanzha, or one of the
    suite's own folders; one level deep; and no two test modules share a name (pytest imports them by name)."""
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and any(p.glob("*.py"))} | {p.stem for p in SRC.glob("*.py")}
    modules = _test_modules()
    assert all(p.parent.parent == TESTS for p in modules), [str(p.relative_to(TESTS)) for p in modules
                                                            if p.parent.parent != TESTS]
    strays = sorted({p.parent.name for p in modules} - packages - OWN_FOLDERS)
    assert strays == [], f"tests/{strays[0]}/ is not a package of src/fanzha" if strays else ""
    twice = [name for name, n in Counter(p.name for p in modules).items() if n > 1]
    assert twice == []
