"""noncovered-diagnosis: no covered diagnosis for the immune globulin, or an invalid ICD-10-CM code.

**What it finds.**

* An immune-globulin drug line none of whose diagnoses is on the covered list for the payer
  policy and setting. MEDICARE: home (POS 12) IVIG uses the 25 PIDD codes of article A52509;
  home SCIG uses the same plus G61.81 CIDP (A52507 groups 3 and 6); office and outpatient use the
  documented default ``IG_OFFICE_DEFAULT`` (the PIDD codes plus ITP D69.3, GBS G61.0, CIDP G61.81,
  myasthenia gravis G70.0x, dermatomyositis M33.x and the NCD 250.3 blistering diseases). DEFAULT
  uses the office default everywhere. A policy file may replace any list. A dual-route product
  (J1561, J1569) counts as SCIG when documented SC or billed with JB, or, with no route
  documented (no route, JA or JB), when the only infusion administration billed on the claim and
  date is SC (96369-96371).
* A diagnosis that is not a valid *billable* ICD-10-CM code for the date of service, such as a
  category (``D80``) or a code that became a header (``G35`` from 2025-10-01). Reported once per
  claim and code, on the first IG drug line that points to it (the line whose coverage depends on
  it), else on the first line that does: a non-billable code rejects the claim whatever the drug
  (the rule's own example, G35, is the MS code of infusion claims such as ocrelizumab). Dates of
  service are matched to the ICD-10-CM release in force (FY2025, FY2026); a date after the newest
  release shipped is checked against that newest release.
* One finding per line: an IG line with an invalid code and no covered diagnosis gets one finding
  giving both reasons.

Codes are compared without their dot: ``D80.0`` and ``D800`` are the same code (a dot anywhere but
after the third character, ``D8.00``, is a malformed code: the row is rejected with that reason).

**Why payers deny it.** IG is covered only for the conditions the LCD/NCD lists (CARC 50, RARC
N115 where an LCD applies); an invalid or non-billable code rejects the claim (CO-16 + M76/M81).

**Example.** MEDICARE, POS 12, J1459 (IVIG) with G61.81 only: fires (CIDP is covered at home only
for SCIG). The same line at POS 11 is covered by the office default.

**Use instead.** Report the most specific billable code the record supports; if the condition is
not covered in that setting, do not bill the payer as covered (GA/GZ with an ABN where applicable).

**Appeal basis.** Coverage findings are justifications: the record must document a covered
condition (the appeal text leaves a visible placeholder for it); without one the service is not
covered under the policy. Invalid-code findings are corrections: resubmit with the billable code.

**Sources.** A52509 and A52507 ICD-10 tables (CMS MCD); L33610, L33794; NCD 250.3 / A57187;
ICD-10-CM FY2025 and FY2026 code files (CMS/NCHS); REFERENCE.md 5.
"""

from __future__ import annotations

import polars as pl

from scrubber import reference
from scrubber.enrich import billed, documented_iv, documented_sc, is_ig, with_codes, with_modifier_roles
from scrubber.legacy import legacy_check
from scrubber.registry import Context
from scrubber.text import dotted, fill

_SETTING_WORDS = {"home_iv": "home IVIG", "home_sc": "home SCIG", "other": "office/outpatient immune globulin"}


def _setting() -> pl.Expr:
    """home_sc, home_iv or other. A dual-route product (J1561, J1569) is SCIG when documented SC
    (route or JB); with no route documented, when the claim's administration on that date is SC
    infusion only (the administration billed says how it was given, as in route-mismatch)."""
    sc_admin_only = billed(reference.route_evidence_bits("sc_infusion")) & ~billed(
        reference.route_evidence_bits("iv_infusion"))
    sc = (pl.col("ig_route") == "SC") | (
        (pl.col("ig_route") == "IV_SC") & (documented_sc() | (~documented_iv() & sc_admin_only))
    )
    return (
        pl.when(pl.col("is_home") & sc).then(pl.lit("home_sc")).when(pl.col("is_home")).then(pl.lit("home_iv"))
        .otherwise(pl.lit("other"))
    )


