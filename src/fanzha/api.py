"""The one place that mounts every API router under /api/v1."""

from fastapi import APIRouter

from fanzha.addresses.api import router as addresses
from fanzha.assess.api import router as assess
from fanzha.audit.api import router as audit
from fanzha.auth.api import router as auth
from fanzha.blocklist.api import router as blocklist
from fanzha.cases.api import router as cases
from fanzha.cases.stats.api import router as case_stats
from fanzha.detect.api import router as detect
from fanzha.dissuasion.api import router as dissuasion
from fanzha.imports.api import router as imports
from fanzha.org.api import router as org
from fanzha.people.api import router as people
from fanzha.prevention.api import router as prevention
from fanzha.registry.api import router as registry
from fanzha.reports.api import router as reports
from fanzha.warnings.api import router as warnings

API_PREFIX = "/api/v1"
# The checker first: routes are matched in this order, and /detect is the route called most often by far (every
# message a person or a system asks about); matching it behind 70 other routes cost about a millisecond a request.
API_ROUTERS = (detect, auth, org, people, addresses, imports, warnings, dissuasion, case_stats, cases, prevention,
               registry, blocklist, assess, audit, reports)
api_router = APIRouter(prefix=API_PREFIX)
for router in API_ROUTERS:
    api_router.include_router(router)
