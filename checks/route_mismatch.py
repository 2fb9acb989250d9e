"""route-mismatch: the administration billed and the immune globulin's route disagree.

**route-mismatch** (error). Within one encounter, an IG drug whose route has no matching
administration while a conflicting one is billed: an SC-only IG code with IV infusion administration
(96365/96366/96367) and no SC administration (96369/96370/96371); an IV-only IG code with SC
administration or 96372 and no IV infusion administration; an IG code whose only administration is IV
push (96374/96375/96376): immune globulin is never a push; or hydration (96360/96361): the hydration
codes report pre-packaged fluid and electrolytes, "not used to report infusion of drugs or other
substances" (Noridian, Billing and Coding: Hydration Services). Also a documented `route` or a JA/JB
modifier that contradicts the administration billed (IM or PUSH on an IG: it is infused). Where the
IG line documents the route the administration billed, and only that route (route IV or JA beside IV
infusion for an SC-only product, route SC or JB beside SC administration for an IV-only one), the
drug code is what
disagrees with the record: the fix leads with the drug code, and recodes the administration only if
the record is amended. A claim with
no administration codes (a home DME claim) has no administration to compare; at home a JA on an
SC-only product, or a JB on an IV-only one, still names a route the drug's code does not take, and the
drug line is at risk (A52507 adds JB to the codes given subcutaneously, no modifier to other routes).
**Warning**: an IG drug whose only administration is chemotherapy administration (96401-96417): immune
globulin is paid as a therapeutic infusion (96365) by most contractors, not as chemotherapy.

Implementation. Everything is data: the IG codes and their route (IV, SC, IV_SC) come from
``immune_globulins.csv``, what each administration code says about the route from
``admin_codes.csv`` (``route_evidence``: iv_infusion, sc_infusion, injection, push; chemotherapy
administration is the ``chemo`` family, 96401-96417; ``documented_routes``: the routes that agree
with a code on its own line). Enrichment gives every line its encounter's ``enc_admin_mask``
(RULES.md "Encounter": a professional claim's member, date and billing provider; an institutional
claim), so each rule is a bit test on the IG line, with no join: filter first (IG lines, and
administration lines that document a route), decide, then only for the few flagged lines find
the administration lines of their encounter that conflict (``risk_rows``: the charges at risk
are those administration lines, which the payer denies as inconsistent coding, not the drug).
Reasons, first that applies: ``sc_product_documented_iv``, ``iv_product_documented_sc`` (the record on
the IG line agrees with the administration billed, not with the product; probe 16D: recoding the
administration against the record gave four new findings), ``sc_product_iv_admin``,
``iv_product_sc_admin``, ``ig_as_push`` (the
fix names the infusion codes of the product's route only, ``infusion_codes``: an IV-only product is
never given by SC infusion), ``ig_as_hydration`` (hydration the only administration: at risk, the
hydration lines),
``documented_push`` / ``documented_im`` (an IG line documented PUSH or IM while administration is billed),
``documented_sc_iv_product`` / ``documented_iv_sc_product`` (an IV-only or SC-only product whose
administration agrees with it, documented the other way: the fix corrects the record or the drug
code, never the administration, which would give ``iv_product_sc_admin`` back; when the drug line's
own JB / JA says it, the payer denies the drug line for a modifier its code does not take, so that
line is at risk, else the administration the record contradicts),
``documented_iv_sc_billed`` / ``documented_sc_iv_billed`` (route IV/SC or JA/JB on the IG line
against the administration billed, IV/SC products), ``modifier_iv_sc_product`` /
``modifier_sc_iv_product`` (a JA on an SC-only product, a JB on an IV-only one, where the encounter
bills no administration: the drug line at risk; a route written only in the record, which the payer
does not see, is left alone there), ``route_vs_own_code`` (an administration line
whose documented route its own code does not describe), then the warning ``chemo_admin_only``.

"Only administration" is read as the administration that can be the immune globulin's: IV push
codes billed beside a chemotherapy infusion (premedication pushes) do not stop the chemotherapy
warning, and hydration (96360/96361, no route evidence) stops neither it nor ``ig_as_push``; an
IG with pushes only, or pushes and hydration, is ``ig_as_push``.
"""

from __future__ import annotations

import polars as pl

