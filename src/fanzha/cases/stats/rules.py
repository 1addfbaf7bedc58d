"""Thresholds for key communities and key groups (重点村社区、重点人群), from key_default.toml or FANZHA_CASE_STATS_RULES."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, field_validator

from fanzha.common.rules import RulesModel, all_of, load_rules_file, register
from fanzha.config import get_settings

DEFAULT_RULES = Path(__file__).with_name("key_default.toml")
GROUP_DIMS = ("group", "age", "occupation", "sex")


@dataclass(frozen=True)
class KeyRules:
    min_rate: float = 2.0
    min_cases: float = 3
    min_rise_pct: float = 50.0
    rise_min_cases: float = 2
    community_scale: bool = True
    limit: int = 30
    group_dims: tuple[str, ...] = ("group", "age", "occupation")
    group_min_cases: float = 2
    group_min_share_pct: float = 15.0
    group_min_rise_pct: float = 50.0
    group_scale: bool = True


class KeyCommunities(RulesModel):
    """A community (村/社区) is key when any threshold holds."""

    min_rate: float = Field(KeyRules.min_rate, description="万人发案率 (cases per 10,000 residents) in the period at or "
                                                           "above which a community is key.")
    min_cases: float = Field(KeyRules.min_cases, description="Cases (立案) in the period at or above which a community "
                                                             "is key.")
    min_rise_pct: float = Field(KeyRules.min_rise_pct, description="A rise on the previous period (环比), in percent, "
                                                                   "at or above which a community is key (or new from "
                                                                   "zero) …")
    rise_min_cases: float = Field(KeyRules.rise_min_cases, description="… only when it has at least this many cases "
                                                                       "now.")
    scale_to_period: bool = Field(True, description="Counts and rates are per month (30 days): a period of another "
                                                    "length scales them by its days / 30 (percentages never).")
    limit: int = Field(KeyRules.limit, description="At most this many key communities, most cases first.")


class KeyGroups(RulesModel):
    """A victim group is key with enough cases and a large enough share, or a rise."""

    dims: tuple[str, ...] = Field(KeyRules.group_dims, description="The dimensions whose values are groups: "
                                                                   "group (易受骗群体), age (年龄段), occupation (职业), "
                                                                   "sex (性别).")
    min_cases: float = Field(KeyRules.group_min_cases, description="Cases at or above which a group may be key …")
    min_share_pct: float = Field(KeyRules.group_min_share_pct, description="… with a share of the period's cases, in "
                                                                           "percent, at or above this.")
    min_rise_pct: float = Field(KeyRules.group_min_rise_pct, description="Or its cases rose this many percent on the "
                                                                         "previous period (环比).")
    scale_to_period: bool = Field(True, description="Case counts are per month (30 days): a period of another length "
                                                    "scales them by its days / 30.")

    _dims = field_validator("dims")(lambda v: all_of(v, GROUP_DIMS))


class KeyRulesFile(RulesModel):
    """key_default.toml: the thresholds of 重点村社区 and 重点人群."""

    key_communities: KeyCommunities = Field(KeyCommunities(), description="重点村社区: key communities for next month.")
    key_groups: KeyGroups = Field(KeyGroups(), description="重点人群: key victim groups for next month.")

    def rules(self) -> KeyRules:
        c, g = self.key_communities, self.key_groups
        return KeyRules(min_rate=c.min_rate, min_cases=c.min_cases, min_rise_pct=c.min_rise_pct,
                        rise_min_cases=c.rise_min_cases, community_scale=c.scale_to_period, limit=c.limit,
                        group_dims=g.dims, group_min_cases=g.min_cases, group_min_share_pct=g.min_share_pct,
                        group_min_rise_pct=g.min_rise_pct, group_scale=g.scale_to_period)


FILE = register("case_stats", "案件研判阈值文件", KeyRulesFile, DEFAULT_RULES, setting="FANZHA_CASE_STATS_RULES",
                summary="The thresholds of key communities and key groups (重点村社区、重点人群) in 案件研判.")


def load_rules(path: Path | None = None) -> KeyRules:
    path = path or get_settings().case_stats_rules or DEFAULT_RULES
    return load_rules_file(KeyRulesFile, path, what=FILE.title).rules()
