"""Bad input on every API route that takes a JSON body: a clear 4xx in Chinese, and nothing changes."""

from __future__ import annotations

import typing

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

INJECTIONS = ["<script>alert(1)</script>", "' OR 1=1 --", "\"; DROP TABLE people; --", "<img src=x onerror=alert(1)>",
              "Robert'); DELETE FROM users;--"]
EXAMINED = {"DetectIn"}
TABLES = (Area, Unit, User, Person, StandardAddress, ImportBatch, Warning, Case, PublicReport, ReportEntity, BlocklistEntry)


def _body_model(endpoint) -> type[BaseModel] | None:
    hints = typing.get_type_hints(endpoint)
    for name, hint in hints.items():
        if name != "return" and isinstance(hint, type) and issubclass(hint, BaseModel):
            return hint
    return None


def _json_routes():
    for path, methods, endpoint in all_routes():
        if path.startswith("/api/") and methods & {"POST", "PATCH", "PUT"}:
            model = _body_model(endpoint)
            if model is not None:
                yield path, sorted(methods & {"POST", "PATCH", "PUT"})[0], model


def _valid_bodies(db) -> dict[str, dict]:
    """A valid body per request model, so each test changes exactly one field."""
    community = db.scalar(select(Area).where(Area.level == "community").order_by(Area.id))
    township = db.scalar(select(Area).where(Area.level == "township").order_by(Area.id))
    station = db.scalar(select(Area).where(Area.level == "station").order_by(Area.id))
    return {
        "AreaIn": {"name": "测试社区", "code": "BADIN01", "level": "community", "parent_id": township.id,
                   "police_area_id": station.id, "population": 10},
        "AreaPatch": {"name": "改名社区"},
        "UnitIn": {"name": "测试单位", "code": "BADU01", "kind": "tax", "area_id": township.id, "duty_groups": []},
        "UnitPatch": {"name": "改名单位"},
        "UserIn": {"username": "badinput1", "display_name": "测试员", "password": "Abcdefg123", "role": "grid_worker",
                   "area_id": community.id},
        "UserPatch": {"display_name": "改名"},
        "PersonIn": {"name": "张某某", "id_number": "11010519491231002X", "community_id": community.id},
        "PersonPatch": {"address": "幸福小区1栋"},
        "AddressIn": {"text": "测试路1号", "community_id": community.id},
        "MatchIn": {"text": "测试路1号"},
        "TokenIn": {"username": "admin", "password": "wrong-password-1"},
        "WarningIn": {"external_id": "BADIN-W1", "kind": "资金预警", "warned_at": "2026-11-01 09:30",
                      "phone": "13800000000", "current_address": "测试路1号"},
        "WarningBatchIn": {"warnings": [{"external_id": "BADIN-W2", "kind": "涉诈电话", "warned_at": "2026-11-01 09:30",
                                         "phone": "13800000001"}]},
        "PlaceIn": {"community_id": community.id},
        "ContactIn": {"channel": "phone", "result": "reached", "note": "已提醒"},
        "OutcomeIn": {"outcome": "not_needed", "note": "核实为误报"},
        "TransferIn": {"station_id": station.id, "reason": "对象居住在外辖区"},
        "AnswerIn": {"answer": "经核实对象仍居住在原辖区"},
        "AccountRequestIn": {"kind": "query", "account": "13900001111"},
        "AccountAnswerIn": {"outcome": "failed", "result": "账户不存在"},
        "FollowUpRecordIn": {"state": "not_defrauded", "note": "已回访，本人未被骗"},
        "DetectIn": {"text": "您好，您的快递丢失，我是客服，可为您办理理赔"},
        "CampaignIn": {"name": "测试扫楼行动", "kind": "sweep", "starts_on": "2026-04-08", "ends_on": "2026-04-09"},
        "QuotaIn": {"area_id": township.id, "metric": "households", "target": 100},
        "SupervisionIn": {"area_id": township.id, "kind": "supervise", "held_on": "2026-04-08"},
        "SupervisionOutcomeIn": {"outcome": "improved", "note": "已加派人手"},
        "ActivityIn": {"kind": "sweep", "community_id": community.id, "held_on": "2026-04-08",
                       "counts": {"households": 10}},
        "WithdrawIn": {"reason": "重复登记"},
        "TargetIn": {"area_id": township.id, "metric": "jzz_registrations", "denominator": "population",
                     "target_pct": "80", "due_on": "2026-06-30"},
        "DecisionIn": {"decision": "reject", "note": "核实为正常号码"},
        "TargetListIn": {"group": "student_teacher", "top_n": 2, "name": "师生测试名单"},
        "DutyIn": {"user_id": db.scalar(select(func.min(User.id)))},
        "UnplacedPlaceIn": {"community_id": community.id},
        "ListCampaignIn": {"starts_on": "2026-04-08", "ends_on": "2026-04-15"},
        "RunIn": {"scheme_key": "binzhou", "period": "2024", "area_id": township.parent_id},
        "ManualIn": {"pool": "township", "assessee_id": township.id, "item_key": "system_setup", "points": "8",
                     "note": "已成立领导小组"},
        "CorrectionIn": {"pool": "township", "assessee_id": township.id, "item_key": "system_setup", "points": "8",
                         "reason": "补充材料"},
        "CaseIn": {"case_number": "BADIN-C1", "filed_at": "2026-03-05 16:00", "name": "张某某", "address": "测试路1号",
                   "loss_amount": "95500"},
        "CasePatch": {"solved_at": "2026-11-01 10:00", "suspects_caught": 2, "recovered_amount": "1.5万"},
        "TypeIn": {"fraud_type": "investment"},
        "ActionIn": {"kind": "止付", "target": "6222020200112233445", "institution": "工商银行", "amount": "5000"},
        "ReassignIn": {"user_id": db.scalar(select(User.id).where(User.username == "ps01_minjing")),
                       "reason": "劝阻员休假"},
        "ShiftIn": {"user_id": db.scalar(select(User.id).where(User.username == "ps02_quanzu")),
                    "starts_at": "2030-05-01T08:00:00+08:00", "ends_at": "2030-05-01T20:00:00+08:00"},
        "FeedbackIn": {"since": "2026-11-01", "until": "2026-11-30", "only_new": True},
        "PasswordIn": {"old_password": "wrong-password-1", "new_password": "Xinmima2027"},
        "FamilyIn": {"name": "张某", "relation": "女儿", "phone": "13800001111"},
        "CallIn": {},
        "QuizIn": {"title": "四月知识测试", "roles": ["dissuader"], "opens_on": "2026-04-08", "closes_on": "2026-04-30"},
        "AnswersIn": {"answers": {}},
        "BulletinIn": {"period": "2019-11"},
        "LetterIn": {"action": "draft", "kind": "notice", "quarter": "2026-Q3"},
    }


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
    bodies = _valid_bodies(db)
    missing = {m.__name__ for _, _, m in _json_routes()} - set(bodies)
    assert not missing, f"add a valid body for {missing}"


def test_malformed_json_wrong_types_and_oversized_bodies(api_as, db):
    api = api_as("admin")
    bodies = _valid_bodies(db)
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
    bodies = _valid_bodies(db)
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
    bodies = _valid_bodies(db)
    r = api.post("/api/v1/people", json=dict(bodies["PersonIn"], id_number="110105194912310029"[:17] + "X"))
    assert r.status_code in (201, 409), r.text
    assert r.status_code != 201 or r.json()["id_number"] == "110105************"


@pytest.mark.parametrize("path", ["/api/v1/people", "/api/v1/areas"])
def test_no_token_gets_401_json(path, app):
    from conftest import make_client

    r = make_client(app).get(path)
    assert r.status_code == 401 and r.json()["error"]["message"]
