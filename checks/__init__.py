"""The registered checks, one module each, in report order.

To add a check: write ``checks/<name>.py`` with a docstring in the fixed sections (what it finds,
why payers deny it, example, use instead, appeal basis, sources), a pure ``find`` function and a
``CHECK = Check(...)``; list it below; add its fixture in ``tests/fixtures/checks/``.
"""

from checks import (
    addon_without_primary,
    duplicate_initial_infusion,
    missing_modifier,
    noncovered_diagnosis,
    observation_counted_as_infusion,
    over_cap_96371,
    route_mismatch,
    unit_miscalculation,
)

REGISTERED = [
    addon_without_primary.CHECK,
    duplicate_initial_infusion.CHECK,
    route_mismatch.CHECK,
    unit_miscalculation.CHECK,
    missing_modifier.CHECK,
    over_cap_96371.CHECK,
    observation_counted_as_infusion.CHECK,
    noncovered_diagnosis.CHECK,
]
