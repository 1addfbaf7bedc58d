"""Assessment runs: score a scheme over a period, enter manual items with evidence, lock, correct, rank.

Who may do what: the 联席办 and the centre admin run assessments (Perm.RUN_ASSESSMENT) for their node; readers
(Perm.READ_ASSESSMENT) see the runs of their node; a member-unit liaison sees only their own unit's scores.
Every change is audited; after a run is locked a score changes only through a correction with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.assess import figures as fig
from fanzha.assess import formulas
from fanzha.assess.models import AssessmentCorrection, AssessmentRun, AssessmentScore
from fanzha.assess.scheme import (
    POOLS,
    CampaignCompletionParams,
    CaseChangeParams,
    ConditionParams,
    CountTargetParams,
    Item,
    ManualParams,
    RankParams,
    Scheme,
    available,
)
from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Forbidden, Invalid, NotFound
from fanzha.common.periods import Period
from fanzha.config import get_settings
from fanzha.db import utcnow
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area, Unit
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope


def parse_label(period: str) -> str:
    return fig.parse_period(period).spec


def schemes() -> dict[str, Scheme]:
    extra = get_settings().assess_scheme_dir
    return available(extra or None)


def _scheme(run: AssessmentRun) -> Scheme:
    return Scheme.model_validate(run.scheme)


def _may_run_at(scope: Scope, area: Area) -> bool:
    return scope.is_system or scope.is_centre or (scope.chain == Chain.ADMIN and area.path.startswith(scope.path))


def _unit_only(scope: Scope) -> int | None:
    """A liaison sees their own unit only."""
    return None if scope.can(Perm.READ_ASSESSMENT) else scope.unit_id


def _readable(session: Session, scope: Scope, run: AssessmentRun) -> bool:
    if scope.can(Perm.READ_ASSESSMENT):
        return _may_run_at(scope, run.area) or run.area.path.startswith(scope.path) or scope.path.startswith(run.area.path)
    if not (scope.can(Perm.READ_OWN_ASSESSMENT) and scope.unit_id is not None):
        return False
    unit = session.get(Unit, scope.unit_id)  # a liaison reads the runs that assess their unit
    return unit is not None and unit.area.path.startswith(run.area.path)


def get_run(session: Session, scope: Scope, run_id: int) -> AssessmentRun:
    run = session.get(AssessmentRun, run_id)
    if run is None or not _readable(session, scope, run):
        raise NotFound("考核不存在或不在您的管辖范围内")
    return run


def list_runs(session: Session, scope: Scope) -> list[AssessmentRun]:
    if not (scope.can(Perm.READ_ASSESSMENT) or scope.can(Perm.READ_OWN_ASSESSMENT)):
        raise Forbidden("您的角色没有此项权限")
    runs = session.scalars(select(AssessmentRun).order_by(AssessmentRun.period.desc(), AssessmentRun.id.desc()))
    return [r for r in runs if _readable(session, scope, r)]


def find_run(session: Session, scope: Scope, *, scheme_key: str, period: str, area_id: int) -> AssessmentRun | None:
    run = session.scalar(select(AssessmentRun).where(AssessmentRun.scheme_key == scheme_key,
                                                     AssessmentRun.period == parse_label(period),
                                                     AssessmentRun.area_id == area_id))
    return run if run is not None and _readable(session, scope, run) else None


def create_run(session: Session, scope: Scope, *, scheme_key: str, period: str, area_id: int) -> AssessmentRun:
    scope.require(Perm.RUN_ASSESSMENT)
    scheme = schemes().get(scheme_key)
    if scheme is None:
        raise Invalid(f"没有考核方案 {scheme_key}")
    p = fig.parse_period(period)
    if p.kind != scheme.period:
        raise Invalid(f"{scheme.title()} 按{ {'year': '年', 'quarter': '季度', 'month': '月'}[scheme.period] }考核，"
                      f"考核期应写作 { {'year': '2026', 'quarter': '2026-Q3', 'month': '2026-10'}[scheme.period] }")
    area = session.get(Area, area_id)
    if area is None or area.chain != Chain.ADMIN or area.level not in (Level.CITY, Level.COUNTY) \
            or not _may_run_at(scope, area):
        raise Invalid("考核范围应为您管辖的行政区划（市、区县）")
    if session.scalar(select(AssessmentRun.id).where(AssessmentRun.scheme_key == scheme_key,
                                                     AssessmentRun.period == p.spec, AssessmentRun.area_id == area_id)):
        raise Conflict(f"{p.spec} 的{scheme.title(area.label)}已存在")
    run = AssessmentRun(scheme_key=scheme_key, scheme=scheme.model_dump(mode="json"), period=p.spec,
                        starts_on=p.start, ends_on=p.end, area_id=area_id, created_by=scope.user_id)
    session.add(run)
    session.flush()
    audit.record(session, scope, "create", "assessment", run.id, detail={"scheme": scheme_key, "period": p.spec})
    score(session, scope, run.id)
    return run


def _last_year_missing(session: Session, root: Area, last: Period, date_column: str) -> bool:
    """Not one case in the whole jurisdiction in last year's period: its cases were never imported, so the change
    year on year cannot be scored (rather than counting a year of nothing as 0 cases for everyone)."""
    return fig.count_cases(session, root, last, date_column) == 0


def score(session: Session, scope: Scope, run_id: int) -> AssessmentRun:
    """(Re)compute every formula item of a draft run; manual scores already entered are kept."""
    scope.require(Perm.RUN_ASSESSMENT)
    run = get_run(session, scope, run_id)
    if run.status == "locked":
        raise Conflict("考核已锁定，只能逐项更正")
    scheme = _scheme(run)
    period = fig.parse_period(run.period)
    last = period.year_ago()
    people = fig.assessees(session, run.area, scheme.pools)
    rule = dict(unit_rule=scheme.case_rule.unit, date_column=scheme.case_rule.date)
    now_f = fig.gather(session, run.area, people, period, **rule)
    last_f = None if _last_year_missing(session, run.area, last, scheme.case_rule.date) else fig.gather(session, run.area, people, last, **rule)
    existing = {(s.pool, s.assessee_id, s.item_key): s for s in run.scores}
    for pool in scheme.pools:
        members = [a for a in people if a.pool == pool]
        for item in (i for s in scheme.sections for i in s.items_for(pool)):
            results = _formula(item, members, now_f, last_f)
            for a in members:
                row = existing.get((pool, a.id, item.key))
                if row is None:
                    row = AssessmentScore(pool=pool, assessee_id=a.id, item_key=item.key, max_points=item.max)
                    run.scores.append(row)
                row.max_points = item.max
                if item.kind == "manual":
                    if row.scored_at is None:
                        row.points, row.basis = None, "待人工评分"
                    continue
                got = results[a.id]
                row.points, row.basis, row.figures = got.points, got.basis, _jsonable(got.figures)
                row.scored_at = utcnow()
    run.scored_at = utcnow()
    session.flush()
    audit.record(session, scope, "score", "assessment", run.id)
    return run


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, (Decimal, Fraction)) else v) for k, v in d.items()}


def _formula(item: Item, members: list[fig.Assessee], now_f: dict[tuple[str, int], fig.Figures],
             last_f: dict[tuple[str, int], fig.Figures] | None) -> dict[int, formulas.Points]:
    """Each member's points for one formula item (none for a manual item); the parameters' class is the item's kind."""
    p = item.parsed
    out: dict[int, formulas.Points] = {}
    if isinstance(p, CaseChangeParams):
        pairs = {a.id: (now_f[(a.pool, a.id)].cases, last_f[(a.pool, a.id)].cases if last_f else None) for a in members}
        top = formulas.largest_fall(list(pairs.values()), p)
        for a in members:
            got = formulas.case_change(*pairs[a.id], top, p, item.max)
            got.figures["case_ids"] = now_f[(a.pool, a.id)].case_ids
            out[a.id] = got
        return out
    if isinstance(p, RankParams):
        values: dict[int, Decimal | int | None] = {
            a.id: (now_f[(a.pool, a.id)].cases if p.metric == "cases" else now_f[(a.pool, a.id)].loss) for a in members}
        return formulas.rank(values, p, item.max)
    for a in members:
        f = now_f[(a.pool, a.id)]
        if isinstance(p, CountTargetParams):
            out[a.id] = formulas.count_target(getattr(f, p.metric), p, item.max)
        elif isinstance(p, ConditionParams):
            value = {"card_propaganda_done": f.card_activities > 0, "no_card_problem": f.card_leads <= p.threshold,
                     "no_cases": f.cases == 0}[p.condition]
            out[a.id] = formulas.condition(value, p, item.max, figures={
                "card_activities": f.card_activities, "card_leads": f.card_leads, "cases": f.cases})
        elif isinstance(p, CampaignCompletionParams):
            out[a.id] = formulas.campaign_completion(f.campaign_done, f.campaign_target, p, item.max)
    return out