from checks._first_rule import first_rule, rule_value
from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import (
    checked_admin_masks,
    code,
    code_is,
    codes_text,
    documented_iv,
    documented_sc,
    rejected_codes_in_masks,
    with_codes,
    with_modifier_roles,
)
from scrubber.registry import Check, Context


def _bits() -> dict[str, int]:
    """The administration codes, as bit masks, that show each route (admin_codes.csv)."""
    bits = {e: reference.route_evidence_bits(e) for e in ("iv_infusion", "sc_infusion", "injection", "push")}
    bits["chemo"] = reference.admin_bits(reference.admin_codes_where(family="chemo"))
    bits["hydration"] = reference.admin_bits(reference.admin_codes_where(family="hydration"))
    return bits


def _has(bits: int) -> pl.Expr:
    """The encounter bills an administration of ``bits`` (a mask of administration codes)."""
    return (pl.col("enc_admin_mask") & pl.lit(bits, pl.UInt64)) != 0


def _rules(b: dict[str, int]) -> list[tuple[str, pl.Expr, int]]:
    """(reason, condition, the administration it conflicts with as a mask; 0 = the line itself), in
    order of precedence: a line gets the first that applies."""
    mask = pl.col("enc_admin_mask")
    iv, sc, inj, push, chemo = b["iv_infusion"], b["sc_infusion"], b["injection"], b["push"], b["chemo"]
    hydration = b["hydration"]
    ig = pl.col("ig_route").is_not_null()
    ig_route, route = pl.col("ig_route"), pl.col("route")
    doc_iv, doc_sc = documented_iv(), documented_sc()
    own = _own_code_conflict()
    home = pl.col("is_home").fill_null(False)
    given = iv | sc | inj | push | chemo  # administration that says how a drug was given (not hydration)
    return [
        # The record documents the route the administration billed, and the product is the other one:
        # the drug code is what disagrees (recoding the administration against the record was the fix).
        # (the line's record says one route only: route SC with a JA is a wrong modifier, not an IV record)
        ("sc_product_documented_iv", ig & (ig_route == "SC") & doc_iv & ~doc_sc & _has(iv) & ~_has(sc), iv),
        ("iv_product_documented_sc", ig & (ig_route == "IV") & doc_sc & ~doc_iv & _has(sc | inj) & ~_has(iv),
         sc | inj),
        ("sc_product_iv_admin", ig & (ig_route == "SC") & _has(iv) & ~_has(sc), iv),
        ("iv_product_sc_admin", ig & (ig_route == "IV") & _has(sc | inj) & ~_has(iv), sc | inj),
        ("ig_as_push", ig & _has(push) & ~_has(iv | sc | inj | chemo), push),
        ("ig_as_hydration", ig & _has(hydration) & ~_has(iv | sc | inj | push | chemo), hydration),
        ("documented_push", ig & (route == "PUSH") & (mask != 0), given),
        ("documented_im", ig & (route == "IM") & (mask != 0), given),
        # A one-route product whose administration agrees with it, documented the other way: the record
        # (or the drug code) is wrong, not the administration (changing it would give the rule above).
        ("documented_sc_iv_product", ig & (ig_route == "IV") & doc_sc & _has(iv) & ~_has(sc), iv),
        ("documented_iv_sc_product", ig & (ig_route == "SC") & doc_iv & _has(sc | inj) & ~_has(iv), sc | inj),
        ("documented_iv_sc_billed", ig & doc_iv & _has(sc | inj) & ~_has(iv), sc | inj),
        ("documented_sc_iv_billed", ig & doc_sc & _has(iv) & ~_has(sc), iv),
        # No administration billed in the encounter of a home claim (the DME MAC's): the line's own JA/JB
        # still names a route its code does not take, and the payer denies the drug line for it (A52507).
        # (elsewhere JA/JB are the DME MAC's convention, not a denial by an A/B contractor: probe 18D)
        ("modifier_iv_sc_product", ig & (ig_route == "SC") & pl.col("has_route_iv_modifier")
         & ~pl.col("has_route_sc_modifier") & (mask == 0) & home, 0),
        ("modifier_sc_iv_product", ig & (ig_route == "IV") & pl.col("has_route_sc_modifier")
         & ~pl.col("has_route_iv_modifier") & (mask == 0) & home, 0),
        ("route_vs_own_code", own, 0),
        ("chemo_admin_only", ig & _has(chemo) & ~_has(iv | sc | inj), chemo),
    ]


