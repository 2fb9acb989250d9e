"""route-mismatch: the administration billed and the immune globulin's route disagree.

**route-mismatch** (error). Within one encounter, an IG drug whose route has no matching
administration while a conflicting one is billed: an SC-only IG code with IV infusion administration
(96365/96366/96367) and no SC administration (96369/96370/96371); an IV-only IG code with SC
administration or 96372 and no IV infusion administration; an IG code whose only administration is IV
push (96374/96375/96376): immune globulin is never a push. Also a documented `route` or a JA/JB
modifier that contradicts the administration billed. A claim with no administration codes (a home DME
claim) has nothing to compare. **Warning**: an IG drug whose only administration is chemotherapy
administration (96401-96417): immune globulin is paid as a therapeutic infusion (96365) by most
contractors, not as chemotherapy.

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
Reasons, first that applies: ``sc_product_iv_admin``, ``iv_product_sc_admin``, ``ig_as_push``,
``documented_push`` (an IG line documented PUSH while administration is billed),
``documented_iv_sc_billed`` / ``documented_sc_iv_billed`` (route IV/SC or JA/JB on the IG line
against the administration billed, any IG code), ``route_vs_own_code`` (an administration line
whose documented route its own code does not describe), then the warning ``chemo_admin_only``.

"Only administration" is read as the administration that can be the immune globulin's: IV push
codes billed beside a chemotherapy infusion (premedication pushes) do not stop the chemotherapy
warning, and hydration (96360/96361, no route evidence) stops neither it nor ``ig_as_push``; an
IG with pushes only, or pushes and hydration, is ``ig_as_push``.
"""

from __future__ import annotations

import polars as pl

from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import (
    code,
    code_is,
    codes_text,
    has_modifier,
    with_codes,
)
from scrubber.registry import Check, Context


def _bits() -> dict[str, int]:
    """The administration codes, as bit masks, that show each route (admin_codes.csv)."""
    bits = {e: reference.route_evidence_bits(e) for e in ("iv_infusion", "sc_infusion", "injection", "push")}
    bits["chemo"] = reference.admin_bits(reference.admin_codes_where(family="chemo"))
    return bits


def _has(bits: int) -> pl.Expr:
    """The encounter bills an administration of ``bits`` (a mask of administration codes)."""
    return (pl.col("enc_admin_mask") & pl.lit(bits, pl.UInt64)) != 0


def _rules(b: dict[str, int]) -> list[tuple[str, pl.Expr, int]]:
    """(reason, condition, the administration it conflicts with as a mask; 0 = the line itself), in
    order of precedence: a line gets the first that applies. Integer tests on ``code_idx`` and
    ``enc_admin_mask``, the ``route`` value and JA/JB: no column is derived for them."""
    mask = pl.col("enc_admin_mask")
    iv, sc, inj, push, chemo = b["iv_infusion"], b["sc_infusion"], b["injection"], b["push"], b["chemo"]
    ig = _ig()
    route = pl.col("route")
    doc_iv = (route == "IV").fill_null(False) | has_modifier(*reference.modifiers_with_role("route_iv"))
    doc_sc = (route == "SC").fill_null(False) | has_modifier(*reference.modifiers_with_role("route_sc"))
    return [
        ("sc_product_iv_admin", code_is(ig_route="SC") & _has(iv) & ~_has(sc), iv),
        ("iv_product_sc_admin", code_is(ig_route="IV") & _has(sc | inj) & ~_has(iv), sc | inj),
        ("ig_as_push", ig & _has(push) & ~_has(iv | sc | inj | chemo), push),
        ("documented_push", ig & (route == "PUSH") & (mask != 0), iv | sc | inj | push | chemo),
        ("documented_iv_sc_billed", ig & doc_iv & _has(sc | inj) & ~_has(iv), sc | inj),
        ("documented_sc_iv_billed", ig & doc_sc & _has(iv) & ~_has(sc), iv),
        ("route_vs_own_code", _own_code_conflict(), 0),
        ("chemo_admin_only", ig & _has(chemo) & ~_has(iv | sc | inj), chemo),
    ]