def _score_row(session: Session, run: AssessmentRun, pool: str, assessee_id: int, item_key: str) -> AssessmentScore:
    row = session.scalar(select(AssessmentScore).where(AssessmentScore.run_id == run.id, AssessmentScore.pool == pool,
                                                       AssessmentScore.assessee_id == assessee_id,
                                                       AssessmentScore.item_key == item_key))
    if row is None:
        raise NotFound("没有这一评分项")
    return row


def _check_points(points: Decimal | None, row: AssessmentScore) -> None:
    if points is not None and not (0 <= points <= row.max_points):
        raise Invalid(f"分数应在 0 到 {row.max_points.normalize():f} 之间", details=[{"loc": ["points"], "msg": "超出范围"}])


def set_manual(session: Session, scope: Scope, run_id: int, *, pool: str, assessee_id: int, item_key: str,
               points: Decimal, note: str = "", evidence_file: str = "") -> AssessmentScore:
    """A person's score for a manual item, with the evidence (a note or a file) and the scorer recorded."""
    scope.require(Perm.RUN_ASSESSMENT)
    run = get_run(session, scope, run_id)
    if run.status == "locked":
        raise Conflict("考核已锁定，只能逐项更正")
    item = _scheme(run).item(item_key)
    if item.kind != "manual":
        raise Invalid(f"{item.name} 由数据计算，不能人工评分")
    row = _score_row(session, run, pool, assessee_id, item_key)
    _check_points(points, row)
    params = item.parsed
    if isinstance(params, ManualParams) and params.evidence_required and not (note.strip() or evidence_file):
        raise Invalid("人工评分须附佐证：上传文件或填写说明", details=[{"loc": ["note"], "msg": "缺少佐证"}])
    old = row.points
    row.points, row.evidence_note, row.scored_by, row.scored_at = points, note.strip()[:2000], scope.user_id, utcnow()
    if evidence_file:
        row.evidence_file = evidence_file
    row.basis = f"人工评分：{note.strip()[:60]}" if note.strip() else "人工评分（见附件）"
    audit.record(session, scope, "score", "assessment_score", row.id,
                 detail={"item": item_key, "old": str(old) if old is not None else None, "new": str(points)})
    return row


