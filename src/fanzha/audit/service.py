"""Searching the audit log, and `record` (defined in `fanzha.trail`, below org) for the domains that record through
here. Writes join the caller's transaction: no change without its entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fanzha.org.roles import Perm
from fanzha.org.scope import Scope
from fanzha.trail import record as record  # re-exported: the domains record through audit.record
from fanzha.trail.models import AuditEntry

ACTION_LABELS = {
    "login": "登录",
    "login_failed": "登录失败",
    "password_failed": "修改密码失败",
    "logout": "退出",
    "locked": "账号锁定",
    "create": "新增",
    "update": "修改",
    "delete": "删除",
    "view": "查看个人信息",
    "reveal": "查看完整号码",
    "lookup": "按完整号码查询",
    "export": "导出",
    "import": "导入",
    "token": "签发接口令牌",
    "score": "考核计分",
    "lock": "考核锁定",
    "correct": "考核更正",
    "withdraw": "撤回",
    "help": "协助首次联系",
}
ENTITY_LABELS = {
    "person": "人员",
    "user": "用户",
    "area": "辖区",
    "unit": "成员单位",
    "address": "标准地址",
    "import_errors": "导入错误行",
    "warning": "预警",
    "duty_shift": "值班",
    "contact": "劝阻记录",
    "evidence": "见面证据照片",
    "payment_request": "止付冻结申请",
    "follow_up": "回访",
    "warning_transfer": "移交审核",
    "family_contact": "家属联系人",
    "case": "案件",
    "case_action": "查询/止付/冻结/断卡/封号",
    "case_gaps": "宣防漏洞",
    "case_links": "案件串并",
    "warning_links": "预警串并",
    "link_board": "串并案汇总",
    "app_registration": "APP/金钟罩注册名单",
    "feedback": "反馈表",
    "campaign": "专项行动",
    "quota": "任务数",
    "supervision": "督导/约谈",
    "activity": "宣传活动",
    "activity_photo": "活动照片",
    "coverage_target": "覆盖率目标",
    "fraud_free": "无诈社区",
    "quiz": "知识测试",
    "quiz_attempt": "测试答卷",
    "campaign_plan": "任务分解表",
    "report_bundle": "举报包",
    "public_report": "群众举报",
    "report_entity": "举报要素",
    "blocklist": "黑名单",
    "registry_entry": "易受骗群体名单",
    "document": "公文（通报、三告）",
    "registry_unplaced": "待落地人员",
    "target_list": "精准滴灌名单",
    "duty": "三包责任",
    "assessment": "考核",
    "assessment_score": "考核评分项",
}
FIELD_LABELS = {"name": "姓名", "id_number": "身份证号", "phone": "手机号", "note": "备注", "gender": "性别",
                "birth_date": "出生日期", "age_band": "年龄段", "address": "住址", "victim_sex": "受害人性别",
                "victim_age": "受害人年龄", "name:masked": "姓名（脱敏）", "id_number:masked": "身份证号（脱敏）",
                "phone:masked": "手机号（脱敏）"}


def search(session: Session, scope: Scope, *, username: str = "", action: str = "", entity: str = "",
           entity_id: str = "", since: datetime | None = None, until: datetime | None = None,
           limit: int = 100, offset: int = 0) -> tuple[list[AuditEntry], int]:
    scope.require(Perm.READ_AUDIT)
    q = select(AuditEntry)
    if not scope.is_system:
        from fanzha.org.models import Area, User

        under = select(User.id).join(Area, User.area_id == Area.id).where(
            Area.path.startswith(scope.path, autoescape=True))
        # The top of either chain (市局/市) also sees anonymous login failures.
        q = q.where(AuditEntry.user_id.in_(under) | (AuditEntry.user_id.is_(None) if scope.at_root else False))
    if username:
        q = q.where(AuditEntry.username == username)
    if action:
        q = q.where(AuditEntry.action == action)
    if entity:
        q = q.where(AuditEntry.entity == entity)
    if entity_id:
        q = q.where(AuditEntry.entity_id == entity_id)
    if since:
        q = q.where(AuditEntry.at >= since)
    if until:
        q = q.where(AuditEntry.at < until)
    total = session.scalar(select(func.count()).select_from(q.subquery()))
    rows = session.scalars(q.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()
    return list(rows), int(total or 0)
