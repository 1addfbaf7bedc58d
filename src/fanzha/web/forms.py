"""What a browser's form sends, made into what the routes declare: one place for pages and the API alike.

A form sends every field, left as it is: `?station_id=&grade=&q=`, `community_id=&note=`. An empty value of an
optional id, date, number or choice means "not given" (see docs/web.md):

- query strings: empty values are dropped before routing (`EmptyQueryValues`), so each parameter takes its declared
  default (None, "", the default choice); a route never accepts `str` to parse it itself;
- form fields declared on a route (`Form`, `File`): FastAPI gives an empty value, or a file input with nothing
  chosen, the parameter's default; the types in web/params.py also read a value of only spaces as empty;
- a form read into a Pydantic model (`parse_form`): `not_given` applies the same rule to the model's fields.

A value that still does not fit is named in Chinese (`FIELD_LABELS`) on the error page a page route answers with.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode

from fastapi import Request
from pydantic import BaseModel, ValidationError

from fanzha.common.errors import Invalid


def drop_empty(query: bytes) -> bytes:
    """`a=&b=1&c=` → `b=1`; values that are not empty are kept in order, repeated keys included."""
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, v) for k, v in pairs if v.strip() != ""]).encode("latin-1")


class EmptyQueryValues:
    """ASGI middleware: drops the empty values of the query string (see the module docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("query_string"):
            scope = {**scope, "query_string": drop_empty(scope["query_string"])}
        await self.app(scope, receive, send)


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


async def clean_query(request: Request) -> None:
    """Every route's query string is text a person could type: a control character (a NUL byte above all, which
    PostgreSQL cannot store or compare) is refused with 422 naming the parameter, before any route reads it.
    Mounted on the page and API routers (fanzha.api, fanzha.web.views); async, so it costs no thread hop."""
    if not request.scope.get("query_string"):
        return
    for key, value in request.query_params.multi_items():
        if _CONTROL.search(key) or _CONTROL.search(value):
            label = FIELD_LABELS.get(key, key[:32]) if not _CONTROL.search(key) else "参数名"
            message = f"查询参数“{label}”含有控制字符（如 NUL），请删除后重试"
            raise Invalid(message, details=[{"loc": ["query", _CONTROL.sub("?", key)[:32]], "msg": "含有控制字符"}])


def is_blank(value: object) -> bool:
    """An empty text field or choice: "" or only spaces."""
    return isinstance(value, str) and not value.strip()


def not_given(model: type[BaseModel], data: Mapping[str, object]) -> dict:
    """The submitted values with the empty ones read as "not given" by `model`: None for a field that may be None
    (a create takes it as absent; a patch form shows every current value, so there it clears the field or, where
    the service ignores None, leaves it), left out for any other field, which then takes its default or is 必填."""
    out = {}
    for key, value in data.items():
        if not is_blank(value):
            out[key] = value
            continue
        field = model.model_fields.get(key)
        if field is not None and not field.is_required() and _may_be_none(field.annotation):
            out[key] = None
    return out


def _may_be_none(annotation) -> bool:
    if annotation is None or annotation is type(None):
        return True
    origin = typing.get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


M = typing.TypeVar("M", bound=BaseModel)


def parse_form(model: type[M], data: Mapping[str, object]) -> tuple[M | None, dict[str, str]]:
    """A submitted form as `model`, empty values read as not given; or the errors to show beside the fields."""
    try:
        return model.model_validate(not_given(model, data)), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            ctx = err.get("ctx") or {}
            msg = str(ctx["error"]) if isinstance(ctx.get("error"), ValueError) else _MESSAGES.get(err["type"], "填写有误")
            errors.setdefault(field, msg)
        return None, errors


_MESSAGES = {
    "missing": "必填",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "string_pattern_mismatch": "格式不对",
    "int_parsing": "应为整数",
    "enum": "不是允许的取值",
    "greater_than_equal": "不能小于允许的最小值",
    "less_than_equal": "超出允许的最大值",
}


def form_fields(form, keys, limit: int) -> dict[str, str]:
    """The named fields of a submitted form as text, each cut to `limit` characters (absent: "")."""
    return {k: str(form.get(k, ""))[:limit] for k in keys}


# The Chinese name of every query and form field a page route declares, for the error page a value that does not
# fit gets (tests/web/test_form_values.py fails when a page route declares a field missing here).
FIELD_LABELS = {
    "account": "账号", "action": "操作", "add_address": "加入标准地址", "amount": "金额", "amount_lost": "受骗金额",
    "amount_protected": "避免损失", "area": "辖区", "area_id": "辖区", "body": "正文", "by": "统计粒度",
    "campaign_id": "专项行动", "family_contact_id": "家属联系人", "case_id": "案件", "chain": "层级", "check": "查漏项", "community_id": "村/社区",
    "csrf_token": "页面校验码", "day": "日期", "decision": "审核结论", "dim": "维度", "done": "完成提示",
    "duty_id": "三包任务", "end": "结束日期", "ends_at": "结束时间", "ends_on": "结束日期", "entity": "对象",
    "error": "错误提示", "evidence": "佐证文件", "file": "文件", "fmt": "文件格式", "fraud_type": "诈骗类型",
    "from": "开始", "gaps": "宣防漏洞", "grade": "级别", "group": "群体", "issued_on": "成文日期", "item_key": "考核项",
    "kind": "类型",
    "measure": "指标", "metric": "指标", "mine": "只看本人", "missed_outreach": "其他漏洞说明", "name": "名称",
    "new_password": "新密码", "next": "跳转页面", "note": "备注", "old_password": "原密码", "only_new": "只含未上报",
    "outcome": "结果", "page": "页码", "part": "分项", "password": "密码", "pending_type": "待确认类型",
    "period": "期间", "phone": "手机号", "picked": "所选答案", "points": "分数", "q": "搜索内容", "quarter": "季度",
    "rank_by": "排名依据", "reason": "原因", "relation": "关系", "role": "角色", "row": "行", "run_id": "考核",
    "scheme_key": "考核方案", "since": "开始日期", "solved": "破案情况", "start": "开始日期", "starts_at": "开始时间",
    "starts_on": "开始日期", "state": "状态", "station_id": "派出所", "status": "状态", "sub": "下级", "text": "内容",
    "roster_day": "值班表日期", "run": "运行回放", "seed": "随机种子", "to": "结束", "top_n": "高发类型数", "unit_id": "成员单位", "unplaced_id": "待落地人员", "until": "结束日期",
    "user_id": "人员", "username": "用户名", "value": "号码或网址", "window_days": "统计天数", "year": "年份",
    "device_at": "手机记录时间", "idempotency_key": "提交编号", "sent_at": "手机发送时间",
    "ask": "确认步骤", "confirm": "确认", "revision": "作为修订", "revision_note": "修订说明",
    "assignee_id": "劝阻员", "flag": "超时/升级", "full": "完整号码", "placed": "已分配提示", "back": "返回页面",
    "community": "村/社区",
    "unit": "外地接收单位", "answer": "退回原因",
    "bank": "开户行", "result": "查询/办理结果", "reference": "银行回执号", "froze": "已申请冻结提示",
    "no_answer_reason": "未接原因", "target": "劝阻对象", "success_kind": "劝阻成功方式",
}


def field_label(loc: tuple | list) -> str:
    """The Chinese name of the field at a validation error's location (("query", "page") → 页码)."""
    names = [str(p) for p in loc if p not in ("query", "body", "path", "header", "cookie") and not isinstance(p, int)]
    return FIELD_LABELS.get(names[-1], names[-1]) if names else ""
