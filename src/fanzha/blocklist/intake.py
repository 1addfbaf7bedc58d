"""Blocklist rows from CSV/XLSX through the one import path (kind "blocklist"); the export writes the same columns."""

from __future__ import annotations

from sqlalchemy.orm import Session

from fanzha.blocklist.service import _add_entry
from fanzha.detect.extract import ENTITY_KINDS, canonical, guess_kind
from fanzha.detect.normalise import normalise
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, register
from fanzha.imports.values import clean
from fanzha.org.scope import Scope

COLUMNS = Columns(
    aliases={
        "号码/网址/账号": ("号码", "电话", "电话号码", "手机号", "网址", "链接", "账号", "银行卡号", "涉诈号码", "值"),
        "类型": ("种类", "号码类型"),
        "来源": ("备注", "说明"),
    },
    required=("号码/网址/账号",),
)
KIND_BY_LABEL = {label: kind for kind, label in ENTITY_KINDS.items()} | {
    "电话": "phone", "手机": "phone", "手机号": "phone", "链接": "url", "网站": "url", "银行卡": "bank_card",
    "账户": "bank_card", "账号": "bank_card", "QQ": "qq", "微信": "wechat"} | {k: k for k in ENTITY_KINDS}


def make_handler(session: Session, scope: Scope):
    def handle(row: dict[str, object]) -> str:
        value = clean(row.get("号码/网址/账号"))
        if not value or len(value) > 200:
            raise RowRejected("号码/网址/账号", "号码/网址/账号 为空或超过 200 字")
        label = clean(row.get("类型"))
        kind = KIND_BY_LABEL.get(label) if label else guess_kind(value)
        if not kind:
            raise RowRejected("类型", f"类型 “{label}” 不认识，应为 {'、'.join(ENTITY_KINDS.values())}" if label
                              else "无法判断是电话、网址、银行卡、QQ 还是微信号，请填写类型")
        key = canonical(kind, value)
        if not key:
            raise RowRejected("号码/网址/账号", f"“{value}” 不是有效的{ENTITY_KINDS[kind]}")
        source = clean(row.get("来源"))[:200] or "文件导入"
        return "created" if _add_entry(session, scope, kind, normalise(value), key, source) else "duplicate"

    return handle


register(Importer(kind="blocklist", label="黑名单", columns=COLUMNS, make_handler=make_handler,
                  permission="review_reports",
                  template_example=[["13800000000", "电话号码", "举报核实"], ["jd-refund.top", "网址", ""]]))
