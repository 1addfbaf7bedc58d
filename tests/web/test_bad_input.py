"""Bad input on every API route that takes a JSON body: a clear 4xx in Chinese, and nothing changes."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from sqlalchemy import func, select

from fanzha.addresses.models import StandardAddress
from fanzha.blocklist.models import BlocklistEntry, PublicReport, ReportEntity
from fanzha.cases.models import Case
from fanzha.imports.models import ImportBatch
from fanzha.org.models import Area, Unit, User
from fanzha.people.models import Person
from fanzha.registry.models import Duty, RegistryUnplaced, TargetList
from fanzha.warnings.models import Warning
from fanzha.web.app import all_routes
from support.bodies import body_model, valid_bodies

INJECTIONS = ["<script>alert(1)</script>", "' OR 1=1 --", "\"; DROP TABLE people; --", "<img src=x onerror=alert(1)>",
              "Robert'); DELETE FROM users;--"]
EXAMINED = {"DetectIn"}
TABLES = (Area, Unit, User, Person, StandardAddress, ImportBatch, Warning, Case, PublicReport, ReportEntity, BlocklistEntry)


def _json_routes():
    for path, methods, endpoint in all_routes():
        if path.startswith("/api/") and methods & {"POST", "PATCH", "PUT"}:
            model = body_model(endpoint)
            if model is not None:
                yield path, sorted(methods & {"POST", "PATCH", "PUT"})[0], model


def _url(path: str, db) -> str:
    ids = {"area_id": db.scalar(select(func.max(Area.id))), "unit_id": db.scalar(select(func.max(Unit.id))),
           "user_id": db.scalar(select(func.max(User.id))), "person_id": db.scalar(select(func.max(Person.id))),
           "warning_id": db.scalar(select(func.max(Warning.id))), "case_id": db.scalar(select(func.max(Case.id))),
           "entity_id": db.scalar(select(func.max(ReportEntity.id))), "duty_id": db.scalar(select(func.max(Duty.id))),
           "list_id": db.scalar(select(func.max(TargetList.id))),
           "unplaced_id": db.scalar(select(func.max(RegistryUnplaced.id)))}
    for k, v in ids.items():
        path = path.replace("{" + k + "}", str(v))
    return path


def _counts(db) -> dict[str, int]:
    db.expire_all()
    return {t.__tablename__: db.scalar(select(func.count()).select_from(t)) for t in TABLES}


def _string_fields(model: type[BaseModel]) -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        ann = str(field.annotation)
        # Passwords take any characters: they are hashed, never stored or shown as text.
        if "str" in ann and "list" not in ann and not name.endswith("password"):
            out.append(name)
    return out


def _assert_clear_error(r, statuses=(400, 404, 409, 413, 422)):
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    body = r.json()
    assert set(body) == {"error"}
    assert body["error"]["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["error"]["message"])
    assert "Traceback" not in r.text


def test_every_body_model_has_a_valid_example(db):
    bodies = valid_bodies(db)
    missing = {m.__name__ for _, _, m in _json_routes()} - set(bodies)
    assert not missing, f"add a valid body for {missing} to valid_bodies in tests/support/bodies.py"


def test_malformed_json_wrong_types_and_oversized_bodies(api_as, db):
    api = api_as("admin")
    bodies = valid_bodies(db)
    before = _counts(db)
    for path, method, model in _json_routes():
        url = _url(path, db)
        r = api.request(method, url, content=b'{"name": "\xe5\xbc\xa0", broken', headers={"content-type": "application/json"})
        _assert_clear_error(r, (400, 422))
        for field in model.model_fields:
            for wrong in ([1, 2], {"a": 1}, 10**30 if field not in ("population", "households", "shops") else "很多"):
                body = dict(bodies[model.__name__], **{field: wrong})
                r = api.request(method, url, json=body)
                _assert_clear_error(r, (400, 401, 422))
        r = api.request(method, url, content=b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}',
                        headers={"content-type": "application/json"})
        _assert_clear_error(r, (413,))
    assert _counts(db) == before


def _free_text(model: type[BaseModel]) -> set[str]:
    """Fields of free text (notes, addresses, narratives): they take every printable character (common/text.py)."""
    return {name for name, field in model.model_fields.items()
            if "x-free-text" in repr(field.annotation) + repr(field.metadata) + repr(field.json_schema_extra)}


def test_injection_strings_in_every_structured_field(api_as, db):
    """Names, codes, numbers and choices have a shape; markup and SQL do not fit it and get a clear 4xx."""
    api = api_as("admin")
    bodies = valid_bodies(db)
    before = _counts(db)
    tried = 0
    for path, method, model in _json_routes():
        if model.__name__ == "TokenIn":
            continue
        url = _url(path, db)
        if model.__name__ in EXAMINED:  # the text is what is being judged: any characters, nothing stored
            for attack in INJECTIONS:
                r = api.request(method, url, json={"text": attack})
                assert r.status_code == 200 and r.json()["results"][0]["risk"]
            continue
        for field in sorted(set(_string_fields(model)) - _free_text(model)):
            for attack in INJECTIONS:
                body = dict(bodies[model.__name__], **{field: attack})
                r = api.request(method, url, json=body)
                assert r.status_code >= 300, f"{model.__name__}.{field} took {attack!r}"
                _assert_clear_error(r, (400, 404, 422))
                tried += 1
    assert tried > 30
    assert _counts(db) == before


def test_free_text_fields_are_found():
    from fanzha.dissuasion.api import ContactIn
    from fanzha.people.schemas import PersonPatch

    assert _free_text(PersonPatch) == {"address"}
    assert "note" in _free_text(ContactIn)


def test_free_text_keeps_what_was_said_and_pages_escape_it(api_as, client_as, db):
    """A dissuader quotes the person: every printable character is kept as typed, and shown escaped."""
    said = "他说：<安全账户> 是“公安”给的; 'rm -rf' \\ 明天再转"
    api = api_as("ps01_minjing")
    person = api.get("/api/v1/people", params={"limit": 1}).json()[0]
    r = api.patch(f"/api/v1/people/{person['id']}", json={"address": said})
    assert r.status_code == 200, r.text
    db.expire_all()
    assert db.get(Person, person["id"]).address == said
    page = client_as("ps01_minjing").get(f"/people/{person['id']}")
    assert "&lt;安全账户&gt;" in page.text and "<安全账户>" not in page.text
    refused = api.patch(f"/api/v1/people/{person['id']}", json={"address": "幸福小区\x001栋"})
    assert refused.status_code == 422 and "控制字符" in refused.text


def test_injection_in_query_strings_is_harmless(api_as, client_as, db):
    api = api_as("admin")
    before = _counts(db)
    for attack in INJECTIONS:
        assert api.get("/api/v1/people", params={"q": attack[:32]}).status_code == 200
        assert api.get("/api/v1/areas", params={"q": attack}).status_code == 200
    page = client_as("admin").get("/people", params={"q": "<script>alert(1)</script>"})
    assert page.status_code == 200 and "<script>alert(1)</script>" not in page.text
    assert _counts(db) == before


def test_unknown_ids_get_404(api_as):
    api = api_as("admin")
    for path in ("/api/v1/areas/99999999", "/api/v1/units/99999999", "/api/v1/users/99999999",
                 "/api/v1/people/99999999", "/api/v1/addresses/99999999", "/api/v1/imports/99999999"):
        _assert_clear_error(api.get(path), (404,))
    _assert_clear_error(api.patch("/api/v1/people/99999999", json={"address": "某地"}), (404,))
    _assert_clear_error(api.get("/api/v1/people/abc"), (422,))


def test_valid_bodies_do_work(api_as, db):
    """The same valid bodies succeed, so the refusals above are about the bad part only."""
    api = api_as("admin")
    bodies = valid_bodies(db)
    r = api.post("/api/v1/people", json=dict(bodies["PersonIn"], id_number="110105194912310029"[:17] + "X"))
    assert r.status_code in (201, 409), r.text
    assert r.status_code != 201 or r.json()["id_number"] == "110105************"


@pytest.mark.parametrize("path", ["/api/v1/people", "/api/v1/areas"])
def test_no_token_gets_401_json(path, app):
    from support.web import make_client

    r = make_client(app).get(path)
    assert r.status_code == 401 and r.json()["error"]["message"]
