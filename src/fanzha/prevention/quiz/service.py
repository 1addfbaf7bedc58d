"""Knowledge tests (知识测试): the question bank shipped in the package, tests assigned to roles under a node,
answers graded once, scores by person and by unit; the same grading serves the public self-test."""

from __future__ import annotations

import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from fanzha.audit import service as audit
from fanzha.common.errors import Conflict, Invalid, NotFound
from fanzha.common.localtime import local_day
from fanzha.common.rules import RulesModel, load_rules_file, one_of, register
from fanzha.db import utcnow
from fanzha.detect.taxonomy import FRAUD_TYPE_LABELS
from fanzha.org import tree
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.prevention.models import Quiz, QuizAttempt

BANK = Path(__file__).with_name("question_bank.toml")
TEST_ROLES = (Role.STATION_OFFICER, Role.DISSUADER, Role.COMMUNITY_POLICE, Role.GRID_WORKER, Role.STATION_HEAD)


@dataclass(frozen=True)
class Question:
    code: str
    fraud_type: str
    stem: str
    options: tuple[str, ...]
    answer: int
    explain: str
    public: bool = False  # a question of the public self-test: its answer is shown to anyone


class BankQuestion(RulesModel):
    """One [[question]] of the bank."""

    code: str = Field(min_length=1, description="The question's code (BR01), unique in the bank; answers name it.")
    fraud_type: str = Field(description="The fraud type (诈骗类型) the question is about, by its code.")
    stem: str = Field(min_length=1, description="The question (题干).")
    options: list[str] = Field(min_length=2, description="The options (选项), in the file's order; shown turned by a "
                                                         "fixed amount per question.")
    answer: int = Field(ge=0, description="The 0-based index of the right option in `options`.")
    explain: str = Field(description="The explanation (解析) shown after answering.")
    public: bool = Field(False, description="A question of the public self-test (/selftest), whose answer anyone may "
                                            "see; staff knowledge tests never draw it.")

    _fraud_type = field_validator("fraud_type")(lambda v: one_of(v, FRAUD_TYPE_LABELS))

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> BankQuestion:
        if self.answer >= len(self.options):
            raise ValueError(f"题目 {self.code} 的 answer {self.answer} 超出了选项（从 0 数，共 {len(self.options)} 项）")
        return self


class QuestionBank(RulesModel):
    """question_bank.toml: the 反诈知识题库."""

    question: list[BankQuestion] = Field(description="One [[question]] per item (题目).")


FILE = register("question_bank", "反诈知识题库", QuestionBank, BANK,
                summary="The questions of knowledge tests (知识测试) and of the public self-test.")


@cache
def load_bank(path: Path = BANK) -> dict[str, Question]:
    """The bank, with each question's options turned by a fixed amount so the right one is not always in one place."""
    out = {}
    for q in load_rules_file(QuestionBank, path, what=FILE.title).question:
        turn = zlib.crc32(q.code.encode()) % len(q.options)
        options = tuple(q.options[turn:] + q.options[:turn])
        out[q.code] = Question(q.code, q.fraud_type, q.stem, options, (q.answer - turn) % len(options), q.explain,
                               q.public)
    return out


def staff_bank() -> dict[str, Question]:
    """The questions knowledge tests are drawn from: never those of the public self-test."""
    return {c: q for c, q in load_bank().items() if not q.public}


def public_bank() -> dict[str, Question]:
    """The public self-test's own questions; /selftest accepts no other code."""
    return {c: q for c, q in load_bank().items() if q.public}


def grade(questions: list[Question], answers: dict[str, int]) -> int:
    return sum(1 for q in questions if answers.get(q.code) == q.answer)


def _under(community, node_path) -> ColumnElement[bool]:
    """The community lies under the node with `node_path`, in either chain."""
    return or_(community.path.startswith(node_path), func.coalesce(community.police_path, "").startswith(node_path))


def _all_under(c: type[Area], members: ColumnElement[bool], node_path) -> ColumnElement[bool]:
    """Some community `c` is a member, and every member lies under the node with `node_path`."""
    return and_(exists().where(members), ~exists().where(members, ~_under(c, node_path)))


def quiz_visible(scope: Scope):
    """Which tests a user sees. A test set at a node reaches the people on that node and below it, and, across the
    two chains, people all of whose communities lie under it (a station's test reaches the 网格员 of its villages, a
    township's the 社区民警 whose 警务区 lie in it); a test set at either chain's top reaches the whole city. Managers
    also see the tests set at their node or below."""
    if scope.is_system:
        return Quiz.id.is_not(None)
    node, c = aliased(Area), aliased(Area)
    above = [int(x) for x in scope.path.strip("/").split("/") if x]
    assigned = or_(Quiz.area_id.in_(above),
                   Quiz.area_id.in_(select(Area.id).where(tree.at_top())),
                   Quiz.area_id.in_(select(node.id).where(_all_under(c, c.id.in_(scope.community_ids()), node.path))))
    owner = select(Area.id).where(scope.subtree_clause())
    return or_(Quiz.area_id.in_(owner), assigned) if scope.can(Perm.MANAGE_QUIZZES) else assigned


