"""The one place that mounts every page router."""

from fastapi import APIRouter, Depends

from fanzha.addresses.views import router as addresses
from fanzha.assess.letters.views import router as letters
from fanzha.assess.views import router as assess
from fanzha.audit.views import router as audit
from fanzha.auth.users_views import router as users
from fanzha.auth.views import router as auth
from fanzha.blocklist.views import router as blocklist
from fanzha.cases.requests.views import router as account_requests
from fanzha.cases.stats.views import router as case_stats
from fanzha.cases.views import router as cases
from fanzha.dispatch.views import router as dispatch
from fanzha.dissuasion.feedback.views import router as feedback
from fanzha.dissuasion.followups.views import router as follow_ups
from fanzha.dissuasion.transfers.views import router as transfers
from fanzha.dissuasion.views import router as dissuasion
from fanzha.dossiers.views import router as dossiers
from fanzha.links.views import router as links
from fanzha.memberunits.views import router as memberunits
from fanzha.org.views import router as org
from fanzha.people.views import router as people
from fanzha.prevention.coverage.views import router as coverage
from fanzha.prevention.fraudfree.views import router as fraud_free
from fanzha.prevention.gaps.views import router as case_gaps
from fanzha.prevention.quiz.views import router as quizzes
from fanzha.prevention.views import router as prevention
from fanzha.registry.views import router as registry
from fanzha.reports.views import router as reports
from fanzha.warnings.views import router as warnings
from fanzha.web.forms import clean_query
from fanzha.web.home import router as home

PAGE_ROUTERS = (auth, home, org, users, people, dossiers, addresses, dissuasion, dispatch, follow_ups, transfers, feedback,
                warnings, case_stats, case_gaps, cases, links, memberunits, prevention, account_requests, coverage, fraud_free, quizzes,
                blocklist, registry, letters, assess, reports, audit)
pages_router = APIRouter(include_in_schema=False, dependencies=[Depends(clean_query)])
for router in PAGE_ROUTERS:
    pages_router.include_router(router)
