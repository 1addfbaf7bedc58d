"""Thresholds for key communities and key groups (重点村社区、重点人群), from key_default.toml or FANZHA_CASE_STATS_RULES."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from fanzha.common.errors import Invalid
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


def load_rules(path: Path | None = None) -> KeyRules:
    path = path or get_settings().case_stats_rules or DEFAULT_RULES
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise Invalid(f"案件研判阈值文件无法读取：{exc}") from exc
    unknown = set(data) - {"key_communities", "key_groups"}
    c, g = data.get("key_communities", {}), data.get("key_groups", {})
    unknown |= set(c) - {"min_rate", "min_cases", "min_rise_pct", "rise_min_cases", "scale_to_period", "limit"}
    unknown |= set(g) - {"dims", "min_cases", "min_share_pct", "min_rise_pct", "scale_to_period"}
    if unknown:
        raise Invalid(f"案件研判阈值文件中有未知的键：{sorted(unknown)}")
    dims = tuple(g.get("dims", KeyRules.group_dims))
    if set(dims) - set(GROUP_DIMS):
        raise Invalid(f"key_groups.dims 只能是 {list(GROUP_DIMS)}")
    d = KeyRules()
    return KeyRules(min_rate=float(c.get("min_rate", d.min_rate)), min_cases=float(c.get("min_cases", d.min_cases)),
                    min_rise_pct=float(c.get("min_rise_pct", d.min_rise_pct)),
                    rise_min_cases=float(c.get("rise_min_cases", d.rise_min_cases)),
                    community_scale=bool(c.get("scale_to_period", True)), limit=int(c.get("limit", d.limit)),
                    group_dims=dims, group_min_cases=float(g.get("min_cases", d.group_min_cases)),
                    group_min_share_pct=float(g.get("min_share_pct", d.group_min_share_pct)),
                    group_min_rise_pct=float(g.get("min_rise_pct", d.group_min_rise_pct)),
                    group_scale=bool(g.get("scale_to_period", True)))
