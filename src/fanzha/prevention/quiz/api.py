"""JSON twins of the knowledge-test pages (知识测试, prevention/quiz/service.py): the tests assigned to the caller, one test's
questions (the right answers only once the caller has submitted), assigning a test, submitting answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from fanzha.common.localtime import local_day
from fanzha.common.text import PlainText
from fanzha.db import utcnow
from fanzha.org.roles import Perm
from fanzha.org.schemas import Strict
from fanzha.org.scope import Scope
from fanzha.prevention.models import Quiz, QuizAttempt
from fanzha.prevention.quiz import service as quiz
from fanzha.web.deps import Db, csrf_protect, require
from fanzha.web.params import IdPath

router = APIRouter(prefix="/prevention", tags=["宣防"], dependencies=[Depends(csrf_protect)])
Choice = Annotated[str, StringConstraints(max_length=32, pattern=r"^[a-z_]+$")]
QuestionCode = Annotated[str, StringConstraints(max_length=32, pattern=r"^[A-Za-z0-9_\-]+$")]
OptionIndex = Annotated[int, Field(ge=0, le=99)]


class QuizIn(Strict):
    title: PlainText = Field(max_length=100, description="测试名称")
    roles: list[Choice] = Field(max_length=10, description="参加的角色：station_officer dissuader community_police "
                                                            "grid_worker station_head")
    fraud_types: list[Choice] = Field(default_factory=list, max_length=20, description="只出这些诈骗类型的题；空：全部")
    opens_on: date = Field(description="开始日期")
    closes_on: date = Field(description="截止日期（含当天）")


class AnswersIn(Strict):
    answers: dict[QuestionCode, OptionIndex] = Field(max_length=200, description="题目编号 → 所选选项的序号（从0起）；"
                                                                         "未答的题不填")


class AttemptOut(BaseModel):
    score: int
    total: int
    submitted_at: datetime


class QuizOut(BaseModel):
    id: int
    title: str
    area_id: int
    roles: list[str]
    opens_on: date
    closes_on: date
    questions: int
    open_now: bool = Field(description="今天在开放时间内")
    mine: AttemptOut | None = Field(description="本人的成绩；未提交为 null")


class QuestionOut(BaseModel):
    code: str
    fraud_type: str
    stem: str
    options: list[str]
    answer: int | None = Field(description="正确选项的序号：本人提交后才给出")
    chosen: int | None = Field(description="本人所选（提交后）")
    explain: str | None = Field(description="解析：本人提交后才给出")


class UnitScoreOut(BaseModel):
    area_id: int
    area: str
    people: int
    mean_pct: float


class PersonScoreOut(BaseModel):
    user_id: int
    name: str
    area: str
    score: int
    total: int
    submitted_at: datetime


class QuizDetailOut(QuizOut):
    items: list[QuestionOut]
    units: list[UnitScoreOut] = Field(description="按单位的平均得分率（只给有权布置测试的人）")
    attempts: list[PersonScoreOut] = Field(description="按人员的成绩（只给有权布置测试的人）")


def _attempt(a: QuizAttempt | None) -> AttemptOut | None:
    return AttemptOut(score=a.score, total=a.total, submitted_at=a.submitted_at) if a is not None else None


def _quiz(q: Quiz, mine: QuizAttempt | None) -> QuizOut:
    return QuizOut(id=q.id, title=q.title, area_id=q.area_id, roles=list(q.roles), opens_on=q.opens_on,
                   closes_on=q.closes_on, questions=len(quiz.questions_of(q)),
                   open_now=q.opens_on <= local_day(utcnow()) <= q.closes_on, mine=_attempt(mine))


def _detail(db: Session, scope: Scope, q: Quiz) -> QuizDetailOut:
    mine = quiz.attempt_of(db, q.id, scope.user_id)
    items = [QuestionOut(code=item.code, fraud_type=item.fraud_type, stem=item.stem, options=list(item.options),
                         answer=item.answer if mine else None, chosen=mine.answers.get(item.code) if mine else None,
                         explain=item.explain if mine else None)
             for item in quiz.questions_of(q)]
    attempts, units = quiz.scores(db, scope, q.id) if scope.can(Perm.MANAGE_QUIZZES) else ([], [])
    return QuizDetailOut(**_quiz(q, mine).model_dump(), items=items,
                         units=[UnitScoreOut(area_id=u.area.id, area=u.area.label, people=u.people,
                                             mean_pct=round(u.mean_pct, 1)) for u in units],
                         attempts=[PersonScoreOut(user_id=a.user_id, name=a.user.display_name, area=a.user.area.label,
                                                  score=a.score, total=a.total, submitted_at=a.submitted_at)
                                   for a in attempts])


@router.get("/quizzes", response_model=list[QuizOut], summary="知识测试（分配给本人的；有权布置的另见本级及下级布置的）")
def quizzes(db: Db, scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return [_quiz(q, quiz.attempt_of(db, q.id, scope.user_id)) for q in quiz.list_quizzes(db, scope)]


@router.post("/quizzes", response_model=QuizDetailOut, status_code=201, summary="布置知识测试（从题库抽题）")
def create_quiz(body: QuizIn, db: Db,
                scope: Scope = Depends(require(Perm.MANAGE_QUIZZES))):
    q = quiz.create_quiz(db, scope, title=body.title, roles=body.roles, fraud_types=body.fraud_types,
                         opens_on=body.opens_on, closes_on=body.closes_on)
    return _detail(db, scope, q)


@router.get("/quizzes/{quiz_id}", response_model=QuizDetailOut, summary="一次测试：题目与选项（提交后才给出答案与解析）")
def get_quiz(quiz_id: IdPath, db: Db,
             scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    return _detail(db, scope, quiz.get_quiz(db, scope, quiz_id))


@router.post("/quizzes/{quiz_id}", response_model=QuizDetailOut, summary="提交答案（每人一次，提交即评分）")
def submit_quiz(quiz_id: IdPath, body: AnswersIn, db: Db,
                scope: Scope = Depends(require(Perm.READ_PREVENTION))):
    q = quiz.get_quiz(db, scope, quiz_id)
    quiz.submit(db, scope, q.id, body.answers)
    return _detail(db, scope, q)
