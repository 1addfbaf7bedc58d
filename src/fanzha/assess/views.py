"""考核 pages: the runs, one run's standings per peer pool, one assessee's items with the figures behind them,
manual scoring with evidence, lock and corrections."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from fanzha.assess import service
from fanzha.assess.models import AssessmentScore
from fanzha.assess.scheme import FORMULA_KINDS, POOLS, Scheme
from fanzha.cases.models import Case
from fanzha.common.errors import DomainError, Invalid, NotFound
from fanzha.common.photos import check_evidence, serve_stored, store_photo
from fanzha.detect.taxonomy import FRAUD_TYPE_NAMES
from fanzha.org.enums import Chain, Level
from fanzha.org.models import Area
from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.org.tree import top_area
from fanzha.web.deps import Db, csrf_protect, current_scope, require
from fanzha.web.params import IdPath
from fanzha.web.render import env, render

router = APIRouter()
env.filters["points"] = lambda d: "—" if d is None else f"{Decimal(d).normalize():f}"
MAX_EVIDENCE = 10 * 1024 * 1024


def _roots(db: Session, scope: Scope) -> list[Area]:
    """Nodes an assessment can cover: the city and county nodes the user may run for."""
    stmt = select(Area).where(Area.chain == Chain.ADMIN, Area.level.in_([Level.CITY, Level.COUNTY])).order_by(Area.path)
    return [a for a in db.scalars(stmt) if service._may_run_at(scope, a)]


def _index(request: Request, db: Session, scope: Scope, *, error: str = "", form: dict[str, Any] | None = None,
           status_code: int = 200) -> Response:
    top = top_area(db)
    return render(request, "assess/index.html", status_code=status_code, runs=service.list_runs(db, scope),
                  schemes=service.schemes(), roots=_roots(db, scope) if scope.can(Perm.RUN_ASSESSMENT) else [],
                  error=error, form=form or {}, place=top.label if top else "")


@router.get("/assess")
def index(request: Request, db: Db, scope: Scope = Depends(current_scope)) -> Response:
    return _index(request, db, scope)


@router.post("/assess/runs", dependencies=[Depends(csrf_protect)])
def create(request: Request, db: Db, scheme_key: str = Form("", max_length=32), period: str = Form("", max_length=16),
           area_id: int = Form(0, ge=0, le=2**31), scope: Scope = Depends(require(Perm.RUN_ASSESSMENT))) -> Response:
    try:
        existing = service.find_run(db, scope, scheme_key=scheme_key, period=period, area_id=area_id)
        if existing is not None:  # the same scheme, period and area again: open it rather than refuse
            return RedirectResponse(f"/assess/runs/{existing.id}", status_code=303)
        run = service.create_run(db, scope, scheme_key=scheme_key, period=period, area_id=area_id)
    except DomainError as exc:
        db.rollback()
        return _index(request, db, scope, error=exc.message, status_code=exc.status_code,
                      form={"scheme_key": scheme_key, "period": period, "area_id": area_id})
    return RedirectResponse(f"/assess/runs/{run.id}", status_code=303)


DONE = {"locked": "已锁定（定稿）", "scored": "已重新计算数据项"}


def _run_page(request: Request, db: Session, scope: Scope, run_id: int, *, error: str = "", status_code: int = 200,
              ask: str = "", done: str = "") -> Response:
    run = service.get_run(db, scope, run_id)
    scheme = Scheme.model_validate(run.scheme)
    standings = service.standings(db, scope, run.id)
    confirm = None
    if ask == "lock" and scope.can(Perm.RUN_ASSESSMENT) and run.status != "locked":
        # What locking does to this run: how many are scored, and what still stops it.
        confirm = {"assessees": {POOLS[p]: len(t) for p, t in standings.items()},
                   "pending": sum(1 for sc in run.scores if sc.points is None)}
    return render(request, "assess/run.html", status_code=status_code, run=run, scheme=scheme,
                  standings=standings, corrections=service.corrections(db, scope, run.id),
                  POOLS=POOLS, error=error, confirm=confirm, done=DONE.get(done, ""))


@router.get("/assess/runs/{run_id}")
def run_page(run_id: IdPath, request: Request, db: Db, ask: str = Query("", pattern="^(|lock)$"),
             done: str = Query("", max_length=8), scope: Scope = Depends(current_scope)) -> Response:
    return _run_page(request, db, scope, run_id, ask=ask, done=done)


@router.post("/assess/runs/{run_id}/score", dependencies=[Depends(csrf_protect)])
def rescore(run_id: IdPath, request: Request, db: Db,
            scope: Scope = Depends(require(Perm.RUN_ASSESSMENT))) -> Response:
    return _run_action(service.score, request, db, scope, run_id)


@router.post("/assess/runs/{run_id}/lock", dependencies=[Depends(csrf_protect)])
def lock(run_id: IdPath, request: Request, db: Db, confirm: str = Form("", max_length=5),
         scope: Scope = Depends(require(Perm.RUN_ASSESSMENT))) -> Response:
    """锁定（定稿）, once confirmed; without `confirm` the page shows what locking will do instead."""
    if confirm != "true":
        return _run_page(request, db, scope, run_id, ask="lock")
    return _run_action(service.lock, request, db, scope, run_id, done="locked")


def _run_action(action: Callable[[Session, Scope, int], object], request: Request, db: Session, scope: Scope,
                run_id: int, *, done: str = "scored") -> Response:
    """Score or lock a run, then back to its page saying what was done; a refusal is shown with its reason."""
    try:
        action(db, scope, run_id)
    except DomainError as exc:
        db.rollback()
        return _run_page(request, db, scope, run_id, error=exc.message, status_code=exc.status_code)
    return RedirectResponse(f"/assess/runs/{run_id}?done={done}", status_code=303)


def _assessee_page(request: Request, db: Session, scope: Scope, run_id: int, pool: str, assessee_id: int, *,
                   error: str = "", status_code: int = 200) -> Response:
    if pool not in POOLS:
        raise NotFound("没有这一类考核对象")
    run = service.get_run(db, scope, run_id)
    scheme = Scheme.model_validate(run.scheme)
    table = service.standings(db, scope, run.id).get(pool, [])
    standing = next((s for s in table if s.assessee_id == assessee_id), None)
    if standing is None:
        raise NotFound("考核对象不存在或不在您的查看范围内")
    case_ids = [i for s in standing.items for i in s.figures.get("case_ids", [])]
    cases = list(db.execute(select(Case.id, Case.case_number, Case.filed_at, Case.fraud_type, Case.loss_amount, Area.label)
                            .outerjoin(Area, Case.community_id == Area.id).where(Case.id.in_(case_ids))
                            .order_by(Case.filed_at)).all()) if case_ids else []
    return render(request, "assess/assessee.html", status_code=status_code, run=run, scheme=scheme, pool=pool,
                  standing=standing, cases=cases, POOLS=POOLS, FORMULA_KINDS=FORMULA_KINDS,
                  FRAUD_TYPE_NAMES=FRAUD_TYPE_NAMES, error=error)


@router.get("/assess/runs/{run_id}/{pool}/{assessee_id}")
def assessee(run_id: IdPath, pool: str, assessee_id: IdPath, request: Request,
             db: Db, scope: Scope = Depends(current_scope)) -> Response:
    return _assessee_page(request, db, scope, run_id, pool, assessee_id)


def _points(text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        raise Invalid("分数应为数字，如 8 或 7.5", details=[{"loc": ["points"], "msg": "不是数字"}]) from None
    if not value.is_finite():
        raise Invalid("分数应为数字", details=[{"loc": ["points"], "msg": "不是数字"}])
    return value


@router.post("/assess/runs/{run_id}/{pool}/{assessee_id}/manual", dependencies=[Depends(csrf_protect)])
async def manual(run_id: IdPath, pool: str, assessee_id: IdPath, request: Request,
                 db: Db, item_key: str = Form("", max_length=40), points: str = Form("", max_length=12),
                 note: str = Form("", max_length=2000), evidence: UploadFile | None = File(None),
                 scope: Scope = Depends(require(Perm.RUN_ASSESSMENT))) -> Response:
    try:
        stored = ""
        if evidence is not None and evidence.filename:
            data = await evidence.read(MAX_EVIDENCE + 1)
            suffix = check_evidence(data, evidence.filename)
            stored = store_photo("assess", run_id, data, session=db, suffix=suffix)
        service.set_manual(db, scope, run_id, pool=pool, assessee_id=assessee_id, item_key=item_key,
                           points=_points(points), note=note, evidence_file=stored)
    except (DomainError, KeyError) as exc:
        db.rollback()
        message = exc.message if isinstance(exc, DomainError) else "没有这一评分项"
        return _assessee_page(request, db, scope, run_id, pool, assessee_id, error=message, status_code=422)
    return RedirectResponse(f"/assess/runs/{run_id}/{pool}/{assessee_id}", status_code=303)


@router.post("/assess/runs/{run_id}/{pool}/{assessee_id}/correct", dependencies=[Depends(csrf_protect)])
def correct(run_id: IdPath, pool: str, assessee_id: IdPath, request: Request,
            db: Db, item_key: str = Form("", max_length=40), points: str = Form("", max_length=12),
            reason: str = Form("", max_length=2000), scope: Scope = Depends(require(Perm.RUN_ASSESSMENT))) -> Response:
    try:
        service.correct(db, scope, run_id, pool=pool, assessee_id=assessee_id, item_key=item_key,
                        points=_points(points), reason=reason)
    except DomainError as exc:
        db.rollback()
        return _assessee_page(request, db, scope, run_id, pool, assessee_id, error=exc.message,
                              status_code=exc.status_code)
    return RedirectResponse(f"/assess/runs/{run_id}/{pool}/{assessee_id}", status_code=303)


@router.get("/assess/evidence/{score_id}")
def evidence_file(score_id: IdPath, db: Db,
                  scope: Scope = Depends(current_scope)) -> Response:
    row = db.get(AssessmentScore, score_id)
    if row is None or not row.evidence_file:
        raise NotFound("没有佐证文件")
    service.get_run(db, scope, row.run_id)
    unit = service._unit_only(scope)
    if unit is not None and (row.pool != "unit" or row.assessee_id != unit):
        raise NotFound("没有佐证文件")
    return serve_stored(row.evidence_file, filename=f"佐证{row.id}{row.evidence_file[row.evidence_file.rfind('.'):]}")

