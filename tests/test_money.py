"""Charges at risk add up (issue 11 "Money"): each line's charge counts once, per-check, per-payer,
per-billing-provider and per-claim totals equal the headline, and what counts follows the card."""

from __future__ import annotations

import math

import pytest
from conftest import ROOT

from scrubber.engine import scrub
from scrubber.output.html_report import build_context

BATCHES = [ROOT / "sample_claims" / "claims.csv", ROOT / "sample_claims" / "claims.json"]


@pytest.mark.parametrize("path", BATCHES, ids=lambda p: p.name)
def test_totals_add_up_to_the_headline(path) -> None:
    result = scrub([str(path)])
    s = result.summary
    headline = s["charges_at_risk"]
    assert headline > 0
    assert math.isclose(sum(c["charges_at_risk"] for c in s["by_check"].values()), headline, abs_tol=0.011)
    f = result.findings
    assert math.isclose(float(f.get_column("charge_at_risk").sum()), headline, abs_tol=0.011)
    ctx = build_context(result)
    for table in ("by_payer", "by_provider", "by_month"):
        assert math.isclose(sum(r["at_risk"] for r in ctx[table]), headline, abs_tol=0.011), table
    import json

    claims = json.loads(str(ctx["data"]))["claims"]
    assert math.isclose(sum(c["risk"] for c in claims), headline, abs_tol=0.011)
    # Each line's charge counts once at most: the total never exceeds what was billed.
    assert headline <= s["charges_billed"] + 0.005


def test_warnings_and_info_put_nothing_at_risk() -> None:
    result = scrub([str(BATCHES[0])])
    f = result.findings
    assert float(f.filter(f["severity"] != "error").get_column("charge_at_risk").sum()) == 0.0
