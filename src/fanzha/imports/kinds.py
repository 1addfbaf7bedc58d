"""Imports every module that registers an import kind, so the web app and the worker know the same kinds."""

import fanzha.addresses.service  # noqa: F401  address
import fanzha.blocklist.intake  # noqa: F401  blocklist
import fanzha.cases.actions  # noqa: F401  case_action
import fanzha.cases.intake  # noqa: F401  case
import fanzha.people.registration  # noqa: F401  app_registration
import fanzha.prevention.intake  # noqa: F401  campaign_plan, activity
import fanzha.registry.intake  # noqa: F401  registry
import fanzha.warnings.feedback  # noqa: F401  feedback
import fanzha.warnings.intake  # noqa: F401  warning
