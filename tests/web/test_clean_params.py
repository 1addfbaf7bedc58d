"""Absurd values answer 4xx with a Chinese message, never 500: integers past any column (every integer parameter of
every route has an upper bound), control characters in a query (a NUL byte above all), a NUL inside a JSON body;
405 says what is allowed; the OpenAPI lists the errors every operation may answer."""

from __future__ import annotations

import typing

import pytest

from fanzha.web.app import all_routes, create_app

INT64 = 2**63 - 1


def _params(endpoint) -> list[tuple[str, object, list]]:
    """(name, annotation, metadata) of an endpoint's parameters as FastAPI reads them (Annotated included)."""
    import inspect

    out = []
    for name, p in inspect.signature(endpoint).parameters.items():
        annotation, metadata = p.annotation, []
        if isinstance(annotation, str):
            annotation = typing.get_type_hints(endpoint, include_extras=True).get(name, annotation)
        if typing.get_origin(annotation) is typing.Annotated:
            annotation, *metadata = typing.get_args(annotation)
        if hasattr(p.default, "metadata"):  # a Query(...), Form(...) or Path(...) default
            metadata = [*metadata, p.default]
        # A FieldInfo keeps its bounds in its own metadata (Le, Lt …).
        metadata = [m for item in metadata for m in (item, *getattr(item, "metadata", ()))]
        out.append((name, annotation, metadata))
    return out


def _is_int(annotation) -> bool:
    args = typing.get_args(annotation) or (annotation,)
    return int in args and bool not in args


def _upper(metadata) -> int | None:
    bounds = [getattr(m, a) for m in metadata for a in ("le", "lt") if getattr(m, a, None) is not None]
    return min(bounds) if bounds else None


def test_every_integer_parameter_of_every_route_has_an_upper_bound():
    """An unbounded integer reaches the database driver as a number no column holds (500 on PostgreSQL)."""
    unbounded = []
    for path, methods, endpoint in all_routes():
        for name, annotation, metadata in _params(endpoint):
            if _is_int(annotation) and (_upper(metadata) is None or _upper(metadata) > INT64):
                unbounded.append(f"{sorted(methods)} {path} {name}")
    assert not unbounded, unbounded


@pytest.mark.parametrize("url", ["/api/v1/warnings?offset=99999999999999999999", "/api/v1/users?offset=18446744073709551616",
                                 "/api/v1/warnings/99999999999999999999", "/api/v1/audit?offset=-1"])
def test_integers_past_any_column_are_refused(api_as, url):
    r = api_as("admin").get(url)
    assert r.status_code in (404, 422) and r.json()["error"]["message"], (url, r.status_code, r.text[:200])


def test_a_nul_in_a_query_is_named_not_a_server_error(api_as, client_as):
    api = api_as("admin")
    r = api.get("/api/v1/people", params={"q": "张\x00三"})
    assert r.status_code == 422
    assert r.json()["error"]["details"] == [{"loc": ["query", "q"], "msg": "含有控制字符"}]
    page = client_as("yanpan").get("/warnings?q=%00abc")
    assert page.status_code == 422 and "查询参数“搜索内容”含有控制字符（如 NUL）" in page.text
    assert "<li>搜索内容：含有控制字符</li>" in page.text and "query.q" not in page.text  # the page names it in Chinese
    assert client_as("yanpan").get("/warnings?q=%09%E5%BC%A0").status_code == 200  # a tab is text


def test_a_nul_inside_a_json_body_is_refused_not_a_server_error(api_as):
    r = api_as("admin").post("/api/v1/units", json={"name": "某\x00单位", "code": "NUL01", "kind": "other"})
    assert r.status_code == 422 and "控制字符" in r.json()["error"]["message"]


def test_405_says_which_methods_are_allowed(client_as, api_as):
    r = api_as("admin").delete("/api/v1/warnings")
    assert r.status_code == 405 and {m.strip() for m in r.headers["allow"].split(",")} <= {"GET", "HEAD", "POST"}
    page = client_as("yanpan").put("/warnings")
    assert page.status_code == 405 and "GET" in page.headers["allow"]


def test_the_openapi_lists_the_errors_every_operation_may_answer():
    spec = create_app().openapi()
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            assert {"401", "403", "404", "409", "422"} <= set(op["responses"]), (method, path)
    assert spec["components"]["schemas"]["ErrorOut"]["properties"]["error"]
