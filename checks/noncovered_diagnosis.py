"""noncovered-diagnosis: no covered diagnosis for the immune globulin, or not a valid ICD-10-CM code.

**noncovered-diagnosis** (error). For an IG drug line:
- Coverage: none of the line's diagnoses is on the covered list for the payer and setting. MEDICARE
  home IVIG (at the policy's home IVIG places, `home_ivig_pos`, POS 32 included): the 25 codes of
  A52509; home SCIG: the same plus G61.81 (A52507). Office and outpatient:
  the covered list a policy names (`[coverage] other`); the built-in policies name none yet (no Part
  A/B contractor article's list could be shipped whole), so those lines are counted as coverage not
  evaluated, never flagged. Home IVIG with an uncovered diagnosis is "no benefit category": the fix is
  GY, never an ABN, and its home IVIG items and services (Q2052) are outside the benefit with it.
- With GA, GZ or GY on the line, the finding is `info`: the provider has declared the expected denial.
  Home IVIG under MEDICARE declared with GA or GZ but not GY is `info` with the fix GY.
- Validity, on every line that points to the code (an IG drug line or not: an invalid code makes the
  whole claim unprocessable): a diagnosis must be a billable ICD-10-CM code in the release in force on the date of
  service (fiscal years start October 1; for example `D80` and `G35` are categories, and `E66.8` was
  billable until 2024-09-30). The product ships every release it can source (at least FY2021-FY2026); a
  date outside every shipped release is not evaluated for validity (counted and shown), never flagged,
  but in the release after the newest shipped one (FY2027, not shipped: MANIFEST `[icd10cm_next]`) a
  code that the newest shipped release subdivides into more specific codes (`D80`) is flagged
  (`invalid_code_category`): no release has ever made such a category billable again.
  A value that is not shaped like an ICD-10-CM code (`D8.00`) is a finding of this check, not a
  rejected row. An invalid diagnosis makes the claim unprocessable: every line that points to it is at
  risk, and is judged for coverage once the corrected code is on the claim. A code is accepted with or without its dot.
  The claim's own list (X12 HI, a JSON claim's `diagnoses`) is validated whole, pointed to or not (CGS
  Part B ICD-10 edits: "code validation ... regardless of pointer definition in SV107"): an invalid
  code no line points to is `unpointed_invalid_code`, with every line of the claim at risk and the
  lines' own coverage still judged.

Implementation. Two decisions, one finding per line.

*Coverage* (IG drug lines only, filtered first). The setting is ``home_sc``, ``home_iv`` or ``other``:
home is the policy's home places of service (``is_home``), and for home IVIG also its home IVIG
places (``is_home_ivig``: POS 32, where the drug and its Q2052 are billed too); a dual-route product (J1561, J1569 in
``immune_globulins.csv``) is SCIG when documented SC (route or JB) or, with no route documented,
when the encounter's administration is SC infusion only or a subcutaneous infusion pump (E0779,
E0781) is billed at home on its claim or by its supplier for the patient and date
(:func:`checks._drug_lines.given_subcutaneously`, shared with missing-modifier). The covered list of each (policy,
setting) comes from the policy (``[coverage]``, list ids only: switching the office list to a
contractor article is a policy edit) and is tested as a set on the line's diagnoses. The finding
names the list by its payer-facing name from MANIFEST.toml (article id and title), never by the
product's list id. Reasons: ``home_ivig_no_benefit`` (a MEDICARE-kind policy, home IVIG: no benefit
category, the fix is GY, a correction; the home IVIG items and services lines, Q2052, that go with
the drug (the member's latest home IVIG drug line on or before them, within the 30 days home-ig-supplies
reads) are at risk with it: the benefit pays them for primary immune deficiency only),
``home_scig_not_covered`` (home SCIG: the External Infusion
Pumps criteria; the pump and supply lines billed at home on its claim, or by its supplier for the
patient and date, are at risk with the drug line), ``not_covered`` (office and outpatient, and home
IVIG of a commercial policy);
``declared_noncovered`` (info, nothing at risk) when the line carries a modifier that declares the
expected denial (``modifiers.csv`` roles ``declares_noncovered``: GA, GZ, and ``declares_no_benefit``:
GY); ``declared_abn_no_benefit`` (info) when home IVIG under Medicare declares it with GA or GZ but
not GY: the fix is GY, an ABN does not apply to a service with no benefit category. GY counts as
a declaration (the shared sheet names GA and GZ only) because for home IVIG GY *is* the rule's own
fix (flagging a line that already carries it as an error is a false flag, issue 10), and for home
SCIG it is A52507's modifier for a drug outside the pump benefit. An IG line
with no diagnosis is not covered (its ``dx`` fact says "(none reported on the line)").

*Validity* (every line). The batch's distinct diagnosis values are read once; a value not shaped
like an ICD-10-CM code (``schema.DIAGNOSIS_RE`` after normalisation: upper case, dot after the
category removed) is ``malformed_code`` whatever the date; a well-formed code is tested against
the releases MANIFEST.toml lists (``[icd10cm.*]``) that are in force on some date of the batch,
as a bit per release. Only lines carrying a suspect value (malformed, or not billable in one of
those releases) are exploded and judged against the release in force on their own date of
service (``reference.icd10_release_index``); a date outside every shipped release is not judged
(counted by ``unevaluated``, never flagged), except a date in ``reference.icd10_next`` (the release
after the newest shipped one), where a code in ``reference.icd10_categories`` of the newest release is
suspect and flagged as ``invalid_code_category`` (its ``release`` fact is the unshipped release,
``judged_by`` the newest shipped one); those lines stay counted by ``unevaluated``, since any other
code on them is not judged. Filter first: on a clean batch nothing is exploded.
One finding per claim and code, anchored on the first IG drug line that points to it where it
is invalid (the line whose coverage depends on it), else the first such line; ``risk_rows`` are
all the claim's lines that point to it there (the claim is unprocessable: risk ``lines``). Codes
anchored on the same line make one finding (``codes`` lists them; ``malformed_code`` when any is
malformed, else ``invalid_code_category`` on a date of the next release, else ``invalid_code``).
The codes of a claim's own list (``claim_diagnoses``) that no line of the claim points to
(:func:`_unpointed`: the few claims whose list is longer than what their lines point to) are held
by every line of the claim for this judgement; a finding of such codes only is
``unpointed_invalid_code`` (its ``lines`` empty: no line points to them).

*One finding per line.* A line that points to an invalid code gets no coverage finding, whichever
line the validity finding sits on: the invalid code is the stronger reason (the claim cannot be
processed at all), and coverage is judged again once the corrected code is on the claim.
"""

