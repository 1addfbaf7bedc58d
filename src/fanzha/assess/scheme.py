"""Assessment schemes (考核方案) as data: sections and items with maximum points, each item manual or one named formula.

A scheme is a TOML file (the shipped ones are in `assess/schemes/`; a centre adds its own under
`FANZHA_ASSESS_SCHEME_DIR`). There is no expression language: an item is either scored by a person with evidence
(`manual`) or is one of the fixed formula kinds in `FORMULA_KINDS`, with parameters checked here when the file loads.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

SHIPPED_DIR = Path(__file__).with_name("schemes")

# Who an item scores: member units (成员单位) and townships/办事处 (乡镇、街道) are ranked in separate peer pools.
POOLS = {"unit": "成员单位", "township": "乡镇/办事处"}

Rounding = Literal["ceil", "floor", "exact"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ManualParams(_Strict):
    evidence_required: bool = True  # a score without a file or a note is refused


class CaseChangeParams(_Strict):
    """滨州: 同比平稳 45; the largest fall in each pool 50; a rise of 1 percentage point costs 1 point; ≥ 20 % scores 0."""

    stable_points: Decimal = Decimal(45)
    stable_band_pct: Decimal = Decimal(0)  # |r| ≤ band counts as 平稳
    rise_cutoff_pct: Decimal = Decimal(20)  # r ≥ cutoff → 0 points ("20%（含）以上的不得分")
    points_per_pct: Decimal = Decimal(1)
    # "不足1个百分点的按1个百分点计" is the usual wording of such schemes: ceil; floor and exact are the alternatives.
    rise_rounding: Rounding = "ceil"
    # Falls between 0 and the pool's largest: linear from stable_points to the maximum ("linear"), or only the
    # largest fall gets the maximum and every other fall stable_points ("top_only").
    fall_rule: Literal["linear", "top_only"] = "linear"
    # Last year 0 cases: this year 0 is 平稳; this year n > 0 is an unbounded rise and scores 0 ("cutoff"),
    # or loses per_case_points per case from stable_points ("per_case").
    zero_base: Literal["cutoff", "per_case"] = "cutoff"
    per_case_points: Decimal = Decimal(5)
    decimals: int = Field(1, ge=0, le=2)


class CountTargetParams(_Strict):
    """Points in proportion to a count against a target, capped at the maximum."""

    metric: Literal["activities", "card_activities", "people_reached", "app_registrations"]
    target: int = Field(gt=0)
    decimals: int = Field(1, ge=0, le=2)


class ConditionParams(_Strict):
    """All or nothing on a yes/no fact from the data."""

    condition: Literal["card_propaganda_done", "no_card_problem", "no_cases"]
    threshold: int = Field(0, ge=0)  # no_card_problem: at most this many 断卡 leads in the area counts as none


class CampaignCompletionParams(_Strict):
    """Points in proportion to the share of a campaign's quotas the assessee's area reached."""

    campaign_kind: str = ""  # "" = every campaign of the period
    decimals: int = Field(1, ge=0, le=2)


class RankParams(_Strict):
    """江油: townships ranked by cases (or losses), the fewest first: rank 1 the maximum, the last min_points."""

    metric: Literal["cases", "loss"]
    min_points: Decimal = Decimal(0)
    decimals: int = Field(1, ge=0, le=2)


FORMULA_KINDS: dict[str, tuple[str, type[_Strict]]] = {
    "manual": ("人工评分（需佐证）", ManualParams),
    "case_change": ("发案同比", CaseChangeParams),
    "count_target": ("数量对照目标", CountTargetParams),
    "condition": ("是否条件", ConditionParams),
    "campaign_completion": ("专项行动完成率", CampaignCompletionParams),
    "rank": ("排名赋分", RankParams),
}


class Item(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str = Field(min_length=1, max_length=100)
    short: str = Field("", max_length=8)  # column heading in the standings table; the name when empty
    max: Decimal = Field(gt=0)
    kind: str
    pools: tuple[str, ...] = ("unit", "township")
    guidance: str = ""  # what the scorer looks for (manual items)
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        if v not in FORMULA_KINDS:
            raise ValueError(f"未知的评分方式 {v}（可用：{'、'.join(FORMULA_KINDS)}）")
        return v

    @field_validator("pools")
    @classmethod
    def _known_pools(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [p for p in v if p not in POOLS]
        if bad or not v:
            raise ValueError(f"pools 只能是 {'、'.join(POOLS)}")
        return v

    @model_validator(mode="after")
    def _check_params(self) -> Item:
        FORMULA_KINDS[self.kind][1].model_validate(self.params)
        return self

    @property
    def parsed(self) -> _Strict:
        return FORMULA_KINDS[self.kind][1].model_validate(self.params)


class Section(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    name: str
    max: Decimal = Field(gt=0)
    items: tuple[Item, ...]

    def items_for(self, pool: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if pool in i.pools)


class CaseRule(_Strict):
    """Which cases count against whom (DESIGN.md: the victim's employer unit, or a unit's duty over the victim's group)."""

    unit: Literal["employer", "employer_or_duty"] = "employer_or_duty"
    date: Literal["filed_at", "loss_at"] = "filed_at"


class Scheme(_Strict):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    # The scheme as the deployment calls it; {place} is the area assessed (江州市), so a shipped scheme never shows
    # the name of the place whose article it was taken from.
    name: str
    model: str = ""  # the place whose published practice the scheme follows (滨州经济技术开发区), shown as such
    period: Literal["year", "quarter", "month"]
    total: Decimal
    pools: tuple[str, ...]
    source: str = ""  # where the scheme comes from (article, document number)
    case_rule: CaseRule = CaseRule()
    sections: tuple[Section, ...]

    @model_validator(mode="after")
    def _sections_fit(self) -> Scheme:
        total = sum((s.max for s in self.sections), Decimal(0))
        if total != self.total:
            raise ValueError(f"各部分满分之和 {total} 不等于总分 {self.total}")
        # Each pool may have its own items (办事处宣防 vs 各单位宣防), but in every pool a section adds up to its maximum.
        for section in self.sections:
            for pool in self.pools:
                got = sum((i.max for i in section.items_for(pool)), Decimal(0))
                if got != section.max:
                    raise ValueError(f"{POOLS[pool]}：{section.name} 的各项满分之和 {got} 不等于该部分满分 {section.max}")
        keys = [i.key for s in self.sections for i in s.items]
        if len(keys) != len(set(keys)):
            raise ValueError("评分项的 key 重复")
        return self

    def title(self, place: str = "") -> str:
        """江州市反诈工作百分制考核 — the name with the assessed area filled in (left out without one)."""
        return self.name.replace("{place}", place)

    def label(self, place: str = "") -> str:
        """The title with the model it follows: 江州市反诈工作百分制考核（参照滨州经济技术开发区做法）."""
        return self.title(place) + (f"（参照{self.model}做法）" if self.model else "")

    def items(self) -> list[tuple[Section, Item]]:
        return [(s, i) for s in self.sections for i in s.items]

    def item(self, key: str) -> Item:
        for _, i in self.items():
            if i.key == key:
                return i
        raise KeyError(key)


class SchemeError(ValueError):
    pass


def load(path: Path) -> Scheme:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Scheme.model_validate(data)
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise SchemeError(f"考核方案 {path.name} 有误：{exc}") from exc


def available(extra_dir: Path | None = None) -> dict[str, Scheme]:
    """Shipped schemes, then the centre's own (which may replace a shipped one by using its key)."""
    found: dict[str, Scheme] = {}
    for folder in [SHIPPED_DIR] + ([extra_dir] if extra_dir else []):
        for path in sorted(folder.glob("*.toml")):
            scheme = load(path)
            found[scheme.key] = scheme
    return found
