"""The home page: what each role is there to do, its area at a glance, and its way in."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.addresses.models import StandardAddress
from fanzha.auth import users
from fanzha.db import utcnow
from fanzha.org import service as org
from fanzha.org.enums import Level
from fanzha.org.models import Area, User
from fanzha.org.roles import Perm, Role
from fanzha.org.scope import Scope
from fanzha.people.models import Person
from fanzha.trail.models import AuditEntry
from fanzha.web.deps import Db, current_scope
from fanzha.web.render import render
from fanzha.worker.models import WorkerBeat

router = APIRouter()

ROLE_HOME: dict[Role, dict] = {
    Role.CENTRE_ADMIN: {
        "title": "反诈中心工作台",
        "duties": ["维护两条辖区链、成员单位和标准地址", "管理用户、角色与账号安全", "掌握全市（县）人员底数与系统运行状态"],
        "shortcuts": [("预警总览", "/warnings"), ("用户管理", "/admin/users"), ("辖区", "/org/areas"),
                      ("标准地址导入", "/addresses"),
                      ("审计日志", "/admin/audit")],
    },
    Role.CENTRE_ANALYST: {
        "title": "研判调度工作台",
        "duties": ["研判预警与案件，按辖区分流到派出所", "掌握各派出所、乡镇的人口与户数底数", "核查重点人员信息"],
        "shortcuts": [("预警总览", "/warnings"), ("导入预警", "/warnings/import"), ("待分配", "/warnings/unplaced"),
                      ("人员查询", "/people")],
    },
    Role.JOINT_OFFICE: {
        "title": "联席办工作台",
        "duties": ["组织成员单位落实反诈宣防责任", "按百分制考核成员单位和乡镇（街道）", "发出函告、通告与年度报告"],
        "shortcuts": [("成员单位", "/org/units"), ("辖区", "/org/areas")],
    },
    Role.STATION_HEAD: {
        "title": "派出所所长工作台",
        "duties": ["督办本所预警签收与见面劝阻，超时预警升级到您这里", "掌握本所各警务区、村/社区的人口底数", "维护本所辖区标准地址"],
        "shortcuts": [("本所预警", "/warnings"), ("值班表", "/warnings/roster"), ("本所人员", "/people"),
                      ("标准地址", "/addresses")],
    },
    Role.STATION_OFFICER: {
        "title": "派出所民警工作台",
        "duties": ["签收并处置本所预警指令", "登记劝阻与回访情况", "核实辖区人员信息"],
        "shortcuts": [("本所预警", "/warnings"), ("本所人员", "/people"), ("本所辖区", "/org/areas")],
    },
    Role.DISSUADER: {
        "title": "专职劝阻员工作台",
        "duties": ["抢在资金转出前联系预警对象：电话、短信、见面", "见面劝阻留存照片、位置和签字告知书", "按时反馈劝阻结果"],
        "shortcuts": [("我的预警", "/warnings?mine=true"), ("本所预警", "/warnings"), ("查找人员", "/people")],
    },
    Role.COMMUNITY_POLICE: {
        "title": "社区民警工作台",
        "duties": ["负责警务区内的上门劝阻与回访", "组织社区宣防活动", "维护辖区人员信息"],
        "shortcuts": [("辖区人员", "/people"), ("警务区", "/org/areas")],
    },
    Role.GRID_WORKER: {
        "title": "网格员工作台",
        "duties": ["协助民警入户宣传、扫楼", "摸排易受骗群体", "推广国家反诈中心APP注册"],
        "shortcuts": [("记录宣传活动", "/prevention/activities/new"), ("活动台账", "/prevention/activities"),
                      ("网格人员", "/people"), ("本村/社区", "/org/areas")],
    },
    Role.UNIT_LIAISON: {
        "title": "成员单位工作台",
        "duties": ["落实本单位对所管人群的宣防责任", "查看本单位考核情况与函告", "组织本单位职工反诈宣传"],
        "shortcuts": [("本单位工作", "/unit-work"), ("记录宣传活动", "/prevention/activities/new"),
                      ("本单位活动", "/prevention/activities"),
                      ("本单位考核", "/assess"), ("函告与通告", "/assess/letters"), ("本单位", "/org/units")],
    },
    Role.AUDITOR: {
        "title": "审计工作台",
        "duties": ["检查个人信息的查看与修改记录", "核查登录失败与账号锁定", "只读，不能修改任何数据"],
        "shortcuts": [("审计日志", "/admin/audit"), ("人员", "/people")],
    },
}


@router.get("/")
def home(request: Request, db: Db, scope: Scope = Depends(current_scope)):
    role = Role(scope.role)
    area = db.get(Area, scope.area_id)
    stats = org.leaf_counts(db, scope)
    people = db.scalar(select(func.count()).select_from(Person).where(scope.community_clause(Person.community_id)))
    addresses = db.scalar(select(func.count()).select_from(StandardAddress)
                          .where(scope.community_clause(StandardAddress.community_id)))
    children = []
    if scope.can(Perm.READ_ORG) and area.level != Level.COMMUNITY:
        children = org.list_areas(db, scope, parent_id=area.id, limit=50)
    beat = db.scalar(select(func.max(WorkerBeat.beat_at)))
    worker_ok = bool(beat and beat > utcnow() - timedelta(minutes=3))
    extra = {}
    if scope.can(Perm.MANAGE_USERS):
        extra["users"] = len(users.list_users(db, scope, limit=100_000))
    if scope.can(Perm.READ_AUDIT):
        since = utcnow() - timedelta(days=1)
        extra["failed_logins"] = db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "login_failed", AuditEntry.at >= since))
        extra["pii_views"] = db.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(["view", "reveal"]), AuditEntry.at >= since))
    unit = None
    if scope.unit_id:
        unit = org.get_unit(db, scope, scope.unit_id)
    users_here = db.scalar(select(func.count()).select_from(User).where(User.area_id == area.id))
    warnings = _warning_summary(db, scope) if scope.can(Perm.READ_WARNINGS) else None
    return render(request, "home.html", home=ROLE_HOME[role], role=role, area=area, stats=stats, people=people,
                  addresses=addresses, children=children, worker_ok=worker_ok, worker_beat=beat, extra=extra,
                  unit=unit, users_here=users_here, warnings=warnings)


def _warning_summary(db: Session, scope: Scope) -> dict:
    """What is open now: mine, and in the user's area by status and grade, with what is past its feedback time."""
    from fanzha.warnings.models import Warning
    from fanzha.warnings.service import visible

    now = utcnow()
    base = select(func.count()).select_from(Warning).where(visible(scope))
    since = now - timedelta(days=1)
    return {
        "mine": db.scalar(base.where(Warning.assignee_id == scope.user_id)),
        "unplaced": db.scalar(base.where(Warning.status == "unplaced")),
        "waiting": db.scalar(base.where(Warning.status == "dispatched")),
        "today": db.scalar(base.where(Warning.warned_at >= since)),
        "high_today": db.scalar(base.where(Warning.warned_at >= since, Warning.risk_grade == "high")),
        "overdue": db.scalar(base.where(Warning.feedback_deadline < now, Warning.feedback_deadline >= since)),
    }