def list_quizzes(session: Session, scope: Scope) -> list[Quiz]:
    rows = session.scalars(select(Quiz).where(quiz_visible(scope)).order_by(Quiz.opens_on.desc(), Quiz.id.desc()))
    return [q for q in rows if scope.can(Perm.MANAGE_QUIZZES) or scope.role in q.roles]


def get_quiz(session: Session, scope: Scope, quiz_id: int) -> Quiz:
    q = session.scalar(select(Quiz).where(Quiz.id == quiz_id, quiz_visible(scope)))
    if q is None or not (scope.can(Perm.MANAGE_QUIZZES) or scope.role in q.roles):
        raise NotFound("测试不存在或未分配给您")
    return q


def create_quiz(session: Session, scope: Scope, *, title: str, roles: list[str], fraud_types: list[str],
                opens_on: date, closes_on: date) -> Quiz:
    scope.require(Perm.MANAGE_QUIZZES)
    if not title.strip():
        raise Invalid("请填写测试名称", details=[{"loc": ["title"], "msg": "必填"}])
    roles = [r for r in roles if r in {x.value for x in TEST_ROLES}]
    if not roles:
        raise Invalid("请选择参加测试的角色", details=[{"loc": ["roles"], "msg": "必选"}])
    if closes_on < opens_on:
        raise Invalid("截止日期早于开始日期", details=[{"loc": ["closes_on"], "msg": "顺序不对"}])
    bank = staff_bank()
    codes = [c for c, q in bank.items() if not fraud_types or q.fraud_type in fraud_types]
    if not codes:
        raise Invalid("所选诈骗类型没有题目", details=[{"loc": ["fraud_types"], "msg": "无题"}])
    quiz = Quiz(title=title.strip()[:100], area_id=scope.area_id or session.scalar(select(Area.id).order_by(Area.id)),
                roles=roles, questions=codes, opens_on=opens_on, closes_on=closes_on, created_by=scope.user_id)
    session.add(quiz)
    session.flush()
    audit.record(session, scope, "create", "quiz", quiz.id, detail={"roles": roles, "questions": len(codes)})
    return quiz


def questions_of(quiz: Quiz) -> list[Question]:
    bank = load_bank()
    return [bank[c] for c in quiz.questions if c in bank]


def attempt_of(session: Session, quiz_id: int, user_id: int | None) -> QuizAttempt | None:
    return session.scalar(select(QuizAttempt).where(QuizAttempt.quiz_id == quiz_id, QuizAttempt.user_id == user_id))


def submit(session: Session, scope: Scope, quiz_id: int, answers: dict[str, int], *, now: datetime | None = None
           ) -> QuizAttempt:
    now = now or utcnow()
    quiz = get_quiz(session, scope, quiz_id)
    if scope.role not in quiz.roles or scope.user_id is None:
        raise Invalid("此测试未分配给您的角色")
    if not quiz.opens_on <= local_day(now) <= quiz.closes_on:
        raise Conflict("不在测试开放时间内")
    if attempt_of(session, quiz.id, scope.user_id) is not None:
        raise Conflict("您已提交过此测试")
    questions = questions_of(quiz)
    kept = {q.code: answers[q.code] for q in questions if isinstance(answers.get(q.code), int)}
    a = QuizAttempt(quiz_id=quiz.id, user_id=scope.user_id, answers=kept, score=grade(questions, kept),
                    total=len(questions), submitted_at=now)
    session.add(a)
    session.flush()
    audit.record(session, scope, "create", "quiz_attempt", a.id, detail={"quiz": quiz.id, "score": a.score})
    return a


@dataclass
class UnitScore:
    area: Area
    people: int
    mean_pct: float


def scores(session: Session, scope: Scope, quiz_id: int) -> tuple[list[QuizAttempt], list[UnitScore]]:
    """Attempts by people the reader's node reaches (as in quiz_visible), and the mean per unit (the node each person
    sits on)."""
    scope.require(Perm.MANAGE_QUIZZES)
    quiz = get_quiz(session, scope, quiz_id)
    stmt = (select(QuizAttempt).join(User, QuizAttempt.user_id == User.id).join(Area, User.area_id == Area.id)
            .where(QuizAttempt.quiz_id == quiz.id))
    if not scope.at_root:  # the same reach as quiz_visible: own subtree, or all one's communities under the reader
        c = aliased(Area)
        theirs = and_(c.level == Level.COMMUNITY, _under(c, Area.path))
        stmt = stmt.where(or_(scope.subtree_clause(), _all_under(c, theirs, scope.path)))
    rows = list(session.scalars(stmt.options(joinedload(QuizAttempt.user).joinedload(User.area))
                                .order_by(QuizAttempt.score.desc(), QuizAttempt.submitted_at)))
    by_unit: dict[int, list[QuizAttempt]] = defaultdict(list)
    for a in rows:
        by_unit[a.user.area_id].append(a)
    units = [UnitScore(area=v[0].user.area, people=len(v),
                       mean_pct=sum(a.score / a.total for a in v if a.total) * 100 / len(v)) for v in by_unit.values()]
    units.sort(key=lambda u: (-u.mean_pct, u.area.code))
    return rows, units
