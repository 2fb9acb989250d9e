"""route-mismatch: the administration code and the immune globulin's route disagree.

**What it finds.** Within one claim and date of service:

* an SC-only IG (J1551, J1555, J1558, J1559, J1575) billed with IV infusion administration
  (96365/96366/96367) and no SC administration (96369/96370/96371);
* an IV-only IG (J1459, J1554, J1556, J1557, J1566, J1568, J1572, J1576, J1599) billed with SC
  administration or 96372 and no IV infusion administration (96365/96366/96367; a concurrent
  96368 presupposes another infusion and is no evidence of the route on its own);
* an IG whose only administration is IV push (96374/96375/96376): immune globulin is never a push;
* an IG line documented as given by IV push (``route`` PUSH) on a claim with administration codes;
* an IG line documented IV (``route`` IV, or JA) billed with only SC or injection administration,
  or documented SC (``route`` SC, or JB) billed with only IV infusion administration: the rule
  names J1561/J1569 with JA and any IG line with JB; a documented route contradicts the
  administration billed whatever the product, so it applies to every IG code;
* a documented ``route`` that contradicts the administration line it sits on (``documented_routes``
  in ``admin_codes.csv``): SC, IM or PUSH on an IV infusion line (96365, 96360, 96413...); SC or IM
  on an IV push line (a push is intravenous, so IV agrees); IV, PUSH or IM on an SC infusion line
  (96369-96371); IV or PUSH on 96372.

A claim with no administration codes (a home DME drug claim) has nothing to compare and is quiet.

**Why payers deny it.** The administration code must describe how the drug was given; an SC
product with 96365 (or an IV product with 96369) is an internally inconsistent claim, denied as
inconsistent coding (CARC 4/16) or on medical review. Hizentra is subcutaneous only; Privigen is
intravenous only.

**Example.** Claim C20, 2026-05-04: J1559 (Hizentra) x80 with 96365 x1 and 96366 x1: fires on
the J1559 line.

**Use instead.** Bill the administration that matches the product's route: SC infusion is
96369 (+96370 per additional hour, 96371 for a new pump set-up); IV infusion is 96365 (+96366).
For J1561/J1569 make the route modifier (JA/JB) and the documentation agree with the administration.

**Appeal basis.** A correction of the administration code or the product code, whichever the
administration record shows was wrong.

**Sources.** HCPCS Level II descriptors and product labels (RULES.md IG table); A52507 (JB for SC
IG on DME claims); First Coast A57778 (JA/JB for J1561/J1569); REFERENCE.md 3 and 4c.
"""

from __future__ import annotations

import polars as pl