def lock(session: Session, scope: Scope, run_id: int) -> AssessmentRun:
    scope.require(Perm.RUN_ASSESSMENT)
    run = get_run(session, scope, run_id)
    if run.status == "locked":
        raise Conflict("考核已锁定")
    pending = [s for s in run.scores if s.points is None]
    if pending:
        raise Invalid(f"还有 {len(pending)} 项未评分（人工项或缺少数据），不能锁定")
    run.status, run.locked_by, run.locked_at = "locked", scope.user_id, utcnow()
    audit.record(session, scope, "lock", "assessment", run.id)
    return run


def correct(session: Session, scope: Scope, run_id: int, *, pool: str, assessee_id: int, item_key: str,
            points: Decimal, reason: str) -> AssessmentCorrection:
    """After locking: change one score, keeping the old value, the reason and who (更正记录)."""
    scope.require(Perm.RUN_ASSESSMENT)
    run = get_run(session, scope, run_id)
    if run.status != "locked":
        raise Invalid("考核尚未锁定：直接修改或重新计算即可")
    if not reason.strip():
        raise Invalid("更正须写明理由", details=[{"loc": ["reason"], "msg": "缺少理由"}])
    row = _score_row(session, run, pool, assessee_id, item_key)
    _check_points(points, row)
    c = AssessmentCorrection(score_id=row.id, old_points=row.points, new_points=points, reason=reason.strip()[:2000],
                             corrected_by=scope.user_id)
    row.points, row.basis = points, f"{row.basis}（已更正：{reason.strip()[:40]}）"
    session.add(c)
    session.flush()
    audit.record(session, scope, "correct", "assessment_score", row.id,
                 detail={"old": str(c.old_points), "new": str(points), "reason": c.reason})
    return c