from __future__ import annotations

import polars as pl

from checks._drug_lines import beside_home_drug, given_subcutaneously
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import (
    has_modifier,
    is_ig,
    with_codes,
    with_modifier_roles,
)
from scrubber.registry import Check, Context
from scrubber.schema import DIAGNOSIS_RE
from scrubber.text import dotted

_RISK_ROWS = pl.List(pl.Int64())
# The facts of a validity finding (the plan's schema, also when nothing is suspect).
_VALIDITY_SCHEMA: dict[str, pl.DataType] = {
    "row_id": pl.Int64(),
    "reason": pl.String(),
    "codes": pl.List(pl.String()),
    "malformed": pl.List(pl.String()),
    "release": pl.String(),
    "judged_by": pl.String(),
    "lines": pl.List(pl.Int32()),
    "risk_rows": _RISK_ROWS,
    "_rank": pl.Int8(),
}


def _setting(batch: pl.LazyFrame) -> pl.Expr:
    """home_sc, home_iv or other: at home, SCIG where the drug was given subcutaneously
    (:func:`checks._drug_lines.given_subcutaneously`, the pumps read in ``batch``)."""
    sc = given_subcutaneously(batch)
    return (
        pl.when(pl.col("is_home") & sc).then(pl.lit("home_sc"))
        .when(pl.col("is_home") | (_ivig_place_only() & ~sc)).then(pl.lit("home_iv"))
        .otherwise(pl.lit("other"))
    )


def _has_list() -> pl.Expr:
    """The line's policy names a covered list for its setting (after ``setting`` is derived). Without one
    (the office/outpatient list when no contractor article is configured) coverage is not evaluated:
    a list is never guessed."""
    setting = pl.col("setting")
    return (pl.when(setting == "home_iv").then(pl.col("pol_cov_home_iv"))
            .when(setting == "home_sc").then(pl.col("pol_cov_home_sc"))
            .otherwise(pl.col("pol_cov_other")))


