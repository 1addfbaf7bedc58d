"""宣防 pages beyond campaigns: coverage against dated targets, 无诈社区, knowledge tests and the public self-test."""

from __future__ import annotations

import random
from decimal import Decimal, InvalidOperation

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from fanzha.common.errors import DomainError, Invalid
from fanzha.common.localtime import local_day
from fanzha.db import utcnow
from fanzha.org.models import Area
from fanzha.org.roles import ROLE_LABELS, Perm
from fanzha.org.scope import Scope
from fanzha.prevention import coverage as cov
from fanzha.prevention import fraudfree, quiz
from fanzha.prevention.views import _date
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.forms import form_fields
from fanzha.web.params import IdPath, IdQuery
from fanzha.web.render import render

router = APIRouter()
SELF_TEST_SIZE = 8


# -- coverage -----------------------------------------------------------------------------------------------------

def _targets_page(request: Request, db: Session, scope: Scope, *, error: str = "", form: dict | None = None,
                  status_code: int = 200):
    own = db.get(Area, scope.area_id) if scope.area_id else None
    return render(request, "prevention/targets.html", status_code=status_code, targets=cov.list_targets(db, scope),
                  error=error, form=form or {}, own=own, today=local_day(utcnow()))


@router.get("/prevention/coverage")
def targets(request: Request, db: Db,
            scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _targets_page(request, db, scope)


@router.post("/prevention/coverage", dependencies=[Depends(csrf_protect)])
async def create_target(request: Request, db: Db,
                        scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    form = await request.form()
    raw = form_fields(form, ("label", "metric", "denominator", "target_pct", "due_on",
                            "counts_from"), 100)
    try:
        try:
            pct = Decimal(raw["target_pct"].strip().rstrip("%") or "x")
        except InvalidOperation as exc:
            raise Invalid("目标比例应为数字，如 80", details=[{"loc": ["target_pct"], "msg": "数字"}]) from exc
        t = cov.create_target(db, scope, area_id=scope.area_id, metric=raw["metric"], denominator=raw["denominator"],
                              target_pct=pct, due_on=_date(raw["due_on"], "due_on", "截止日期"),
                              counts_from=_date(raw["counts_from"], "counts_from", "起算日期", required=False),
                              label=raw["label"])
    except DomainError as exc:
        db.rollback()
        return _targets_page(request, db, scope, error=exc.message, form=raw, status_code=exc.status_code)
    return RedirectResponse(f"/prevention/coverage/{t.id}", status_code=303)


@router.get("/prevention/coverage/{target_id}")
def target(target_id: IdPath, request: Request, db: Db, area_id: IdQuery = None, chain: str = Query("", max_length=8),
           scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    c = cov.coverage(db, scope, target_id, now=utcnow(), node_id=area_id, chain=chain or None)
    return render(request, "prevention/coverage.html", c=c, t=c.target)


# -- 无诈社区 -------------------------------------------------------------------------------------------------------

@router.get("/prevention/fraud-free")
def fraud_free(request: Request, db: Db,
               scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    rows = fraudfree.statuses(db, scope)
    return render(request, "prevention/fraud_free.html", rows=rows, history=fraudfree.history(db, scope),
                  rules=fraudfree.load_rules(), good=sum(r.fraud_free for r in rows))


@router.post("/prevention/fraud-free/recompute", dependencies=[Depends(csrf_protect)])
def fraud_free_recompute(db: Db,
                         scope: Scope = Depends(require(Perm.MANAGE_CAMPAIGNS))):
    fraudfree.recompute_as(db, scope, now=utcnow())
    return RedirectResponse("/prevention/fraud-free", status_code=303)


# -- knowledge tests -----------------------------------------------------------------------------------------------

@router.get("/prevention/quizzes")
def quizzes(request: Request, db: Db,
            scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    rows = quiz.list_quizzes(db, scope)
    done = {q.id: quiz.attempt_of(db, q.id, scope.user_id) for q in rows}
    return render(request, "prevention/quizzes.html", rows=rows, done=done, error="", today=local_day(utcnow()),
                  roles=[(r.value, ROLE_LABELS[r]) for r in quiz.TEST_ROLES])


@router.post("/prevention/quizzes", dependencies=[Depends(csrf_protect)])
async def create_quiz(request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.MANAGE_QUIZZES))):
    form = await request.form()
    try:
        q = quiz.create_quiz(db, scope, title=str(form.get("title", ""))[:100],
                             roles=[str(r)[:32] for r in form.getlist("roles")][:10],
                             fraud_types=[str(t)[:32] for t in form.getlist("fraud_types")][:20],
                             opens_on=_date(form.get("opens_on"), "opens_on", "开始日期"),
                             closes_on=_date(form.get("closes_on"), "closes_on", "截止日期"))
    except DomainError as exc:
        db.rollback()
        rows = quiz.list_quizzes(db, scope)
        return render(request, "prevention/quizzes.html", status_code=exc.status_code, rows=rows, done={},
                      error=exc.message, today=local_day(utcnow()),
                      roles=[(r.value, ROLE_LABELS[r]) for r in quiz.TEST_ROLES])
    return RedirectResponse(f"/prevention/quizzes/{q.id}", status_code=303)


@router.get("/prevention/quizzes/{quiz_id}")
def take_quiz(quiz_id: IdPath, request: Request, db: Db,
              scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    q = quiz.get_quiz(db, scope, quiz_id)
    mine = quiz.attempt_of(db, q.id, scope.user_id)
    attempts, units = quiz.scores(db, scope, q.id) if scope.can(Perm.MANAGE_QUIZZES) else ([], [])
    return render(request, "prevention/quiz.html", q=q, questions=quiz.questions_of(q), mine=mine, attempts=attempts,
                  units=units, today=local_day(utcnow()), error="")


@router.post("/prevention/quizzes/{quiz_id}", dependencies=[Depends(csrf_protect)])
async def submit_quiz(quiz_id: IdPath, request: Request, db: Db,
                      scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    form = await request.form()
    q = quiz.get_quiz(db, scope, quiz_id)
    answers = {}
    for question in quiz.questions_of(q):
        value = str(form.get(f"q_{question.code}", ""))
        if value.isascii() and value.isdigit() and len(value) < 3:
            answers[question.code] = int(value)
    try:
        quiz.submit(db, scope, q.id, answers)
    except DomainError as exc:
        db.rollback()
        return render(request, "prevention/quiz.html", status_code=exc.status_code, q=q,
                      questions=quiz.questions_of(q), mine=None, attempts=[], units=[], today=local_day(utcnow()),
                      error=exc.message)
    return RedirectResponse(f"/prevention/quizzes/{q.id}", status_code=303)


# -- the public self-test (no login) ---------------------------------------------------------------------------------

@router.get("/selftest")
def self_test(request: Request, check: str = Query("", max_length=1), picked: str = Query("", max_length=200)):
    """反诈知识自测: anyone, no login, nothing stored. Answers come back in the query string and are explained."""
    bank = quiz.public_bank()  # never a staff test's questions: their answers would be given away here
    codes = [c for c in picked.split(",") if c in bank][:SELF_TEST_SIZE] if picked else []
    if not codes:
        codes = random.sample(sorted(bank), k=min(SELF_TEST_SIZE, len(bank)))
    questions = [bank[c] for c in codes]
    answers = {}
    if check:
        for q in questions:
            value = request.query_params.get(f"q_{q.code}", "")
            if value.isascii() and value.isdigit() and len(value) < 3:
                answers[q.code] = int(value)
    return render(request, "prevention/selftest.html", questions=questions, answers=answers, checked=bool(check),
                  picked=",".join(codes), score=quiz.grade(questions, answers))
