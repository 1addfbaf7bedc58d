"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from fanzha.addresses.models import StandardAddress
from fanzha.assess.models import AssessmentCorrection, AssessmentRun, AssessmentScore
from fanzha.auth.models import AuthSession, Throttle
from fanzha.blocklist.models import BlocklistEntry, PublicReport, ReportBundle, ReportEntity
from fanzha.cases.models import Case, CaseAction
from fanzha.cases.stats.rollup import CaseStatCell
from fanzha.db import Base
from fanzha.dissuasion.models import (
    Contact,
    Escalation,
    FamilyContact,
    FollowUp,
    Submission,
    TimelineEvent,
)
from fanzha.dissuasion.transfers.models import WarningTransfer
from fanzha.imports.models import ImportBatch, ImportRowError
from fanzha.links.models import CounterpartyId
from fanzha.notify.models import Delivery, Notification
from fanzha.org.models import Area, Unit, User
from fanzha.people.models import Person
from fanzha.prevention.models import (
    Activity,
    ActivityCampaign,
    ActivityPhoto,
    Campaign,
    CampaignArea,
    CoverageTarget,
    FraudFreeChange,
    FraudFreeStatus,
    Quiz,
    QuizAttempt,
    Quota,
    Supervision,
)
from fanzha.registry.models import Duty, RegistryEntry, RegistryUnplaced, TargetList, TargetMember
from fanzha.reports.models import AreaGeo, IssuedDocument
from fanzha.trail.models import AuditEntry, AuditSeal
from fanzha.warnings.models import DutyShift, Warning, WarningAssignment
from fanzha.worker.models import WorkerBeat

__all__ = [
    "Area", "AuditEntry", "AuditSeal", "AuthSession", "Throttle", "Base", "ImportBatch", "ImportRowError",
    "Person", "StandardAddress", "Unit", "User", "WorkerBeat", "Warning", "WarningAssignment", "DutyShift", "Contact", "Escalation", "FamilyContact", "FollowUp",
    "Submission", "TimelineEvent", "Notification", "Delivery", "Case", "CaseStatCell",
    "Campaign", "CampaignArea", "Quota", "Supervision", "Activity", "ActivityCampaign", "ActivityPhoto", "CoverageTarget",
    "FraudFreeStatus", "FraudFreeChange", "Quiz", "QuizAttempt", "ReportBundle", "PublicReport", "ReportEntity",
    "BlocklistEntry", "RegistryEntry", "RegistryUnplaced", "TargetList", "TargetMember", "Duty", "CaseAction",
    "AssessmentRun", "AssessmentScore", "AssessmentCorrection", "IssuedDocument", "AreaGeo", "CounterpartyId",
    "WarningTransfer",
]