def _may_conflict(b: dict[str, int]) -> pl.Expr:
    """A superset of the lines some rule of :func:`_rules` flags, from integer tests and route values
    alone (no list column, no modifier): filtered first, the rules' list and modifier work runs on
    the third of the lines left. Each rule's conditions imply one term here."""
    mask = pl.col("enc_admin_mask")
    iv, sc, inj, push, chemo = b["iv_infusion"], b["sc_infusion"], b["injection"], b["push"], b["chemo"]
    ig = code_is(ig_route=None) & (
        (_has(sc | inj) & ~_has(iv))  # iv_product_sc_admin, documented_iv_sc_billed
        | (_has(iv) & ~_has(sc))  # sc_product_iv_admin, documented_sc_iv_billed
        | (_has(push) & ~_has(iv | sc | inj | chemo))  # ig_as_push
        | (_has(b["hydration"]) & ~_has(iv | sc | inj | push | chemo))  # ig_as_hydration
        | (pl.col("route").is_in(["PUSH", "IM"]).fill_null(False) & (mask != 0))  # documented_push, _im
        | (_has(chemo) & ~_has(iv | sc | inj))  # chemo_admin_only
        | ((mask == 0) & pl.col("is_home").fill_null(False))  # modifier_iv_sc_product, _sc_iv_ (home)
    )
    return ig | _own_code_conflict()


def _own_code_conflict() -> pl.Expr:
    """``route_vs_own_code`` without the list column: an administration line with a documented
    ``route`` that is none of the routes its code describes (per route, the codes that describe it)."""
    lists = reference.code_table().get_column("adm_documented_routes").to_list()
    routes = sorted({r for described in lists if described for r in described})
    route = pl.col("route")
    agrees: pl.Expr = pl.lit(False)
    for r in routes:
        codes = pl.Series([i for i, described in enumerate(lists) if described and r in described], dtype=pl.UInt8)
        agrees = agrees | ((route == r) & pl.col("code_idx").is_in(codes.implode()))
    return code_is(adm_documented_routes=None) & route.is_not_null() & ~agrees


def _infusion_codes() -> pl.Expr:
    """Per IG line, the infusion codes its route is billed with (first hour, each additional hour):
    "96365, 96366" for an IV product, "96369, 96370" for an SC one, both for IV/SC products. From
    ``admin_codes.csv``: the initial code whose route evidence is IV or SC infusion, and its hour code."""
    table = reference.code_table().filter(pl.col("adm_role") == "initial")
    codes = {}
    for evidence in ("iv_infusion", "sc_infusion"):
        row = table.filter(pl.col("adm_route_evidence") == evidence).row(0, named=True)
        codes[evidence] = f"{row['procedure_code']}, {row['adm_addon_hour_code']}"
    iv, sc = codes["iv_infusion"], codes["sc_infusion"]
    return pl.col("ig_route").replace_strict({"IV": iv, "SC": sc, "IV_SC": f"{iv} or {sc}"}, default=None,
                                             return_dtype=pl.String)


def _route_modifier(role: str) -> pl.Expr:
    """The line's modifiers of ``role`` (route_iv: JA; route_sc: JB), as text."""
    modifiers = reference.modifiers_with_role(role)
    return pl.col("modifiers").list.eval(pl.element().filter(pl.element().is_in(modifiers))).list.join(" ")


def _documented(route: str, role: str) -> pl.Expr:
    """How the line documents a route: its ``route`` value when that is ``route``, else its JA/JB."""
    return pl.when(pl.col("route") == route).then(pl.lit(route)).otherwise(_route_modifier(role))


