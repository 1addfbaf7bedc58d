"""Every importer the domains offer, loaded into the registry of `fanzha.imports` (`IMPORTERS`).

A domain registers its importers with `fanzha.imports.service.register` when its import module is imported; the import
package itself imports no domain. The web app, the worker and the CLI import this module at start-up, so that the
three know the same kinds. A module that calls `register` is listed here (tests/project/test_layers.py checks it).
"""

import fanzha.addresses.service  # noqa: F401  address
import fanzha.blocklist.intake  # noqa: F401  blocklist
import fanzha.cases.actions  # noqa: F401  case_action
import fanzha.cases.intake  # noqa: F401  case
import fanzha.dissuasion.feedback.service  # noqa: F401  feedback
import fanzha.people.registration  # noqa: F401  app_registration
import fanzha.prevention.intake  # noqa: F401  campaign_plan, activity
import fanzha.registry.intake  # noqa: F401  registry
import fanzha.warnings.intake  # noqa: F401  warning