def _may_have_list() -> pl.Expr:
    """A cheap superset of :func:`_has_list`, from the policy's flags alone (before ``setting`` is
    derived): a home line whose policy names a home list, or another line whose policy names an
    office/outpatient list. Filtered first, so the modifiers and the setting are derived on those
    lines only (the built-in policies name no office list: most IG lines go at once)."""
    home, ivig = pl.col("is_home").fill_null(False), _ivig_place_only()
    return ((home & (pl.col("pol_cov_home_iv") | pl.col("pol_cov_home_sc")).fill_null(False))
            | (ivig & pl.col("pol_cov_home_iv").fill_null(False))
            | (~home & pl.col("pol_cov_other").fill_null(False)))


def _ivig_place_only() -> pl.Expr:
    """A place of the policy's home IVIG benefit that is not one of its home places (``home_ivig_pos``
    beyond ``home_pos``: POS 32, a nursing facility): home IVIG there, any other product's line is an
    ``other`` line (the External Infusion Pumps benefit's home is ``home_pos``)."""
    return (pl.col("is_home_ivig") & ~pl.col("is_home")).fill_null(False)


def _list_names(ctx: Context) -> pl.LazyFrame:
    """(policy, setting, covered_list): the payer-facing name of the list(s) behind each policy setting."""
    rows = [
        (policy, setting, " or ".join(reference.covered_list_name(i, policy) for i in lists.split(", ")))
        for policy, setting, lists in ctx.coverage_lists.collect().iter_rows()
    ]
    schema = {"policy": pl.String(), "setting": pl.String(), "covered_list": pl.String()}
    return pl.DataFrame(rows, schema=schema, orient="row").lazy()


def _coverage(lines: pl.LazyFrame, ctx: Context, batch: pl.LazyFrame | None = None) -> pl.LazyFrame:
    """IG drug lines of ``lines`` none of whose diagnoses is on the covered list for their policy and
    setting (the pumps that tell a home setting SC read in ``batch``, default ``lines``)."""
    ig = with_modifier_roles(with_codes(lines.filter(is_ig() & _may_have_list()), "ig_route"))
    ig = ig.with_columns(_setting(lines if batch is None else batch).alias("setting"))
    # One set test per (policy, setting) list on the line's diagnoses: a handful of lists, so this
    # is cheaper than exploding every IG line's diagnoses and joining them to the lists.
    covered = pl.lit(False)
    for (policy, setting), codes in ctx.covered_sets().items():
        hit = pl.col("diagnoses").list.eval(pl.element().is_in(codes.implode())).list.any()
        covered = pl.when((pl.col("policy") == policy) & (pl.col("setting") == setting)).then(hit).otherwise(covered)
    no_benefit = reference.modifiers_with_role("declares_no_benefit")
    declaring = [*reference.modifiers_with_role("declares_noncovered"), *no_benefit]
    setting = pl.col("setting")
    home_ivig_medicare = (setting == "home_iv") & (pl.col("payer_kind") == "medicare")
    reason = (
        # GA/GZ declare "not reasonable and necessary"; home IVIG outside the benefit is no benefit
        # category, which only GY declares (RULES.md: "the fix is GY, never an ABN").
        pl.when(has_modifier(*declaring) & home_ivig_medicare & ~has_modifier(*no_benefit))
        .then(pl.lit("declared_abn_no_benefit"))
        .when(has_modifier(*declaring)).then(pl.lit("declared_noncovered"))
        .when(home_ivig_medicare).then(pl.lit("home_ivig_no_benefit"))
        .when(setting == "home_sc").then(pl.lit("home_scig_not_covered"))
        .otherwise(pl.lit("not_covered"))
    )
    dx = pl.col("diagnoses")
    return (
        with_codes(ig.filter(_has_list() & ~covered.fill_null(False)), "ig_product")  # derived after the filter
        .join(_list_names(ctx), on=["policy", "setting"], how="left")
        .select(
            "row_id",
            reason.alias("reason"),
            pl.col("ig_product").alias("product"),
            # The line's codes as people read them; a line without any says so (it covers nothing).
            pl.when(dx.list.len() > 0).then(dx.list.eval(dotted(pl.element())).list.join(", "))
            .otherwise(pl.lit("(none reported on the line)")).alias("dx"),
            "covered_list",
            pl.col("modifiers").list.eval(pl.element().filter(pl.element().is_in(declaring))).alias("declared"),
            pl.lit(1, pl.Int8).alias("_rank"),
        )
    )