def _conflicting_lines(flagged: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """Per flagged line: ``risk_rows`` (the conflicting administration lines of its encounter; the
    line itself for ``route_vs_own_code``) and ``admin_lines`` (them, by line, and claim when another)."""
    keys = flagged.select("row_id", "claim_id", "enc_key", "_conflict")
    admin = lines.filter(code_is(adm_role=None)).select(
        "enc_key", pl.col("row_id").alias("_admin_row"), pl.col("claim_id").alias("_admin_claim"),
        pl.col("line_number").alias("_admin_line"), "code_idx")
    pairs = keys.join(admin, on="enc_key", how="inner").with_columns(code("adm_bit")).filter(
        ((pl.col("_conflict") & pl.col("adm_bit")) != 0)
        | ((pl.col("_conflict") == 0) & (pl.col("_admin_row") == pl.col("row_id")))
    )
    label = (
        pl.when(pl.col("_admin_claim") == pl.col("claim_id"))
        .then(pl.format("line {}", pl.col("_admin_line")))
        .otherwise(pl.format("claim {} line {}", pl.col("_admin_claim"), pl.col("_admin_line")))
    )
    return pairs.sort("_admin_claim", "_admin_line", "_admin_row").group_by("row_id").agg(
        pl.col("_admin_row").alias("risk_rows"),
        label.alias("admin_lines"),
    )


def _decided(lines: pl.LazyFrame, b: dict[str, int], rules: list[tuple[str, pl.Expr, int]]) -> pl.LazyFrame:
    """The candidate lines with ``_rule`` (the first rule that applies, null for none) and ``_guess``:
    the rule reads what the encounter bills or lacks, and a row of the encounter could not be read
    (enrich: ``enc_unreadable``): such lines are not evaluated rather than flagged on a guess. Only
    the line's own code against its documented route reads nothing else."""
    candidates = lines.filter(_may_conflict(b))
    candidates = with_modifier_roles(with_codes(candidates, "ig_route", "adm_documented_routes"))
    # Decide on every candidate as a small integer (the first rule that applies); name the reason
    # and derive the facts on the flagged lines only (strings for every candidate cost seconds).
    rule = first_rule([condition for _, condition, _ in rules])
    own_code = [reason for reason, _, _ in rules].index("route_vs_own_code")
    decided = candidates.with_columns(rule.alias("_rule")).filter(pl.col("_rule").is_not_null())
    if not rejected_codes_in_masks(lines):  # (the usual batch: the masks hold checked lines' codes only)
        return decided.with_columns((pl.col("enc_unreadable") & (pl.col("_rule") != own_code)).alias("_guess"))
    # (collected: the few lines a rule flags; the second decision below joins them to their encounters,
    # where there are any: an empty left join panicked in Polars' streaming engine)
    decided = decided.collect()
    if not decided.height:
        return decided.lazy().with_columns(pl.lit(False).alias("_guess"))
    decided = decided.lazy()
    # A rejected row's readable code is in ``enc_admin_mask`` (it anchors add-ons: enrich
    # _with_rejected_codes), but it is no evidence for a finding (probe 18B: a rejected 96365 beside a
    # home J1559 made a route error, its words naming "[admin lines?]"). Decided again on the checked
    # lines' codes of these few encounters: where the two disagree the line is not evaluated, and the
    # words name the checked lines' codes only.
    decided = decided.join(checked_admin_masks(lines, decided), on="enc_key", how="left").with_columns(
        pl.col("checked_admin_mask").fill_null(0).cast(pl.UInt64).alias("enc_admin_mask"))
    decided = decided.with_columns(rule.alias("_rule_checked"))
    return decided.with_columns(
        ((pl.col("enc_unreadable") | pl.col("_rule").ne_missing(pl.col("_rule_checked")))
         & (pl.col("_rule") != own_code)).alias("_guess")).drop("checked_admin_mask", "_rule_checked")


# The reasons whose fix replaces the conflicting administration lines with the infusion codes of the
# product's route (the first hour and each additional hour): the units those lines bill go with them.
REPLACING = ("sc_product_iv_admin", "iv_product_sc_admin", "ig_as_push", "ig_as_hydration")


def replaced_administration(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``row_id`` of the administration lines this check's fix replaces (:data:`REPLACING`): their code
    and units are recoded here, so duplicate-initial-infusion does not also fix them ("96369 x1 and
    96370 x1" beside "replace 96369 with 96365, 96366" for an IVIG: one root cause, the route)."""
    b = _bits()
    rules = _rules(b)
    names = [reason for reason, _, _ in rules]
    # (also where a row of the encounter could not be read and this check leaves the line unevaluated: a
    # bad row must not turn the replaced line into another check's finding)
    flagged = _decided(lines, b, rules).filter(
        pl.col("_rule").is_in([names.index(r) for r in REPLACING])).with_columns(
        rule_value(pl.col("_rule"), [conflict for _, _, conflict in rules], pl.UInt64()).alias("_conflict"))
    return _conflicting_lines(flagged, lines).select(pl.col("risk_rows").explode().alias("row_id")).unique()


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Lines a rule would flag from what an encounter with an unreadable row bills or lacks, or only
    from a rejected row's code (probe 18F: such a line was neither flagged nor counted)."""
    rejected = rejected_codes_in_masks(lines)
    # (decided now: the flag is set on a few encounters of a batch, if any; the rules only run there)
    if not rejected and not lines.select(pl.col("enc_unreadable").any()).collect().item():
        return pl.LazyFrame(schema={"row_id": pl.Int64})
    b = _bits()
    scope = lines if rejected else lines.filter(pl.col("enc_unreadable"))
    return _decided(scope, b, _rules(b)).filter("_guess").select("row_id")


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    b = _bits()
    rules = _rules(b)
    flagged = _decided(lines, b, rules).filter(~pl.col("_guess")).with_columns(
        rule_value(pl.col("_rule"), [reason for reason, _, _ in rules], pl.String()).alias("reason"),
        rule_value(pl.col("_rule"), [conflict for _, _, conflict in rules], pl.UInt64()).alias("_conflict"),
    )
    # Text facts of the code on the flagged lines only (derived after the filter).
    flagged = with_codes(flagged, "ig_product", "adm_description").with_columns(
        (pl.col("enc_admin_mask") & pl.col("_conflict")).alias("_billed"))
    # The reasons whose IG line documents IV / SC: of a one-route product, or of an IV/SC product billed
    # the other way (only the former's own JA/JB puts the drug line at risk, below).
    product_iv = ["documented_iv_sc_product", "sc_product_documented_iv"]
    product_sc = ["documented_sc_iv_product", "iv_product_documented_sc"]
    says_iv, says_sc = ["documented_iv_sc_billed", *product_iv], ["documented_sc_iv_billed", *product_sc]
    documented = (
        pl.when(pl.col("reason").is_in(says_iv))
        .then(_documented("IV", "route_iv"))
        .when(pl.col("reason").is_in(says_sc))
        .then(_documented("SC", "route_sc"))
        .when(pl.col("reason") == "modifier_iv_sc_product")
        .then(_route_modifier("route_iv"))
        .when(pl.col("reason") == "modifier_sc_iv_product")
        .then(_route_modifier("route_sc"))
        .otherwise(pl.col("route"))
    )
    facts = flagged.select(
        "row_id",
        "reason",
        "claim_id",
        "enc_key",
        "_conflict",
        pl.col("ig_product").alias("product"),
        pl.when(pl.col("_conflict") == 0).then(pl.col("procedure_code")).otherwise(codes_text("_billed"))
        .alias("billed"),
        documented.alias("documented"),
        pl.col("adm_documented_routes").list.join(" or ").alias("agrees"),
        pl.col("adm_description").alias("kind"),
        _infusion_codes().alias("infusion_codes"),
        # A one-route product whose JA/JB on its own line says the other route: the payer sees a
        # modifier its code does not take and denies the drug line (CARC 4), not the administration
        # that agrees with the product; a route written only in the record leaves the administration
        # the record contradicts at risk.
        ((pl.col("reason").is_in(product_sc) & pl.col("has_route_sc_modifier"))
         | (pl.col("reason").is_in(product_iv) & pl.col("has_route_iv_modifier"))
         | pl.col("reason").is_in(["modifier_iv_sc_product", "modifier_sc_iv_product"])).alias("_own_line"),
        # The route modifier the fix removes or changes, where the line carries it (probe 21A: "a JB
        # on line 3 is removed" of a line carrying JZ only).
        pl.when(pl.col("reason").is_in(product_sc) & pl.col("has_route_sc_modifier")).then(pl.format(
            "; a JB on claim {}, line {} is removed: JA and JB tell the route of a code given both ways, and {} "
            "is intravenous only", "claim_id", "line_number", "procedure_code"))
        .when(pl.col("reason").is_in(product_iv) & pl.col("has_route_iv_modifier")).then(pl.format(
            "; a JA on claim {}, line {} becomes JB", "claim_id", "line_number"))
        .otherwise(pl.lit("")).alias("modifier_note"),
    )
    conflicting = _conflicting_lines(facts, lines)
    return facts.join(conflicting, on="row_id", how="left").select(
        "row_id", "reason", "product", "billed", "documented", "agrees", "kind", "infusion_codes", "modifier_note",
        pl.col("admin_lines").list.join(", "),
        pl.when(pl.col("_own_line")).then(pl.concat_list("row_id")).otherwise(pl.col("risk_rows"))
        .cast(pl.List(pl.Int64)).alias("risk_rows"),
    )


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated)
