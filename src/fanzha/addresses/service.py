"""Standard addresses: listing, adding, importing, and matching free-text addresses to communities."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from fanzha.addresses.models import ADDRESS_KINDS, StandardAddress
from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.text import check_plain
from fanzha.imports.reader import Columns
from fanzha.imports.service import Importer, RowRejected, register
from fanzha.imports.values import clean
from fanzha.org.enums import Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope

_PUNCT = re.compile(r"[\s,，。.、;；:：()（）\[\]【】#＃\-—_/\\]")
_KIND_WORDS = {v: k for k, v in ADDRESS_KINDS.items()} | {"门牌号": "door", "道路": "road", "路": "road",
                                                          "小区名": "estate", "自然村": "village"}


_VARIANTS = str.maketrans({"號": "号", "幢": "栋", "棟": "栋", "區": "区"})


def normalize(text: str) -> str:
    """Full-width folded, spaces and punctuation dropped, 號/幢 variants unified: the key addresses match on."""
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).translate(_VARIANTS).upper()


def guess_kind(text: str) -> str:
    if re.search(r"\d+号", text):
        return "door"
    if re.search(r"(小区|花园|苑|公寓|家园|新村|大厦|广场)$", text):
        return "estate"
    if text.endswith(("村", "组", "屯")):
        return "village"
    return "road"


def list_addresses(session: Session, scope: Scope, *, q: str = "", community_id: int | None = None,
                   limit: int = 100, offset: int = 0) -> tuple[list[StandardAddress], int]:
    scope.require(Perm.READ_ORG)
    stmt = select(StandardAddress).where(scope.community_clause(StandardAddress.community_id))
    if q:
        stmt = stmt.where(or_(StandardAddress.text.contains(q, autoescape=True),
                              StandardAddress.normalized.contains(normalize(q), autoescape=True)))
    if community_id:
        stmt = stmt.where(StandardAddress.community_id == community_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = session.scalars(stmt.options(joinedload(StandardAddress.community)).order_by(StandardAddress.id)
                           .limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)


def get_address(session: Session, scope: Scope, address_id: int) -> StandardAddress:
    scope.require(Perm.READ_ORG)
    row = session.scalar(select(StandardAddress).where(StandardAddress.id == address_id,
                                                       scope.community_clause(StandardAddress.community_id)))
    if row is None:
        raise NotFound("地址不存在或不在您的管辖范围内")
    return row


def _community(session: Session, scope: Scope, community_id: int) -> Area:
    area = session.scalar(select(Area).where(Area.id == community_id, Area.id.in_(scope.community_ids())))
    if area is None:
        raise Invalid("村/社区不存在或不在您的管辖范围内", details=[{"loc": ["community_id"], "msg": "应为您辖区内的村/社区"}])
    return area


def create_address(session: Session, scope: Scope, *, text: str, community_id: int, kind: str | None = None) -> StandardAddress:
    scope.require(Perm.MANAGE_ADDRESSES)
    community = _community(session, scope, community_id)
    key = normalize(text)
    if not key:
        raise Invalid("地址不能为空", details=[{"loc": ["text"], "msg": "必填"}])
    kind = kind or guess_kind(text)
    if kind not in ADDRESS_KINDS:
        raise Invalid("地址类型应为 小区、村、路段、门牌 之一", details=[{"loc": ["kind"], "msg": "未知类型"}])
    if session.scalar(select(StandardAddress.id).where(StandardAddress.normalized == key)):
        raise Conflict(f"标准地址“{text}”已存在")
    row = StandardAddress(community_id=community.id, kind=kind, text=text, normalized=key)
    session.add(row)
    session.flush()
    audit.record(session, scope, "create", "address", row.id, detail={"text": text})
    return row


# -- matching free text ----------------------------------------------------------------------
# Matching looks at a looser key than normalize() (which stays the stored key, so stored rows never go stale):
# a door number typed without 号 gets it ("中山北京路159 3栋", "长江路242-1"), Chinese numerals before 号/栋/组…
# become digits ("三组", "七号", "二栋"), "3号楼" is "3栋" and "5队"/"5社" after a 村 is "5组".

_DOOR_NO = re.compile(r"(?<=[路街道巷弄])\s*(\d+)(?!\d|\s*(?:号|號|栋|幢|棟|单元|楼|层|室|组|队|座|期|弄|巷))")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零〇一二两三四五六七八九十]+(?=号|栋|单元|楼|层|室|组|队|社(?!区)|期)")
_BUILDING = re.compile(r"(\d+)号楼")
_GROUP = re.compile(r"(村\d+)(?:小组|队|社(?!区))")
# A text that begins with another province, or with a city and its district, is outside the jurisdiction even when a
# standard name (阳光花园, 人民路134号) appears in it.
_HEAD = re.compile(r"^(?P<province>[\u4e00-\u9fff]{2,7}?(?:省|自治区|特别行政区))?"
                   r"(?:(?P<city>[\u4e00-\u9fff]{2,4}?市)"
                   r"(?P<county>[\u4e00-\u9fff]{1,6}?(?<![小社园校景片街厂矿营])(?:区|县|旗|市)))?")


def _cn_number(text: str) -> str:
    if "十" not in text:
        return "".join(str(_CN_DIGIT[c]) for c in text)
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return text
    return str((_CN_DIGIT[tens] if tens else 1) * 10 + (_CN_DIGIT[ones] if ones else 0))


def _loose(key: str) -> str:
    """normalize()d text → the key matching compares (see above)."""
    key = _CN_NUMBER.sub(lambda m: _cn_number(m.group(0)), key)
    return _GROUP.sub(r"\1组", _BUILDING.sub(r"\1栋", key))


def match_key(text: str) -> str:
    text = _DOOR_NO.sub(lambda m: m.group(1) + "号", unicodedata.normalize("NFKC", text))
    return _loose(normalize(text))


class AddressMatcher:
    """Longest standard address contained in a free-text address wins; loaded once, used for many texts.

    Matching is on match_key(): full-width digits, spaces, punctuation, 號/幢 variants, a missing 号, Chinese
    numerals and 号楼/队 do not matter, and a text may carry anything around the standard address (city, district,
    building, room). A township may be written in full or short: 河口五星村4组 finds 河口镇五星村4组 and
    中山街道迎宾大道6号 finds 中山迎宾大道6号 (aliases that would point at two communities are left out).
    A text that starts with another province, or another city and its district, matches nothing.
    """

    def __init__(self, session: Session, scope: Scope | None = None):
        stmt = select(StandardAddress.normalized, StandardAddress.community_id)
        if scope is not None:
            stmt = stmt.where(scope.community_clause(StandardAddress.community_id))
        index: dict[str, int] = {}
        for key, community_id in session.execute(stmt):
            index.setdefault(_loose(key), community_id)
        self._index = index | self._township_aliases(session, index)
        self._lengths = sorted({len(k) for k in self._index}, reverse=True)
        home = session.execute(select(Area.name, Area.level).where(Area.level.in_([Level.CITY, Level.COUNTY]))).all()
        self._home_names = {normalize(n) for n, _ in home}
        self._cache: dict[str, int | None] = {}

    @staticmethod
    def _township_aliases(session: Session, index: dict[str, int]) -> dict[str, int]:
        township = Area.__table__.alias("township")
        names = dict(session.execute(select(Area.id, township.c.name).join(township, township.c.id == Area.parent_id)
                                     .where(Area.level == Level.COMMUNITY)).all())
        aliases: dict[str, int | None] = {}
        for key, community_id in index.items():
            full = normalize(names.get(community_id) or "")
            if full.endswith("街道"):
                base = full[:-2]
                alias = full + key[len(base):] if key.startswith(base) and not key.startswith(full) else None
            elif full.endswith(("镇", "乡")) and len(full) > 2:
                alias = full[:-1] + key[len(full):] if key.startswith(full) else None
            else:
                alias = None
            if alias and alias not in index:
                aliases[alias] = community_id if aliases.get(alias, community_id) == community_id else None
        return {k: v for k, v in aliases.items() if v is not None}

    def _outside(self, key: str) -> bool:
        head = _HEAD.match(key)
        if not head or not (head["province"] or head["city"]):
            return False
        if head["city"]:
            # A misspelt city (江洲市) still counts as home when its district is one of ours.
            return not (head["city"] in self._home_names or head["county"] in self._home_names)
        return not any(name in key for name in self._home_names)

    def match(self, text: str) -> int | None:
        key = match_key(text)
        if key in self._cache:
            return self._cache[key]
        best_len, best = 0, None
        n = len(key)
        if not self._outside(key):
            for length in self._lengths:
                if length <= best_len or length > n:
                    continue
                for start in range(n - length + 1):
                    hit = self._index.get(key[start:start + length])
                    if hit is not None:
                        best_len, best = length, hit
                        break
                if best is not None:
                    break
        if len(self._cache) < 200_000:
            self._cache[key] = best
        return best


# -- import ------------------------------------------------------------------------------

ADDRESS_COLUMNS = Columns(
    aliases={
        "标准地址": ("地址", "地址名称", "标准地址名称", "详细地址"),
        "地址类型": ("类型", "类别"),
        "所属村社区": ("村社区", "社区", "村/社区", "社区/村", "所属社区", "所属村", "所属村居", "村居"),
        "村社区编码": ("社区编码", "村编码", "所属社区编码"),
    },
    required=("标准地址",),
)


def _address_handler(session: Session, scope: Scope):
    visible = (select(Area.id, Area.name, Area.label, Area.code).where(Area.id.in_(scope.community_ids()))
               .order_by(Area.code))
    by_code: dict[str, int] = {}
    by_name: dict[str, list[int]] = {}  # as registered (金鸡村) and as shown where it repeats (河口镇·金鸡村)
    labels: dict[int, str] = {}
    for area_id, name, label, code in session.execute(visible):
        by_code[code.upper()] = area_id
        by_name.setdefault(name, []).append(area_id)
        if label != name:
            by_name.setdefault(label, []).append(area_id)
        labels[area_id] = label
    in_scope = set(by_code.values())
    existing = dict(session.execute(
        select(StandardAddress.normalized, StandardAddress.community_id)).all())

    def handle(row: dict[str, object]) -> str:
        text = clean(row.get("标准地址"))
        if not text:
            raise RowRejected("标准地址", "标准地址 为空")
        try:
            text = check_plain(text)
        except ValueError as exc:
            raise RowRejected("标准地址", f"标准地址 {exc}") from exc
        if len(text) > 200:
            raise RowRejected("标准地址", "标准地址 超过200字")
        code = clean(row.get("村社区编码")).upper()
        name = clean(row.get("所属村社区"))
        if code:
            community_id = by_code.get(code)
            if community_id is None:
                raise RowRejected("村社区编码", f"村社区编码 {code} 不存在或不在您的管辖范围内")
        elif name:
            ids = by_name.get(name, [])
            if not ids:
                raise RowRejected("所属村社区", f"村/社区“{name}”不存在或不在您的管辖范围内")
            if len(ids) > 1:
                shared = "、".join(labels[i] for i in ids[:5]) + (f"等{len(ids)}处" if len(ids) > 5 else "")
                raise RowRejected("所属村社区", f"村/社区“{name}”有重名（{shared}），请填写村社区编码或带上级的名称")
            community_id = ids[0]
        else:
            raise RowRejected("所属村社区", "所属村社区 和 村社区编码 都为空")
        kind_text = clean(row.get("地址类型"))
        if kind_text:
            kind = _KIND_WORDS.get(kind_text)
            if kind is None:
                raise RowRejected("地址类型", f"地址类型“{kind_text}”应为 小区、村、路段、门牌 之一")
        else:
            kind = guess_kind(text)
        key = normalize(text)
        if key in existing:
            if existing[key] == community_id:
                return "duplicate"
            if existing[key] not in in_scope:
                raise RowRejected("标准地址", f"标准地址“{text}”已登记在您管辖范围以外的村/社区，不能改挂")
            row_obj = session.scalar(select(StandardAddress).where(StandardAddress.normalized == key))
            row_obj.community_id = community_id
            row_obj.kind = kind
            existing[key] = community_id
            return "updated"
        session.add(StandardAddress(community_id=community_id, kind=kind, text=text, normalized=key))
        existing[key] = community_id
        return "created"

    return handle


register(Importer(kind="address", label="标准地址", columns=ADDRESS_COLUMNS, make_handler=_address_handler,
                  template_example=[["城关镇幸福小区", "小区", "幸福社区", ""],
                                    ["人民路88号", "门牌", "", "C0101"]]))