@dataclass
class Standing:
    pool: str
    assessee_id: int
    name: str
    total: Decimal
    complete: bool
    place: int = 0
    previous_total: Decimal | None = None
    items: list[AssessmentScore] = field(default_factory=list)

    @property
    def change(self) -> Decimal | None:
        return None if self.previous_total is None else self.total - self.previous_total


def _names(session: Session, pool: str, ids: set[int]) -> dict[int, str]:
    model, shown = (Unit, Unit.name) if pool == "unit" else (Area, Area.label)
    return dict(session.execute(select(model.id, shown).where(model.id.in_(ids))).all()) if ids else {}


def standings(session: Session, scope: Scope, run_id: int) -> dict[str, list[Standing]]:
    """Totals and places per pool (highest first; equal totals share a place), with the change against the same
    scheme's run for the previous period when there is one."""
    run = get_run(session, scope, run_id)
    only_unit = _unit_only(scope)
    scheme = _scheme(run)
    order = {i.key: n for n, (_, i) in enumerate(scheme.items())}
    prev = _previous(session, run)
    out: dict[str, list[Standing]] = {}
    for pool in scheme.pools:
        rows = [s for s in run.scores if s.pool == pool]
        by: dict[int, list[AssessmentScore]] = {}
        for s in rows:
            by.setdefault(s.assessee_id, []).append(s)
        names = _names(session, pool, set(by))
        table = []
        for aid, items in by.items():
            items.sort(key=lambda s: order.get(s.item_key, 99))
            total = sum((s.points or Decimal(0) for s in items), Decimal(0))
            table.append(Standing(pool, aid, names.get(aid, "?"), total, all(s.points is not None for s in items),
                                  items=items))
        table.sort(key=lambda st: (-st.total, st.name))
        for n, st in enumerate(table):
            st.place = table[n - 1].place if n and table[n - 1].total == st.total else n + 1
            if prev:
                st.previous_total = prev.get((pool, st.assessee_id))
        if only_unit is not None:
            table = [st for st in table if pool == "unit" and st.assessee_id == only_unit]
        out[pool] = table
    audit.record(session, scope, "view", "assessment", run.id)
    return out


def _previous(session: Session, run: AssessmentRun) -> dict[tuple[str, int], Decimal] | None:
    label = fig.parse_period(run.period).previous().spec
    prev = session.scalar(select(AssessmentRun).where(AssessmentRun.scheme_key == run.scheme_key,
                                                      AssessmentRun.area_id == run.area_id,
                                                      AssessmentRun.period == label))
    if prev is None:
        return None
    totals: dict[tuple[str, int], Decimal] = {}
    for s in prev.scores:
        totals[(s.pool, s.assessee_id)] = totals.get((s.pool, s.assessee_id), Decimal(0)) + (s.points or 0)
    return totals


def corrections(session: Session, scope: Scope, run_id: int) -> list[AssessmentCorrection]:
    run = get_run(session, scope, run_id)
    only_unit = _unit_only(scope)
    rows = session.scalars(select(AssessmentCorrection).join(AssessmentScore)
                           .where(AssessmentScore.run_id == run.id).order_by(AssessmentCorrection.corrected_at))
    return [c for c in rows if only_unit is None or (c.score.pool == "unit" and c.score.assessee_id == only_unit)]


def as_json(session: Session, scope: Scope, run_id: int) -> list[dict[str, Any]]:
    """`fanzha assess score --json`: [{unit, pool, total, place, items: [{name, points, max, basis}]}]."""
    run = get_run(session, scope, run_id)
    scheme = _scheme(run)
    out = []
    for pool, table in standings(session, scope, run.id).items():
        for s in table:
            out.append({"unit": s.name, "pool": POOLS[pool], "total": float(s.total), "place": s.place,
                        "complete": s.complete,
                        "items": [{"name": scheme.item(i.item_key).name, "points": None if i.points is None
                                   else float(i.points), "max": float(i.max_points), "basis": i.basis}
                                  for i in s.items]})
    return out