def _ig() -> pl.Expr:
    """An immune globulin with a route (``immune_globulins.csv``): every rule but ``route_vs_own_code``
    is about these lines."""
    return code_is(ig_route=None)


def _flagged(lines: pl.LazyFrame, rules: list[tuple[str, pl.Expr, int]]) -> pl.LazyFrame:
    """The lines some rule flags, with ``_rule``: the number of the first rule that applies.

    Filter first, decide after. A filter's condition is evaluated on every row (and a second filter
    is merged into the first), so the rules are a column of the immune globulin lines (a quarter of
    the lines); of the other lines only ``route_vs_own_code`` can flag any, and that one test is their
    filter. As one filter over every line, the twenty-odd integer tests of the rules cost 0.05 s of
    2M lines. A line gets one finding and the engine orders findings by claim and line, so the two
    sets' order does not matter."""
    rule: pl.Expr = pl.lit(None, pl.UInt8)
    for number, (_, condition, _) in reversed(list(enumerate(rules))):
        rule = pl.when(condition.fill_null(False)).then(pl.lit(number, pl.UInt8)).otherwise(rule)
    own = next(number for number, (name, _, _) in enumerate(rules) if name == "route_vs_own_code")
    ig = lines.filter(_ig()).with_columns(rule.alias("_rule")).filter(pl.col("_rule").is_not_null())
    other = lines.filter(~_ig() & _own_code_conflict()).with_columns(pl.lit(own, pl.UInt8).alias("_rule"))
    return pl.concat([ig, other])


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


def _documented(route: str, role: str) -> pl.Expr:
    """How the line documents a route: its ``route`` value when that is ``route``, else its JA/JB."""
    modifiers = reference.modifiers_with_role(role)
    given = pl.col("modifiers").list.eval(pl.element().filter(pl.element().is_in(modifiers))).list.join(" ")
    return pl.when(pl.col("route") == route).then(pl.lit(route)).otherwise(given)


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
    return pairs.sort("_admin_claim", "_admin_line").group_by("row_id").agg(
        pl.col("_admin_row").alias("risk_rows"),
        label.alias("admin_lines"),
    )


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    rules = _rules(_bits())
    # Decided as a small integer (the first rule that applies); the reason is named and the facts
    # are derived on the flagged lines only (strings for every candidate cost seconds).
    numbers = pl.Series(range(len(rules)), dtype=pl.UInt8)
    flagged = _flagged(lines, rules).with_columns(
        pl.col("_rule").replace_strict(numbers, pl.Series([r[0] for r in rules]), return_dtype=pl.String)
        .alias("reason"),
        pl.col("_rule").replace_strict(numbers, pl.Series([r[2] for r in rules], dtype=pl.UInt64),
                                       return_dtype=pl.UInt64).alias("_conflict"),
    )
    # Text facts of the code on the flagged lines only (derived after the filter).
    flagged = with_codes(flagged, "ig_product", "adm_description", "adm_documented_routes").with_columns(
        (pl.col("enc_admin_mask") & pl.col("_conflict")).alias("_billed"))
    documented = (
        pl.when(pl.col("reason") == "documented_iv_sc_billed").then(_documented("IV", "route_iv"))
        .when(pl.col("reason") == "documented_sc_iv_billed").then(_documented("SC", "route_sc"))
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
    )
    conflicting = _conflicting_lines(facts, lines)
    return facts.join(conflicting, on="row_id", how="left").select(
        "row_id", "reason", "product", "billed", "documented", "agrees", "kind",
        pl.col("admin_lines").list.join(", "),
        pl.col("risk_rows").cast(pl.List(pl.Int64)),
    )


CHECK = Check(card=load_card(__file__), find=find)
