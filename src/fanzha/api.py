"""The one place that mounts every API router under /api/v1."""

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from fanzha.addresses.api import router as addresses
from fanzha.assess.api import router as assess
from fanzha.assess.letters.api import router as assess_letters
from fanzha.audit.api import router as audit
from fanzha.auth.api import router as auth
from fanzha.auth.users_api import router as users
from fanzha.blocklist.api import router as blocklist
from fanzha.blocklist.service import DbBlocklist
from fanzha.cases.api import router as cases
from fanzha.cases.requests.api import router as account_requests
from fanzha.cases.stats.api import router as case_stats
from fanzha.detect.api import router as detect
from fanzha.detect.api import use_blocklist
from fanzha.dissuasion.api import router as dissuasion
from fanzha.dissuasion.escalations_api import router as escalations
from fanzha.dissuasion.feedback.api import router as feedback
from fanzha.dissuasion.followups.api import router as follow_ups
from fanzha.dissuasion.reassign_api import router as reassign
from fanzha.dissuasion.transfers.api import router as transfers
from fanzha.imports.api import router as imports
from fanzha.links.api import router as links
from fanzha.memberunits.api import router as memberunits
from fanzha.org.api import router as org
from fanzha.people.api import router as people
from fanzha.prevention.api import router as prevention
from fanzha.prevention.fraudfree.api import router as fraud_free
from fanzha.prevention.gaps.api import router as case_gaps
from fanzha.prevention.quiz.api import router as quizzes
from fanzha.registry.api import router as registry
from fanzha.reports.api import router as reports
from fanzha.warnings.api import router as warnings
from fanzha.warnings.roster_api import router as roster
from fanzha.web.forms import clean_query

API_PREFIX = "/api/v1"
# The checker first: routes are matched in this order, and /detect is the route called most often by far (every
# message a person or a system asks about); matching it behind 70 other routes cost about a millisecond a request.
API_ROUTERS = (detect, auth, org, users, people, addresses, imports, warnings, feedback, dissuasion, escalations,
               follow_ups, transfers, case_stats, cases, case_gaps, links, memberunits, prevention, fraud_free, quizzes,
               account_requests, registry, blocklist, assess, assess_letters, audit, reports, roster, reassign)


class ErrorBody(BaseModel):
    code: str = Field(description="机器可读的错误代码：invalid、not_found、forbidden、conflict …")
    message: str = Field(description="给人看的中文说明")
    details: list[dict] = Field(default_factory=list, description="逐项说明：loc（字段位置）与 msg")


class ErrorOut(BaseModel):
    """Every error the API answers: one shape (fanzha.web.app._error)."""

    error: ErrorBody


# The answers every operation may give besides its own: listed once for all of them in the OpenAPI.
ERRORS = {401: "未登录或令牌无效/已失效", 403: "角色没有此项权限", 404: "记录不存在或不在您的管辖范围内",
          409: "与现有数据冲突（已存在、已结案、正被同时修改）", 422: "参数或内容有误（逐项说明在 details 中）"}
api_router = APIRouter(prefix=API_PREFIX, dependencies=[Depends(clean_query)],
                       responses={code: {"model": ErrorOut, "description": text} for code, text in ERRORS.items()})
for router in API_ROUTERS:
    api_router.include_router(router)
# The checker scores against the centre's blocklist (黑名单), which sits above it.
use_blocklist(DbBlocklist)
