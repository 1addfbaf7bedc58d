"""The JSON bodies of the API: the request model a route takes, and one valid body per model, so a test can change
exactly one field. A new request model needs an entry in valid_bodies (tests/web/test_bad_input.py checks)."""

from __future__ import annotations

import typing

from pydantic import BaseModel
from sqlalchemy import func, select

from fanzha.org.models import Area, User


def body_model(endpoint) -> type[BaseModel] | None:
    hints = typing.get_type_hints(endpoint)
    for name, hint in hints.items():
        if name != "return" and isinstance(hint, type) and issubclass(hint, BaseModel):
            return hint
    return None


def valid_bodies(db) -> dict[str, dict]:
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