def _coverage_findings(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    ig = with_modifier_roles(with_codes(lines.filter(is_ig()), "ig_route", "ig_product"))
    ig = ig.with_columns(_setting().alias("setting"))
    # One set test per (policy, setting) list on the line's diagnoses: a handful of lists, so this
    # is cheaper than exploding every IG line's diagnoses and joining them to the lists.
    covered = pl.lit(False)
    for (policy, setting), codes in ctx.covered_sets().items():
        hit = pl.col("diagnoses").list.eval(pl.element().is_in(codes.implode())).list.any()
        covered = pl.when((pl.col("policy") == policy) & (pl.col("setting") == setting)).then(hit).otherwise(covered)
    flagged = (
        ig.filter(~covered.fill_null(False))
        .join(ctx.coverage_lists, on=["policy", "setting"], how="left")
        .with_columns(pl.col("diagnoses").list.eval(dotted(pl.element())).list.join(", ").alias("_dx"))
    )
    words = pl.col("setting").replace(_SETTING_WORDS)
    lists = pl.col("lists")
    message = (
        pl.when(pl.col("diagnoses").list.len() == 0)
        .then(fill("{code} ({product}) has no diagnosis; the {policy} policy covers {setting} only for the "
                   "diagnoses of {lists}.", code=pl.col("procedure_code"), product=pl.col("ig_product"),
                   policy=pl.col("policy"), setting=words, lists=lists))
        .otherwise(fill("None of the diagnoses of {code} ({product}), {dx}, is covered for {setting} under the "
                        "{policy} policy (covered list: {lists}).", code=pl.col("procedure_code"),
                        product=pl.col("ig_product"), dx=pl.col("_dx"), setting=words, policy=pl.col("policy"),
                        lists=lists))
    )
    return flagged.select(
        "row_id",
        message.alias("message"),
        fill("Report the covered diagnosis the record documents (see {lists}); if none applies, the drug is not "
             "covered in this setting: obtain an ABN and bill with GA, or GZ without one.", lists=lists)
        .alias("suggested_fix"),
        fill("Medical necessity: the medical record for {dos} documents a condition for which {code} ({product}) "
             "is covered under {lists}: [covered diagnosis and its documentation, e.g. immunoglobulin levels, "
             "biopsy or specialist note?]. The claim reports that diagnosis for the drug line.",
             dos=pl.col("date_of_service"), code=pl.col("procedure_code"), product=pl.col("ig_product"),
             lists=lists).alias("appeal_text"),
        pl.lit("justification").alias("fix_kind"),
    )


def _validity_findings(lines: pl.LazyFrame) -> pl.LazyFrame:
    exploded = (
        lines.select("row_id", "claim_id", "line_number", "date_of_service", is_ig().alias("_ig"),
                     pl.col("diagnoses").alias("code"))
        .explode("code")
        .filter(pl.col("code").is_not_null())
        .with_columns(reference.icd10_release_for().alias("release_key"))
    )
    # Only the releases the batch's dates use are read (a release is 75,000 codes).
    dates = pl.col("date_of_service")
    first, last = lines.select(dates.min().alias("first"), dates.max().alias("last")).collect().row(0)
    billable = pl.lit(False)
    for key in reference.icd10_releases_for_dates(first, last):
        codes = reference.icd10_billable_codes(key).implode()
        billable = pl.when(pl.col("release_key") == key).then(pl.col("code").is_in(codes)).otherwise(billable)
    exploded = exploded.filter(~billable)
    per_code = exploded.group_by("claim_id", "code").agg(
        # Anchored on the first IG drug line that points to the code (the line the coverage rule is
        # about), else on the first line that does.
        pl.col("row_id").sort_by(~pl.col("_ig"), "line_number").first(),
        pl.col("line_number").unique().sort().cast(pl.String).str.join(", ").alias("_lines"),
        pl.col("release_key").first().str.to_uppercase().alias("_release"),
        pl.col("date_of_service").min().alias("_dos"),
    )
    code = dotted(pl.col("code"))
    return per_code.select(
        "row_id",
        fill("{code} is not a valid billable ICD-10-CM code for {dos} ({release} code set); claim {claim} "
             "line(s) {lines} point to it.", code=code, dos=pl.col("_dos"), release=pl.col("_release"),
             claim=pl.col("claim_id"), lines=pl.col("_lines")).alias("message"),
        fill("Replace {code} with the complete billable code (all required characters) that the record supports.",
             code=code).alias("suggested_fix"),
        fill("Corrected claim: {code} is a category or invalid code, not billable for {dos}; the corrected claim "
             "reports the billable code documented in the record.", code=code, dos=pl.col("_dos"))
        .alias("appeal_text"),
        pl.lit("correction").alias("fix_kind"),
        code.alias("_order"),
    )


def _one_per_line(findings: pl.LazyFrame) -> pl.LazyFrame:
    """One finding per line: an IG line with an invalid code and no covered one gets a single
    finding that gives both reasons (invalid codes first, in code order; then coverage). Any
    invalid code makes it a correction: the claim must be resubmitted with billable codes."""
    text = pl.col("message", "suggested_fix", "appeal_text")
    return (
        findings.group_by("row_id")
        .agg(
            text.sort_by("_order").str.join(" "),
            pl.when((pl.col("fix_kind") == "correction").any()).then(pl.lit("correction"))
            .otherwise(pl.lit("justification")).alias("fix_kind"),
        )
    )


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    coverage = _coverage_findings(lines, ctx).with_columns(pl.lit("~coverage").alias("_order"))
    return _one_per_line(pl.concat([coverage, _validity_findings(lines)]))


CHECK = legacy_check(
    id="noncovered-diagnosis",
    title="Diagnosis not covered, or not a billable ICD-10-CM code",
    severity="error",
    scope="line",
    rule="An IG drug line needs a diagnosis on the covered list for the payer policy and setting; every diagnosis "
    "must be a billable ICD-10-CM code for the date of service.",
    sources=("A52509 (home IVIG)", "A52507 (home SCIG, CIDP)", "NCD 250.3 / A57187",
             "ICD-10-CM FY2025/FY2026 (CMS/NCHS)"),
    fix="Report the covered, billable diagnosis the record documents; otherwise ABN with GA, or GZ.",
    appeal="Justification: the record documents a covered diagnosis; corrected claim reports it.",
    denial_codes=("CO-50", "N115", "CO-16", "M76"),
    fix_kind="justification",
    disposition="line denied as not medically necessary (CO-50), or rejected for an invalid code",
    find=find,
)
