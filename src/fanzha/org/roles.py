"""Roles and what each may do: the one table that answers who-may-do-what.

A role also says where in the two hierarchies its holder sits; scoping to that node and
everything below it is done by fanzha.org.scope, never here.
"""

from __future__ import annotations

from enum import StrEnum

from fanzha.org.enums import Level


class Role(StrEnum):
    CENTRE_ADMIN = "centre_admin"
    CENTRE_ANALYST = "centre_analyst"
    JOINT_OFFICE = "joint_office"
    STATION_HEAD = "station_head"
    STATION_OFFICER = "station_officer"
    DISSUADER = "dissuader"
    COMMUNITY_POLICE = "community_police"
    GRID_WORKER = "grid_worker"
    UNIT_LIAISON = "unit_liaison"
    AUDITOR = "auditor"


# Where each role lands after logging in (without a page of its own to return to): the work of the day.
HOMES: dict[str, str] = {
    Role.DISSUADER: "/tasks",  # 我的任务
    Role.STATION_HEAD: "/warnings",  # the station's board (scoped to the station)
    Role.STATION_OFFICER: "/warnings",
    Role.CENTRE_ANALYST: "/warnings",  # the centre's board
    Role.CENTRE_ADMIN: "/warnings",
}


def home_of(role: str) -> str:
    return HOMES.get(role, "/")


ROLE_LABELS = {
    Role.CENTRE_ADMIN: "反诈中心管理员",
    Role.CENTRE_ANALYST: "反诈中心研判调度",
    Role.JOINT_OFFICE: "联席办",
    Role.STATION_HEAD: "派出所所长",
    Role.STATION_OFFICER: "派出所民警",
    Role.DISSUADER: "专职劝阻员",
    Role.COMMUNITY_POLICE: "社区民警",
    Role.GRID_WORKER: "网格员",
    Role.UNIT_LIAISON: "成员单位联络员",
    Role.AUDITOR: "审计员（只读）",
}


class Perm(StrEnum):
    MANAGE_USERS = "manage_users"
    MANAGE_AREAS = "manage_areas"
    MANAGE_UNITS = "manage_units"
    MANAGE_ADDRESSES = "manage_addresses"
    READ_AUDIT = "read_audit"
    READ_PEOPLE = "read_people"
    WRITE_PEOPLE = "write_people"
    PII_FULL = "pii_full"  # may reveal full ID numbers and phones (each reveal is audited)
    READ_ORG = "read_org"
    READ_WARNINGS = "read_warnings"
    INTAKE_WARNINGS = "intake_warnings"  # import and create warnings, place the unplaced (待分配)
    CLAIM_WARNINGS = "claim_warnings"
    MANAGE_ROSTER = "manage_roster"  # the station's duty roster (值班表)
    READ_CASES = "read_cases"
    WRITE_CASES = "write_cases"  # 立案 entry and import
    READ_PREVENTION = "read_prevention"  # 宣防: campaigns, activities, coverage, 无诈社区 of one's areas
    RECORD_ACTIVITIES = "record_activities"  # record 宣传活动 (form, phone, spreadsheet)
    MANAGE_CAMPAIGNS = "manage_campaigns"  # campaigns, quotas, plan import, coverage targets, 无诈社区 recompute
    SUPERVISE = "supervise"  # 督导/约谈 of lagging areas
    MANAGE_QUIZZES = "manage_quizzes"  # assign knowledge tests, read everyone's scores
    REVIEW_REPORTS = "review_reports"  # 举报 review queue, the blocklist (黑名单) and its bundles
    MANAGE_REGISTRY = "manage_registry"  # 易受骗群体库: import member units' lists, target lists, push exports
    ALLOCATE_DUTIES = "allocate_duties"  # 三包: run the allocation and reassign an item
    READ_ASSESSMENT = "read_assessment"  # 考核 results of one's node, every unit and township
    READ_OWN_ASSESSMENT = "read_own_assessment"  # a member unit's own 考核 scores only
    RUN_ASSESSMENT = "run_assessment"  # score a scheme, enter manual items with evidence, lock, correct
    ISSUE_LETTERS = "issue_letters"  # 三告: draft, review and issue 函告 / 通告 / 报告 (numbered, registered)
    ISSUE_DOCUMENTS = "issue_documents"  # 通报 and other numbered documents: issue (takes a number), see the register
    EXPORT_PERSONAL = "export_personal"  # download files that hold names, ID numbers or phones (audited: fields, rows)


