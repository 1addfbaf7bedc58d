"""Records that belong to one station, one township, one user or one member unit, for the table-driven scoping
tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from fanzha.addresses.models import StandardAddress
from fanzha.assess.models import AssessmentRun, AssessmentScore
from fanzha.blocklist.models import BlocklistEntry, PublicReport, ReportEntity
from fanzha.cases.models import Case, CaseAction
from fanzha.dissuasion.models import Contact, FollowUp
from fanzha.dissuasion.transfers.models import WarningTransfer
from fanzha.org.enums import Level
from fanzha.org.models import Area, Unit, User
from fanzha.people.models import Person
from fanzha.prevention.models import Activity, ActivityPhoto, CampaignArea, CoverageTarget, Quiz, Supervision
from fanzha.registry.models import Duty, RegistryUnplaced, TargetList
from fanzha.reports.models import IssuedDocument
from fanzha.warnings.models import Warning


@dataclass
class Owned:
    """Ids of records under one node, per path parameter name."""

    ids: dict[str, list[int]]


def records_under(session, node: Area) -> Owned:
    """Every kind of record that hangs under `node` (a station or a township) and nowhere else."""
    if node.chain == "police":
        communities = list(session.scalars(select(Area).where(Area.level == Level.COMMUNITY,
                                                              Area.police_path.startswith(node.path))))
        areas = [node.id, *session.scalars(select(Area.id).where(Area.path.startswith(node.path),
                                                                 Area.id != node.id)).all()]
    else:
        communities = list(session.scalars(select(Area).where(Area.level == Level.COMMUNITY,
                                                              Area.path.startswith(node.path))))
        areas = [node.id]
    cids = [c.id for c in communities]
    areas += cids[:3]
    people = session.scalars(select(Person.id).where(Person.community_id.in_(cids)).limit(3)).all()
    addresses = session.scalars(select(StandardAddress.id).where(StandardAddress.community_id.in_(cids)).limit(3)).all()
    users = session.scalars(select(User.id).join(Area, User.area_id == Area.id)
                            .where(Area.path.startswith(node.path)).limit(3)).all()
    units = session.scalars(select(Unit.id).where(Unit.area_id == node.id)).all() if node.chain == "admin" else []
    warnings = session.scalars(select(Warning.id).where(Warning.community_id.in_(cids)).limit(3)).all()
    w_all = select(Warning.id).where(Warning.community_id.in_(cids))
    contacts = session.scalars(select(Contact.id).where(Contact.warning_id.in_(w_all), Contact.photo_path == "")
                               .limit(2)).all()
    # 回访 of the node's warnings and of its case victims (no warning), both scoped by their community
    follow_ups = [*session.scalars(select(FollowUp.id).where(FollowUp.warning_id.in_(w_all)).limit(2)),
                  *session.scalars(select(FollowUp.id).where(FollowUp.case_id.is_not(None),
                                                             FollowUp.community_id.in_(cids)).limit(1))]
    under = select(Area.id).where(Area.path.startswith(node.path))
    held = select(CampaignArea.campaign_id).where(CampaignArea.area_id.not_in(under))
    campaigns = session.scalars(select(CampaignArea.campaign_id).where(CampaignArea.campaign_id.not_in(held))
                                .distinct().limit(2)).all()
    activities = session.scalars(select(Activity.id).where(Activity.community_id.in_(cids)).limit(3)).all()
    prevention = {
        "campaign_id": list(campaigns), "activity_id": list(activities),
        "photo_id": list(session.scalars(select(ActivityPhoto.id).join(Activity, ActivityPhoto.activity_id == Activity.id)
                                         .where(Activity.community_id.in_(cids)).limit(2))),
        "supervision_id": list(session.scalars(select(Supervision.id).where(
            Supervision.area_id.in_(under) | Supervision.area_id.in_(cids)).limit(2))),
        "target_id": list(session.scalars(select(CoverageTarget.id).where(CoverageTarget.area_id.in_(under)).limit(2))),
        "quiz_id": list(session.scalars(select(Quiz.id).where(Quiz.area_id.in_(under)).limit(2))),
    }
    return Owned(ids={**prevention, "area_id": areas, "person_id": list(people), "address_id": list(addresses),
                      "user_id": list(users), "unit_id": list(units), "warning_id": list(warnings),
                      "contact_id": list(contacts), "follow_up_id": list(follow_ups),
                      # 移交 addressed to the node's stations: only they (and the centre) answer them.
                      "transfer_id": list(session.scalars(select(WarningTransfer.id).where(
                          WarningTransfer.to_station_id.in_(areas)).limit(2))) if node.chain == "police" else [],
                      "case_id": list(session.scalars(select(Case.id).where(Case.community_id.in_(cids)).limit(2))),
                      "request_id": list(session.scalars(select(CaseAction.id).where(
                          CaseAction.community_id.in_(cids), CaseAction.kind.in_(("query", "stop_payment", "freeze")))
                          .limit(2))),
                      # Reports and the blocklist belong to no area: only the centre (REVIEW_REPORTS) reaches them.
                      "report_id": list(session.scalars(select(PublicReport.id).limit(2))),
                      "entity_id": list(session.scalars(select(ReportEntity.id).limit(2))),
                      "entry_id": list(session.scalars(select(BlocklistEntry.id).limit(2))),
                      # Target lists made for the node (or below it); 三包 duties of its communities.
                      "list_id": list(session.scalars(select(TargetList.id).where(TargetList.area_id.in_(under))
                                                      .limit(2))),
                      "duty_id": list(session.scalars(select(Duty.id).where(Duty.community_id.in_(cids)).limit(2))),
                      # 待落地 people held by an import made at the node (or below it), not yet placed.
                      "unplaced_id": list(session.scalars(select(RegistryUnplaced.id).where(
                          RegistryUnplaced.area_id.in_(under), RegistryUnplaced.person_id.is_(None)).limit(2))),
                      # 考核 is read by the 联席办, the centre and unit liaisons only: no station user reaches a run.
                      "run_id": list(session.scalars(select(AssessmentRun.id).limit(2))),
                      "score_id": list(session.scalars(select(AssessmentScore.id).limit(2))),
                      "document_id": list(session.scalars(select(IssuedDocument.id).where(
                          IssuedDocument.area_id.in_(areas)).limit(2)))})


def records_outside_unit(session, unit_id: int, user_id: int) -> Owned:
    """What a member-unit liaison (of `unit_id`, user `user_id`) may not reach, wherever it sits: the activities,
    photos, 三包 items, 考核 scores with evidence and 函告 of every other unit and of the stations, every 督导/约谈,
    the imports of others, other units, and anything held on communities (people, warnings, cases)."""
    others = or_(Activity.unit_id.is_(None), Activity.unit_id != unit_id)
    theirs = or_(AssessmentScore.pool != "unit", AssessmentScore.assessee_id != unit_id)
    # 通告 go to every unit; 函告 to one; 报告 and 通报 to none.
    documents = [d.id for d in session.scalars(select(IssuedDocument).where(IssuedDocument.kind != "notice")
                                               .order_by(IssuedDocument.kind.not_in(["letter", "report"])))
                 if d.kind != "letter" or (d.summary or {}).get("unit_id") != unit_id]
    return Owned(ids={
        "activity_id": list(session.scalars(select(Activity.id).where(others).order_by(Activity.id.desc()).limit(3))),
        "photo_id": list(session.scalars(select(ActivityPhoto.id)
                                         .join(Activity, ActivityPhoto.activity_id == Activity.id).where(others).limit(2))),
        "supervision_id": list(session.scalars(select(Supervision.id).limit(2))),
        "duty_id": [*session.scalars(select(Duty.id).where(Duty.unit_id != unit_id).limit(2)),
                    *session.scalars(select(Duty.id).where(Duty.community_id.is_not(None)).limit(1))],
        "score_id": list(session.scalars(select(AssessmentScore.id).where(theirs, AssessmentScore.evidence_file != "")
                                         .limit(2))),
        "document_id": documents[:3],
        "unit_id": list(session.scalars(select(Unit.id).where(Unit.id != unit_id).limit(2))),
        "user_id": list(session.scalars(select(User.id).where(User.id != user_id).limit(2))),
        "quiz_id": list(session.scalars(select(Quiz.id).limit(2))),
        "person_id": list(session.scalars(select(Person.id).limit(2))),
        "warning_id": list(session.scalars(select(Warning.id).limit(2))),
        "contact_id": list(session.scalars(select(Contact.id).where(Contact.photo_path == "").limit(2))),
        "follow_up_id": list(session.scalars(select(FollowUp.id).limit(2))),
        "transfer_id": list(session.scalars(select(WarningTransfer.id).limit(2))),
        "case_id": list(session.scalars(select(Case.id).limit(2))),
        "request_id": list(session.scalars(select(CaseAction.id).where(
            CaseAction.kind.in_(("query", "stop_payment", "freeze"))).limit(2))),
        "list_id": list(session.scalars(select(TargetList.id).limit(2))),
        "report_id": list(session.scalars(select(PublicReport.id).limit(2))),
        "entity_id": list(session.scalars(select(ReportEntity.id).limit(2))),
        "entry_id": list(session.scalars(select(BlocklistEntry.id).limit(2))),
        "unplaced_id": list(session.scalars(select(RegistryUnplaced.id).where(RegistryUnplaced.person_id.is_(None))
                                            .limit(2))),
    })
