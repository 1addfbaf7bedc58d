"""Every page action has an API twin: docs/api.md's table is checked against the routes actually mounted (a page action
without a row, a row naming an API route or a page route that does not exist), and where both routes declare their
permission in their signature, the two permissions must be the same."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from fastapi.params import Depends

import fanzha.importers  # noqa: F401  (registers every import kind)
from fanzha.imports.service import IMPORTERS
from fanzha.web.app import all_routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
READ_ONLY = {"GET", "HEAD", "OPTIONS"}
ROUTE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/[\w/{}:.\-]*)")


def _route(cell: str) -> tuple[str, str] | None:
    """('POST', '/api/v1/…') from a table cell, backticks and a query string left out; None for a cell that names
    no route (a dash for an action that is not on data)."""
    m = ROUTE.match(cell.replace("`", "").strip())
    return (m.group(1), m.group(2)) if m else None


def _table() -> list[tuple[str, tuple[str, str], tuple[str, str] | None, str]]:
    """(action, page route, API route or None, the API cell as written) for each row of the table."""
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) != 3 or cells[1] in ("Page route", "---"):
            continue
        page = _route(cells[1])
        assert page is not None, f"docs/api.md: a row without a page route: {line}"
        api = _route(cells[2])
        assert api is not None or cells[2].startswith("—"), f"docs/api.md: name a route or say — (no action): {line}"
        rows.append((cells[0], page, api, cells[2]))
    return rows


def _mounted() -> tuple[dict[tuple[str, str], object], dict[tuple[str, str], object]]:
    """(method, path) → endpoint of every page action (non-GET page route) and of every API route."""
    page, api = {}, {}
    for path, methods, endpoint in all_routes():
        for method in methods:
            if path.startswith("/api/"):
                api[(method, path)] = endpoint
            elif method not in READ_ONLY:
                page[(method, path)] = endpoint
    return page, api


def test_the_table_is_read():
    rows = _table()
    assert len(rows) >= 70
    pairs = {(page, api) for _, page, api, _ in rows}
    assert (("POST", "/registry/duties/run"), ("POST", "/api/v1/registry/duties:run")) in pairs
    assert _route("`GET /api/v1/people/{person_id}?reveal=true`") == ("GET", "/api/v1/people/{person_id}")
    assert _route("—（见 POST /api/v1/auth/token、DELETE /api/v1/auth/token）") is None


def test_every_page_action_has_a_row():
    page, _ = _mounted()
    listed = {p for _, p, _, _ in _table()}
    missing = sorted(set(page) - listed)
    assert not missing, "page actions without an API twin in docs/api.md:\n" + "\n".join(f"{m} {p}" for m, p in missing)


def test_no_row_names_a_page_route_that_is_gone():
    page, _ = _mounted()
    gone = sorted({p for _, p, _, _ in _table()} - set(page))
    assert not gone, "docs/api.md names page routes that no longer exist:\n" + "\n".join(f"{m} {p}" for m, p in gone)


def test_every_page_route_has_one_row():
    rows = [p for _, p, _, _ in _table()]
    twice = sorted({p for p in rows if rows.count(p) > 1})
    assert not twice, f"page routes listed twice in docs/api.md: {twice}"


def test_every_twin_is_a_mounted_api_route():
    _, api = _mounted()
    absent = [f"{m} {p}  (twin of {pm} {pp})" for _, (pm, pp), twin, _ in _table() if twin for m, p in [twin]
              if (m, p) not in api]
    assert not absent, "docs/api.md names API routes that are not mounted:\n" + "\n".join(absent)


def test_import_rows_name_import_kinds_that_exist():
    for action, page, twin, cell in _table():
        if twin != ("POST", "/api/v1/imports/{kind}"):
            continue
        named = re.findall(r"`(\w+)`", cell.split("（", 1)[-1]) if "（" in cell else []
        assert named, f"{action} ({page[1]}): name the import kind in the row"
        assert set(named) <= set(IMPORTERS), f"{page[1]}: unknown import kinds {set(named) - set(IMPORTERS)}"


def _declared_permissions(endpoint) -> set[str]:
    """The permissions a route declares in its signature (`Depends(require(Perm.X))`, named require_x); empty when
    it checks inside its service function instead, which cannot be read from outside."""
    found = set()
    for param in inspect.signature(endpoint).parameters.values():
        dep = param.default
        name = getattr(getattr(dep, "dependency", None), "__name__", "")
        if isinstance(dep, Depends) and name.startswith("require_"):
            found.add(name.removeprefix("require_"))
    return found


def test_twins_declare_the_same_permission_as_their_pages():
    """Only where both routes declare a permission in the signature; a route that checks inside its service function
    (the usual API pattern, `Depends(current_scope)`) is not compared: that cannot be read mechanically."""
    page, api = _mounted()
    compared, differ = 0, []
    for _, p, twin, _ in _table():
        if twin is None or p not in page or twin not in api:
            continue
        mine, theirs = _declared_permissions(page[p]), _declared_permissions(api[twin])
        if not mine or not theirs:
            continue
        compared += 1
        if mine != theirs:
            differ.append(f"{p[0]} {p[1]} needs {sorted(mine)}, {twin[0]} {twin[1]} needs {sorted(theirs)}")
    assert not differ, "twins behind another permission than their page:\n" + "\n".join(differ)
    if compared == 0:
        pytest.skip("no twin pair declares its permission on both sides")


def test_the_permission_reader_reads_the_registry_routes():
    """The reader above is not vacuous: the registry's page and API routes declare theirs."""
    page, api = _mounted()
    assert _declared_permissions(page[("POST", "/registry/duties/run")]) == {"allocate_duties"}
    assert _declared_permissions(api[("POST", "/api/v1/registry/duties:run")]) == {"allocate_duties"}
    assert _declared_permissions(api[("POST", "/api/v1/registry/target-lists")]) == set()  # checked in the service
