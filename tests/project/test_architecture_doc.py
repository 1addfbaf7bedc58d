"""docs/architecture.md says where each rule lives; every `fanzha.…` name and `src/…` path it gives must exist, so
the table cannot keep pointing at code that moved."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if attr in getattr(obj, "model_fields", {}):  # a setting or a rules file's key (Pydantic fields)
                obj = obj.model_fields[attr]
            elif hasattr(obj, attr):
                obj = getattr(obj, attr)
            else:
                return False
        return True
    return False


def test_every_name_and_path_the_architecture_doc_gives_exists():
    text = DOC.read_text(encoding="utf-8")
    names = sorted(set(re.findall(r"`(fanzha(?:\.[A-Za-z_]\w*)+)", text)))
    paths = sorted(set(re.findall(r"`(src/fanzha/[\w/.-]+)`", text)))
    assert len(names) > 40 and paths
    assert [n for n in names if not _resolves(n)] == []
    assert [p for p in paths if not (ROOT / p).exists()] == []


def test_the_check_would_notice_a_name_that_moved():
    assert _resolves("fanzha.org.scope.Scope.records_clause")
    assert not _resolves("fanzha.org.scope.Scope.no_such_clause")
    assert not _resolves("fanzha.warnings.feedback")
