"""The registered checks, one module each, in report order: the registry's single list.

To add a check: write ``checks/<name>.py`` (a docstring whose first section is the rule as
``docs/RULES.md`` states it, a pure ``find`` returning ``row_id``, ``reason`` and facts, and
``CHECK = Check(card=load_card(__file__), find=find)``) and its card ``checks/<name>.toml`` (the
words: see :mod:`scrubber.cards`); list it below; add its fixture in ``tests/fixtures/checks/``.
"""

from checks import (
    addon_without_primary,
    concurrent_hydration,
    duplicate_initial_infusion,
    home_ig_supplies,
    infusion_too_short,
    missing_modifier,
    ncci_ptp_conflict,
    noncovered_diagnosis,
    observation_counted_as_infusion,
    over_cap_96371,
    route_mismatch,
    unit_miscalculation,
    units_over_mue,
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
    units_over_mue.CHECK,
    ncci_ptp_conflict.CHECK,
    infusion_too_short.CHECK,
    concurrent_hydration.CHECK,
    # home-ig-supplies last.
    home_ig_supplies.CHECK,
]


def all_checks() -> list:
    """Every registered check, in registry order; ids are unique (the registry's source of truth)."""
    seen: set[str] = set()
    for check in REGISTERED:
        if check.id in seen:
            raise RuntimeError(f"check id registered twice: {check.id}")
        seen.add(check.id)
    return list(REGISTERED)


def by_id() -> dict:
    return {c.id: c for c in all_checks()}
