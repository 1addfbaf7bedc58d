"""Assessment schemes (考核方案) as data: sections and items with maximum points, each item manual or one named formula.

A scheme is a TOML file (the shipped ones are in `assess/schemes/`; a centre adds its own under
`FANZHA_ASSESS_SCHEME_DIR`). There is no expression language: an item is either scored by a person with evidence
(`manual`) or is one of the fixed formula kinds in `FORMULA_KINDS`, with parameters checked here when the file loads.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from fanzha.common.rules import RulesModel, error_text, load_rules_file, register

SHIPPED_DIR = Path(__file__).with_name("schemes")

# Who an item scores: member units (成员单位) and townships/办事处 (乡镇、街道) are ranked in separate peer pools.
POOLS = {"unit": "成员单位", "township": "乡镇/办事处"}

Rounding = Literal["ceil", "floor", "exact"]


class ManualParams(RulesModel):
    evidence_required: bool = Field(True, description="A score without a file or a note (佐证) is refused.")


class CaseChangeParams(RulesModel):
    """滨州: 同比平稳 45; the largest fall in each pool 50; a rise of 1 percentage point costs 1 point; ≥ 20 % scores 0."""

    stable_points: Decimal = Field(Decimal(45), description="Points for a steady year (同比平稳).")
    stable_band_pct: Decimal = Field(Decimal(0), description="A change within ± this many percent counts as 平稳.")
    rise_cutoff_pct: Decimal = Field(Decimal(20), description="A rise of this many percent or more scores 0 "
                                                             "(20%（含）以上的不得分).")
    points_per_pct: Decimal = Field(Decimal(1), description="Points lost per percentage point of rise.")
    # "不足1个百分点的按1个百分点计" is the usual wording of such schemes: ceil; floor and exact are the alternatives.
    rise_rounding: Rounding = Field("ceil", description="A rise's part of a percentage point: ceil (不足1个百分点的按1个"
                                                        "百分点计), floor or exact.")
    fall_rule: Literal["linear", "top_only"] = Field(
        "linear", description="Falls between 0 and the pool's largest: linear from stable_points to the maximum, or "
                              "top_only (only the largest fall gets the maximum, every other fall stable_points).")
    zero_base: Literal["cutoff", "per_case"] = Field(
        "cutoff", description="Last year 0 cases and this year n > 0: cutoff scores 0, per_case loses per_case_points "
                              "per case from stable_points (this year 0 is 平稳).")
    per_case_points: Decimal = Field(Decimal(5), description="Points lost per case with zero_base = per_case.")
    decimals: int = Field(1, ge=0, le=2, description="Decimal places of the points.")


class CountTargetParams(RulesModel):
    """Points in proportion to a count against a target, capped at the maximum."""

    metric: Literal["activities", "card_activities", "people_reached", "app_registrations"] = Field(
        description="What is counted: activities (宣传活动), card_activities (断卡宣传), people_reached (覆盖人数), "
                    "app_registrations (APP注册).")
    target: int = Field(gt=0, description="The count that earns the maximum (目标数).")
    decimals: int = Field(1, ge=0, le=2, description="Decimal places of the points.")


class ConditionParams(RulesModel):
    """All or nothing on a yes/no fact from the data."""

    condition: Literal["card_propaganda_done", "no_card_problem", "no_cases"] = Field(
        description="The fact: card_propaganda_done (开展两卡宣传), no_card_problem (无两卡突出问题), no_cases (无发案).")
    threshold: int = Field(0, ge=0, description="no_card_problem: at most this many 断卡 leads in the area count as "
                                                "none.")


class CampaignCompletionParams(RulesModel):
    """Points in proportion to the share of a campaign's quotas the assessee's area reached."""

    campaign_kind: str = Field("", description="Only campaigns (专项行动) of this kind; empty = every campaign of the "
                                               "period.")
    decimals: int = Field(1, ge=0, le=2, description="Decimal places of the points.")


class RankParams(RulesModel):
    """江油: townships ranked by cases (or losses), the fewest first: rank 1 the maximum, the last min_points."""

    metric: Literal["cases", "loss"] = Field(description="Ranked by cases (发案数) or loss (损失金额), the fewest first.")
    min_points: Decimal = Field(Decimal(0), description="Points of the last place.")
    decimals: int = Field(1, ge=0, le=2, description="Decimal places of the points.")


FORMULA_KINDS: dict[str, tuple[str, type[RulesModel]]] = {
    "manual": ("人工评分（需佐证）", ManualParams),
    "case_change": ("发案同比", CaseChangeParams),
    "count_target": ("数量对照目标", CountTargetParams),
    "condition": ("是否条件", ConditionParams),
    "campaign_completion": ("专项行动完成率", CampaignCompletionParams),
    "rank": ("排名赋分", RankParams),
}


class Item(RulesModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="The item's key (lower case, digits, _), "
                                                                   "unique in the scheme.")
    name: str = Field(min_length=1, max_length=100, description="The item's name (评分项).")
    short: str = Field("", max_length=8, description="Column heading in the standings table; the name when empty.")
    max: Decimal = Field(gt=0, description="The item's maximum points (满分).")
    kind: str = Field(description="How it is scored (评分方式): " + ", ".join(FORMULA_KINDS) + ".")
    pools: tuple[str, ...] = Field(("unit", "township"), description="Whom it scores: unit (成员单位), township "
                                                                      "(乡镇/办事处).")
    guidance: str = Field("", description="What the scorer looks for (manual items).")
    params: dict[str, Any] = Field(default_factory=dict, description="The kind's parameters (参数), in the tables "
                                                                     "`params` of each kind below.")

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
        try:
            FORMULA_KINDS[self.kind][1].model_validate(self.params)
        except ValidationError as exc:
            raise ValueError("；".join(error_text({**e, "loc": ("params", *e["loc"])}) for e in exc.errors())) from None
        return self

    @property
    def parsed(self) -> RulesModel:
        return FORMULA_KINDS[self.kind][1].model_validate(self.params)


class Section(RulesModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="The section's key, lower case.")
    name: str = Field(description="The section's name (考核部分).")
    max: Decimal = Field(gt=0, description="The section's maximum points; its items add up to it in every pool.")
    items: tuple[Item, ...] = Field(description="The items ([[sections.items]]).")

    def items_for(self, pool: str) -> tuple[Item, ...]:
        return tuple(i for i in self.items if pool in i.pools)


class CaseRule(RulesModel):
    """Which cases count against whom (DESIGN.md: the victim's employer unit, or a unit's duty over the victim's group)."""

    unit: Literal["employer", "employer_or_duty"] = Field(
        default="employer_or_duty", description="A unit answers for its own staff's cases (employer), or also for those of "
                                        "the groups it has a duty over (employer_or_duty).")
    date: Literal["filed_at", "loss_at"] = Field(default="filed_at", description="Cases count in the period by "
                                                                                 "filing time (立案时间) or loss time "
                                                                                 "(被骗时间).")


class Scheme(RulesModel):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description="The scheme's key; a centre's file with a "
                                                                   "shipped key replaces that scheme.")
    # {place} keeps a shipped scheme from showing the name of the place whose article it was taken from.
    name: str = Field(description="The scheme as the deployment calls it (考核方案); {place} is the area assessed.")
    model: str = Field("", description="The place whose published practice the scheme follows, shown as such.")
    period: Literal["year", "quarter", "month"] = Field(description="The assessment period: year, quarter or month.")
    total: Decimal = Field(description="The total points; the sections add up to it.")
    pools: tuple[str, ...] = Field(description="The peer pools ranked: unit (成员单位), township (乡镇/办事处).")
    source: str = Field("", description="Where the scheme comes from (article, document number).")
    case_rule: CaseRule = Field(CaseRule(), description="Which cases count against whom (发案计入).")
    sections: tuple[Section, ...] = Field(description="The sections ([[sections]]).")

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


FILE = register("assess_scheme", "考核方案", Scheme, *sorted(SHIPPED_DIR.glob("*.toml")),
                setting="FANZHA_ASSESS_SCHEME_DIR",
                summary="An assessment scheme (考核方案), one file each: the shipped 滨州 and 江油 ones, and a centre's "
                        "own in FANZHA_ASSESS_SCHEME_DIR.",
                parts=tuple((f"params of kind = \"{kind}\"", model) for kind, (_, model) in FORMULA_KINDS.items()))


def load(path: Path) -> Scheme:
    return load_rules_file(Scheme, path, what=FILE.title)


def available(extra_dir: Path | None = None) -> dict[str, Scheme]:
    """Shipped schemes, then the centre's own (which may replace a shipped one by using its key)."""
    found: dict[str, Scheme] = {}
    for folder in [SHIPPED_DIR] + ([extra_dir] if extra_dir else []):
        for path in sorted(folder.glob("*.toml")):
            scheme = load(path)
            found[scheme.key] = scheme
    return found