_READ = {Perm.READ_ORG, Perm.READ_PEOPLE, Perm.READ_PREVENTION}
_STATION = _READ | {Perm.READ_WARNINGS, Perm.CLAIM_WARNINGS, Perm.PII_FULL, Perm.READ_CASES, Perm.RECORD_ACTIVITIES}
_PLAN = {Perm.MANAGE_CAMPAIGNS, Perm.SUPERVISE, Perm.RECORD_ACTIVITIES}
PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.CENTRE_ADMIN: frozenset(Perm),
    Role.CENTRE_ANALYST: frozenset(_READ | {Perm.WRITE_PEOPLE, Perm.PII_FULL, Perm.READ_WARNINGS,
                                            Perm.INTAKE_WARNINGS, Perm.MANAGE_ADDRESSES, Perm.READ_CASES,
                                            Perm.WRITE_CASES, Perm.MANAGE_QUIZZES, Perm.REVIEW_REPORTS,
                                            Perm.MANAGE_REGISTRY, Perm.ALLOCATE_DUTIES, Perm.READ_ASSESSMENT,
                                            Perm.ISSUE_DOCUMENTS, Perm.EXPORT_PERSONAL} | _PLAN),
    Role.JOINT_OFFICE: frozenset(_READ | {Perm.MANAGE_UNITS, Perm.MANAGE_QUIZZES, Perm.READ_ASSESSMENT,
                                          Perm.RUN_ASSESSMENT, Perm.ISSUE_LETTERS} | _PLAN),
    Role.STATION_HEAD: frozenset(_STATION | {Perm.WRITE_PEOPLE, Perm.MANAGE_ADDRESSES, Perm.MANAGE_ROSTER,
                                             Perm.WRITE_CASES, Perm.MANAGE_REGISTRY, Perm.EXPORT_PERSONAL} | _PLAN),
    Role.STATION_OFFICER: frozenset(_STATION | {Perm.WRITE_PEOPLE, Perm.WRITE_CASES}),
    Role.DISSUADER: frozenset(_STATION),  # must call the person: needs the number
    Role.COMMUNITY_POLICE: frozenset(_STATION | {Perm.WRITE_PEOPLE}),
    Role.GRID_WORKER: frozenset(_READ | {Perm.RECORD_ACTIVITIES}),
    Role.UNIT_LIAISON: frozenset({Perm.READ_ORG, Perm.READ_PREVENTION, Perm.RECORD_ACTIVITIES, Perm.READ_OWN_ASSESSMENT}),
    Role.AUDITOR: frozenset({Perm.READ_ORG, Perm.READ_PEOPLE, Perm.READ_AUDIT, Perm.READ_WARNINGS, Perm.READ_CASES,
                             Perm.READ_PREVENTION, Perm.READ_ASSESSMENT}),
}

# Roles that act for the whole city when placed on the top node of either chain (市局, or 市 for the 联席办 and the
# auditor): they reach every community of both chains. A member-unit liaison placed on the city node does not: it
# acts for its unit only (fanzha.org.scope.Scope.unit_only).
CITY_WIDE_ROLES = frozenset({Role.CENTRE_ADMIN, Role.CENTRE_ANALYST, Role.JOINT_OFFICE, Role.AUDITOR})

# Levels a holder of each role may be placed at.
ROLE_LEVELS: dict[Role, tuple[Level, ...]] = {
    Role.CENTRE_ADMIN: (Level.BUREAU, Level.BRANCH),
    Role.CENTRE_ANALYST: (Level.BUREAU, Level.BRANCH),
    Role.JOINT_OFFICE: (Level.CITY, Level.COUNTY),
    Role.STATION_HEAD: (Level.STATION,),
    Role.STATION_OFFICER: (Level.STATION,),
    Role.DISSUADER: (Level.STATION,),
    Role.COMMUNITY_POLICE: (Level.BEAT, Level.STATION),
    Role.GRID_WORKER: (Level.COMMUNITY, Level.TOWNSHIP),
    Role.UNIT_LIAISON: (Level.CITY, Level.COUNTY, Level.TOWNSHIP),
    Role.AUDITOR: (Level.BUREAU, Level.BRANCH, Level.CITY, Level.COUNTY),
}

def has_perm(role: str, perm: Perm) -> bool:
    return perm in PERMISSIONS.get(Role(role), frozenset())