def _with_items_at_risk(coverage: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """``coverage`` with ``risk_rows`` on its home findings: the drug line and the lines billed for it
    on its claim, or by its supplier for the patient and date (``enc_key``). Home SCIG: the external
    infusion pump and supply lines at home (MANIFEST ``external_infusion_pump``): the criteria are the
    drug's, and the payer denies them with it (probe 18E: their $750 was not counted, and they kept
    KX). Home IVIG outside the benefit: its home IVIG items and services lines of its date (Q2052, at
    the places of the home IVIG benefit): the benefit pays them for primary immune deficiency only
    (A52509, L33610, 42 USC 1395x(zz); probe 18E: the Q2052's $2,400 was not counted), paired as
    :func:`_q2052_of` says."""
    kinds = (("home_scig_not_covered", "is_home", reference.external_infusion_pump_codes()),
             ("home_ivig_no_benefit", "is_home_ivig", reference.home_ivig_supplies().get_column("code").to_list()))
    found = coverage.collect()  # (a few lines: the findings; read again below)
    at_home = pl.col("reason").is_in([kind for kind, _, _ in kinds])
    if not found.select(at_home.any()).item():  # (no home finding: no scan of the batch for its items)
        return found.lazy().with_columns(pl.lit(None, _RISK_ROWS).alias("risk_rows"))
    drugs = found.lazy().filter(at_home).select("row_id", "reason").join(
        lines.select("row_id", "claim_id", "enc_key"), on="row_id")
    # One scan for both kinds' items (codes outside the code table), split on the few lines found.
    items = lines.filter(pl.col("code_idx").is_null()).filter(
        pl.col("procedure_code").is_in([code for _, _, codes in kinds for code in codes])).select(
        "row_id", "claim_id", "enc_key", "member_id", "cob_layer", "procedure_code", "is_home", "is_home_ivig",
        "date_of_service").collect().lazy()
    scig, ivig = kinds
    pairs = pl.concat([
        beside_home_drug(
            items.filter(pl.col(scig[1]).fill_null(False) & pl.col("procedure_code").is_in(scig[2])),
            drugs.filter(pl.col("reason") == scig[0])),
        _q2052_of(items.filter(pl.col(ivig[1]).fill_null(False) & pl.col("procedure_code").is_in(ivig[2])),
                  drugs.filter(pl.col("reason") == ivig[0]), lines),
    ], how="diagonal_relaxed").select("row_id", "_item").unique()
    beside = pairs.sort("_item").group_by("row_id").agg(pl.col("_item").cast(pl.Int64).alias("_items"))
    return found.lazy().join(beside, on="row_id", how="left").with_columns(
        pl.when(at_home)
        .then(pl.concat_list(pl.col("row_id").cast(pl.Int64), pl.col("_items").fill_null(pl.lit([], _RISK_ROWS))))
        .cast(_RISK_ROWS).alias("risk_rows")).drop("_items")


def _q2052_of(supplies: pl.LazyFrame, uncovered: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` (the drug), ``_item`` (the Q2052): each home IVIG items-and-services line with the
    home IVIG drug line it serves, when that drug is one of ``uncovered``: the member's latest home IVIG
    drug line on or before its date in its payer layer (``cob_layer``: a next-payer copy's drug is the
    same drug sent again), within the window home-ig-supplies reads (``drug_window_days``: the drug
    delivered up to 30 days before the infusion; A52509, L33610). A Q2052 whose latest drug is covered
    is not at risk (probe 19E: a monthly claim's covered date); one the day after its uncovered drug is
    (probe 19F: a same-date rule lost it)."""
    window = int(reference.home_ivig_supplies().get_column("drug_window_days").max())
    members = supplies.select("member_id").unique()
    drugs = lines.filter(is_ig() & pl.col("is_home_ivig").fill_null(False)).join(
        members, on="member_id", how="semi").select(
        pl.col("row_id").alias("_drug"), "member_id", "cob_layer", pl.col("date_of_service").alias("_drug_dos")
    ).sort("_drug_dos")
    matched = supplies.select(pl.col("row_id").alias("_item"), "member_id", "cob_layer", "date_of_service").sort(
        "date_of_service").join_asof(drugs, left_on="date_of_service", right_on="_drug_dos",
                                     by=["member_id", "cob_layer"],
                                     strategy="backward", tolerance=f"{window}d",
                                     check_sortedness=False)  # (sorted above; by-groups cannot be checked)
    return matched.join(uncovered.select(pl.col("row_id").alias("_drug")), on="_drug").select(
        pl.col("_drug").alias("row_id"), "_item")


def home_scig_uncovered(lines: pl.LazyFrame, ctx: Context, batch: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` of the home SC immune globulin lines of ``lines`` whose diagnoses are off the covered
    list (reason ``home_scig_not_covered``; ``batch``: the lines they were read from): missing-modifier
    leaves their KX to this check (one root cause: the criteria are not met, the fix appends GA or GZ)."""
    return _coverage(lines, ctx, batch).filter(pl.col("reason") == "home_scig_not_covered").select("row_id")


def _unpointed(lines: pl.LazyFrame) -> pl.DataFrame:
    """``row_id``, ``code``: per line of a claim that lists its own diagnoses (``claim_diagnoses``: X12
    HI, a JSON claim's list), each code of that list no line of the claim points to. A payer validates
    them all (CGS Part B ICD-10 edits: "regardless of pointer definition in SV107"): an invalid one no
    line pointed to passed (probe 17A). CSV lines carry none: nothing to do for them."""
    held = lines.filter(pl.col("claim_diagnoses").list.len() > 0).select(
        "row_id", "claim_id", "claim_diagnoses", "diagnoses")
    claims = held.group_by("claim_id").agg(
        pl.col("claim_diagnoses").first(),
        pl.col("diagnoses").list.explode(keep_nulls=False, empty_as_null=False).unique().alias("_pointed"))
    codes = claims.select("claim_id", pl.col("claim_diagnoses").list.set_difference("_pointed").alias("code")) \
        .filter(pl.col("code").list.len() > 0)
    return held.select("row_id", "claim_id").join(codes, on="claim_id").explode("code").select(
        "row_id", "code").unique().collect()


def _suspects(lines: pl.LazyFrame, more: pl.Series) -> tuple[pl.DataFrame, list[int]]:
    """The batch's diagnosis values that may be invalid somewhere in it (``more``: the codes of the
    claims no line points to, :func:`_unpointed`), with ``malformed`` and ``billable`` (bit per release,
    :func:`scrubber.reference.icd10_billable_bits`), and the releases in force on the batch's dates.
    Distinct values only: a few hundred, whatever the batch size."""
    values, dates = pl.collect_all([
        lines.select(pl.col("diagnoses").explode().drop_nulls().unique().alias("code")),
        lines.select(pl.col("date_of_service").min().alias("first"), pl.col("date_of_service").max().alias("last")),
    ])
    first, last = dates.row(0)
    releases = reference.icd10_releases_for_dates(first, last)
    codes = pl.concat([values.get_column("code"), more.alias("code")]).unique()
    nxt = reference.icd10_next()
    # A category of the newest release is suspect only where a date of the batch is in the next one.
    judged = (nxt is not None and first is not None and last is not None
              and first <= nxt["effective_to"] and last >= nxt["effective_from"])
    category = (pl.col("code").is_in(reference.icd10_categories(nxt["judged_by_key"]).implode()) if judged
                else pl.lit(False))
    bits = reference.icd10_billable_bits(codes, releases).with_columns(
        (~pl.col("code").str.contains(DIAGNOSIS_RE)).alias("malformed"), category.alias("category_next"))
    every = sum(1 << i for i in releases)
    suspect = bits.filter(pl.col("malformed") | pl.col("category_next")
                          | ((pl.col("billable") & pl.lit(every, pl.UInt64)) != every))
    return suspect, releases


def _flat(column: str) -> pl.Expr:
    """The distinct values of a list column over a group, sorted (an aggregation)."""
    return pl.col(column).list.explode(keep_nulls=False, empty_as_null=False).unique().sort()


def _validity(lines: pl.LazyFrame) -> pl.LazyFrame:
    """One finding per claim and invalid or malformed diagnosis, merged per anchor line."""
    unpointed = _unpointed(lines)
    suspect, releases = _suspects(lines, unpointed.get_column("code"))
    if suspect.height == 0:
        return pl.DataFrame(schema=_VALIDITY_SCHEMA).lazy()
    names = reference.icd10_releases().get_column("release")
    values = suspect.get_column("code").implode()
    release = pl.col("icd10_release")
    # The line's release as its bit of ``billable`` (releases number < 64: MANIFEST fiscal years).
    bit = release.replace_strict(pl.Series(releases, dtype=pl.UInt8),
                                 pl.Series([1 << i for i in releases], dtype=pl.UInt64),
                                 default=pl.lit(0, pl.UInt64))
    nxt = reference.icd10_next()
    held = ["row_id", "claim_id", "line_number", is_ig().alias("_ig"), reference.icd10_release_index(),
            reference.icd10_in_next().alias("_next")]
    pointing = (
        lines.filter(pl.col("diagnoses").list.eval(pl.element().is_in(values)).list.any())
        .select(*held, pl.col("diagnoses").alias("code"))
        .explode("code")
        .with_columns(pl.lit(True).alias("_points"))
    )
    if unpointed.height:  # (each line of the claim holds them: the claim is what the payer rejects)
        on_claim = lines.filter(pl.col("row_id").is_in(unpointed.get_column("row_id").unique().implode())).select(
            *held).join(unpointed.lazy(), on="row_id").with_columns(pl.lit(False).alias("_points"))
        pointing = pl.concat([pointing, on_claim.select(pointing.collect_schema().names())])
    pointing = (
        pointing
        .join(suspect.lazy(), on="code", how="inner")
        .filter(
            pl.col("malformed")
            | (release.is_not_null() & ((pl.col("billable") & bit) == 0))
            | (pl.col("_next") & pl.col("category_next"))
        )
        .with_columns(
            pl.when(pl.col("_next")).then(pl.lit(nxt["release"] if nxt else None, pl.String))
            .otherwise(release.replace_strict(pl.Series(range(names.len()), dtype=pl.UInt8), names, default=None))
            .alias("release"),
            pl.when(pl.col("_next")).then(pl.lit(nxt["judged_by"] if nxt else None, pl.String)).alias("judged_by"),
        )
    )
    shown = pl.when(pl.col("malformed")).then(pl.col("code")).otherwise(dotted(pl.col("code")))
    per_code = pointing.group_by("claim_id", "code").agg(
        # Anchored on the first IG drug line that points to the code (the line the coverage rule is
        # about), else on the first line that does.
        pl.col("row_id").sort_by(~pl.col("_ig"), "line_number").first(),
        pl.col("release").sort_by(~pl.col("_ig"), "line_number").first(),
        pl.col("judged_by").sort_by(~pl.col("_ig"), "line_number").first(),
        pl.col("row_id").unique().alias("_rows"),
        pl.col("line_number").filter("_points").unique().alias("_lines"),
        pl.col("_points").any(),
        pl.col("malformed").first(),
        shown.first().alias("_shown"),
    )
    return per_code.group_by("row_id").agg(
        # (a code no line points to: the claim's, in words of its own; beside a pointed one, that one's)
        pl.when(~pl.col("_points").any()).then(pl.lit("unpointed_invalid_code"))
        .when(pl.col("malformed").any()).then(pl.lit("malformed_code"))
        .when(pl.col("judged_by").is_not_null().any()).then(pl.lit("invalid_code_category"))
        .otherwise(pl.lit("invalid_code")).first().alias("reason"),
        pl.col("_shown").sort().alias("codes"),
        pl.col("_shown").filter(pl.col("malformed")).sort().alias("malformed"),
        pl.col("release").drop_nulls().first(),
        pl.col("judged_by").drop_nulls().first(),
        _flat("_lines").cast(pl.Int32).alias("lines"),
        _flat("_rows").cast(pl.Int64).alias("risk_rows"),
        pl.lit(0, pl.Int8).alias("_rank"),
    ).select(list(_VALIDITY_SCHEMA)).cast(_VALIDITY_SCHEMA)


def _number_words() -> list[pl.Expr]:
    """The words that agree with how many codes a validity finding names ("Diagnosis D80 is a
    category", "Diagnoses D80, G35 are categories"): facts ``dx_noun``, ``dx_noun_lc``, ``dx_verb``,
    ``dx_code``, ``dx_valid``, ``dx_category``, ``dx_it`` (null on coverage findings, whose words name one line)."""
    several = pl.col("codes").list.len() > 1

    def pick(one: str, many: str) -> pl.Expr:
        return pl.when(pl.col("codes").is_null()).then(pl.lit(None, pl.String)).when(several).then(
            pl.lit(many)).otherwise(pl.lit(one))

    return [pick("Diagnosis", "Diagnoses").alias("dx_noun"), pick("diagnosis", "diagnoses").alias("dx_noun_lc"),
            pick("is", "are").alias("dx_verb"),
            pick("a billable ICD-10-CM code", "billable ICD-10-CM codes").alias("dx_code"),
            pick("a valid ICD-10-CM code", "valid ICD-10-CM codes").alias("dx_valid"),
            pick("a category", "categories").alias("dx_category"), pick("it", "them").alias("dx_it")]


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    validity = _validity(lines)
    # A line pointing to an invalid code is judged for coverage once the corrected code is on the claim:
    # every such line (risk_rows), not only the one the validity finding sits on (line 1 of two home
    # IVIG lines pointing to G35 had no coverage finding, line 2 had one; probe 16D).
    # (a code no line points to leaves the lines' own coverage to be judged: their diagnoses stand)
    pointing = validity.filter(pl.col("reason") != "unpointed_invalid_code").select(
        pl.col("risk_rows").explode().alias("row_id")).drop_nulls()
    coverage = _with_items_at_risk(_coverage(lines, ctx).join(pointing, on="row_id", how="anti"), lines)
    both = pl.concat([validity, coverage], how="diagonal_relaxed")
    # One finding per line: the validity finding (rank 0) wins over coverage (rank 1).
    return both.sort("row_id", "_rank").unique("row_id", keep="first", maintain_order=True).drop(
        "_rank").with_columns(_number_words())


def _outside_releases() -> pl.Expr:
    """True where the line has diagnoses and its date of service is in no shipped ICD-10-CM release
    (:func:`scrubber.reference.icd10_outside_releases`; a null date is in none): validity not evaluated."""
    return (pl.col("diagnoses").list.len() > 0) & reference.icd10_outside_releases()


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines with diagnoses dated outside every shipped ICD-10-CM release (validity not evaluated), and
    IG lines whose policy names no covered list for their setting (coverage not evaluated).

    The setting of a home line (SC or IV: the route, JA/JB, the administration billed) matters only
    where its policy names a list for one home setting and not the other: every other IG line is
    decided by its policy's flags, and only those few lines have their modifiers read (the IG
    lines' modifiers and route for every home line cost 0.04 s of CPU of 2M lines)."""
    outside = _outside_releases()
    ig = is_ig() & ~outside
    home = pl.col("is_home").fill_null(False)
    # At home, a line is home_sc when it is SC (:func:`_setting`; a null test is home_iv), so it
    # lacks a list when the flag of its home setting is false; with both flags alike, the route does
    # not matter (``eq_missing``: a null flag is alike only to a null one, and leaves the line out).
    # At a home IVIG place that is not a home place (POS 32) the route decides home_iv or other.
    alike = _pol_cov("home_iv").eq_missing(_pol_cov("home_sc"))
    differ = with_modifier_roles(with_codes(lines.filter(ig & ((home & ~alike) | _ivig_place_only())),
                                            "ig_route")).with_columns(_setting(lines).alias("setting"))
    differ = differ.filter(~_has_list()).select(lines.collect_schema().names())
    # The other lines in one filter (the cases exclude each other; a null flag leaves a line out):
    # outside the releases; IG away from home, where the setting is ``other`` whatever the route;
    # IG at home with both home flags alike.
    decided = outside | (ig & ((~home & ~_ivig_place_only() & ~_pol_cov("other"))
                               | (home & alike & ~_pol_cov("home_iv"))))
    return pl.concat([lines.filter(decided), differ])


def _pol_cov(setting: str) -> pl.Expr:
    """The line's policy names a covered list for ``setting`` (home_iv, home_sc, other)."""
    return pl.col(f"pol_cov_{setting}")


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated)