from scrubber import reference
from scrubber.enrich import (
    billed,
    code_is,
    codes_text,
    documented_iv,
    documented_sc,
    is_ig,
    with_codes,
    with_modifier_roles,
)
from scrubber.legacy import legacy_check
from scrubber.registry import Context
from scrubber.text import fill


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    # What the billed administration says about the route (admin_codes.csv route_evidence).
    iv_bits = reference.route_evidence_bits("iv_infusion")
    sc_bits = reference.route_evidence_bits("sc_infusion")
    inj_bits = reference.route_evidence_bits("injection")
    push = reference.route_evidence_bits("push")
    has_iv, has_sc, has_inj = billed(iv_bits), billed(sc_bits), billed(inj_bits)
    any_admin = pl.col("cd_admin_mask") != 0
    only_push = any_admin & ((pl.col("cd_admin_mask") & ~pl.lit(push, pl.UInt64)) == 0)
    route = pl.col("route")
    candidates = lines.filter(is_ig() | (code_is(adm_documented_routes=None) & route.is_not_null()))
    lines = with_modifier_roles(
        with_codes(candidates, "ig_route", "ig_product", "adm_documented_routes", "adm_description"))
    ig = pl.col("ig_route").is_not_null()
    ig_route = pl.col("ig_route")
    doc_iv, doc_sc = documented_iv(), documented_sc()
    # A documented route the code of its own administration line does not describe
    # (admin_codes.csv documented_routes: IV on a push line agrees, PUSH on an infusion line does not).
    line_route_conflict = (
        pl.col("adm_documented_routes").is_not_null() & route.is_not_null()
        & ~pl.col("adm_documented_routes").list.contains(route)
    )
    # (condition, message) in order of precedence: a line gets the first that applies.
    rules = [
        (ig & (ig_route == "SC") & has_iv & ~has_sc,
         "{p} is a subcutaneous-only immune globulin, but the administration billed is IV infusion ({iv}) with "
         "no SC infusion code."),
        (ig & (ig_route == "IV") & (has_sc | has_inj) & ~has_iv,
         "{p} is an intravenous-only immune globulin, but the administration billed is subcutaneous or IM "
         "({sc_inj}) with no IV infusion code."),
        (ig & only_push,
         "{p} is billed with IV push only ({admin}); immune globulin is infused, never pushed."),
        (ig & (route == "PUSH") & any_admin,
         "{p} is documented as given by IV push; immune globulin is infused, never pushed (administration "
         "billed: {admin})."),
        (ig & doc_iv & (has_sc | has_inj) & ~has_iv,
         "{p} is documented as given IV ({how_iv}) but only SC/IM administration ({sc_inj}) is billed."),
        (ig & doc_sc & has_iv & ~has_sc,
         "{p} is documented as given SC ({how_sc}) but only IV infusion administration ({iv}) is billed."),
        (line_route_conflict,
         "The administration record documents route {route} for {code} ({kind}); that code describes route "
         "{agrees}."),
    ]
    rule = pl.lit(None, pl.Int32)
    for number, (condition, _) in reversed(list(enumerate(rules))):
        rule = pl.when(condition.fill_null(False)).then(pl.lit(number, pl.Int32)).otherwise(rule)
    # Text only for the lines that break a rule (building it for every line costs seconds at scale).
    flagged = lines.with_columns(rule.alias("_rule")).filter(pl.col("_rule").is_not_null())
    facts = {
        "p": fill("{code} ({product})", code=pl.col("procedure_code"), product=pl.col("ig_product")),
        "admin": codes_text(),
        "iv": codes_text(within=iv_bits),
        "sc_inj": codes_text(within=sc_bits | inj_bits),
        "how_iv": pl.when(route == "IV").then(pl.lit("route IV")).otherwise(pl.lit("JA modifier")),
        "how_sc": pl.when(route == "SC").then(pl.lit("route SC")).otherwise(pl.lit("JB modifier")),
        "route": route,
        "code": pl.col("procedure_code"),
        "kind": pl.col("adm_description"),
        "agrees": pl.col("adm_documented_routes").list.join(" or "),
    }
    reason = pl.lit(None, pl.String)
    for number, (_, template) in reversed(list(enumerate(rules))):
        used = {k: v for k, v in facts.items() if "{" + k + "}" in template}
        reason = pl.when(pl.col("_rule") == number).then(fill(template, **used)).otherwise(reason)
    sc_like = (ig_route == "SC") | ((ig_route == "IV_SC") & doc_sc & ~doc_iv)
    fix = (
        pl.when(pl.col("_rule") == 3)
        .then(pl.lit("Immune globulin is infused: bill the infusion administration for the route given (IV 96365/"
                     "96366, SC 96369-96371) and correct the route in the administration record."))
        .when(pl.col("_rule").is_in([4, 5]))
        .then(pl.lit("Make the administration code, the documented route and JA/JB agree: bill the administration "
                     "for the route the drug was given by, or correct the route (or JA/JB) if it was recorded "
                     "wrongly."))
        .when(ig & sc_like)
        .then(pl.lit("Bill the SC administration codes (96369 initial, 96370 each additional hour, 96371 for a "
                     "new pump set-up) instead of IV infusion or push codes, or correct the product code if an IV "
                     "product was given."))
        .when(ig)
        .then(pl.lit("Bill the IV infusion administration codes (96365 initial, 96366 each additional hour) "
                     "instead of SC, injection or push codes, or correct the product code if an SC product was "
                     "given; make JA/JB agree with the route given."))
        .otherwise(pl.lit("Correct the administration code to the documented route, or correct the route in the "
                          "administration record if it was recorded wrongly."))
    )
    appeal = fill(
        "Corrected claim: the administration code is corrected to the route documented in the administration "
        "record for {code} on {dos} ({why})",
        code=pl.col("procedure_code"),
        dos=pl.col("date_of_service"),
        why=reason,
    )
    return flagged.select("row_id", reason.alias("message"), fix.alias("suggested_fix"), appeal.alias("appeal_text"))


CHECK = legacy_check(
    id="route-mismatch",
    title="Administration code and drug route disagree",
    severity="error",
    scope="claim",
    rule="The administration billed must match the immune globulin's route (SC products with 96369-96371, IV "
    "products with 96365-96368, never IV push) and the documented route or JA/JB modifier.",
    sources=("HCPCS Level II IG descriptors (RULES.md IG table)", "A52507 (JB on SC immune globulin)",
             "First Coast A57778 (JA/JB for J1561/J1569)"),
    fix="Bill the administration family that matches the product's route, or correct the product code.",
    appeal="Corrected claim with the administration code matching the documented route.",
    denial_codes=("CO-4", "CO-16", "M51"),
    fix_kind="correction",
    disposition="line denied as inconsistent coding, or on medical review",
    find=find,
)
