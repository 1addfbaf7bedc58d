"""知识测试 pages and the public self-test (/selftest)."""

from __future__ import annotations

import random

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse

from fanzha.common.errors import DomainError
from fanzha.common.localtime import local_day
from fanzha.db import utcnow
from fanzha.org.roles import ROLE_LABELS, Perm
from fanzha.org.scope import Scope
from fanzha.prevention.quiz import service as quiz
from fanzha.prevention.views import _date
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdPath
from fanzha.web.render import render

router = APIRouter()
SELF_TEST_SIZE = 8


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
