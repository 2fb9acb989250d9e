"""home-ig-supplies: home IVIG services and supplies (Q2052) billed more than once a date or without the drug.

**home-ig-supplies** (error). Q2052 (services, supplies and accessories for home IVIG) billed on a
second line for the member and date; for dates of service to 2023-12-31 also more than 1 unit on a
date (from 2024-01-01 its units report the visit in 15-minute increments); or with no home IVIG drug
line for the member on that date or in the 30 days before it (A52509, L33610: one Q2052 per infusion
date, the drug's date of service up to 30 days earlier); or at another place of service than that
drug (Noridian JD DME IVIG billing tips: the same place of service for the drug and Q2052).

Implementation. The codes and what a unit of them counts are data (``scrubber/data/
home_ivig_supplies.csv``, by period of dates of service). Lines are grouped by member, date of
service and payer layer (``cob_layer``: a claim sent on to the next payer bills the same visit
again and is counted apart; so does a replacement or void claim, ``claim_frequency`` 7 or 8),
across claims and billing providers, because the rule is per member and
infusion date, whoever bills it. Each Q2052 line gets one finding at most:

* ``no_home_ivig``: no home IVIG drug line for the member in the batch on the Q2052's date or in the
  ``drug_window_days`` (30) days before it. Home IVIG: an IG code whose IG route is IV, or J1561/J1569
  not documented SC (``route`` SC or JB), at one of the policy's home IVIG places of service
  (``home_ivig_pos``: the home set and 32, nursing facility, the "home or other home-like setting" of
  the Noridian JD DME IVIG billing tips; KX and the JW/JZ home date read ``home_pos``).
* ``pos_differs``: home IVIG drug lines in that window, none at the Q2052's own place of service: the
  drug and its Q2052 are billed at the same home or home-like place of service (Noridian JD DME IVIG
  billing tips), so a Q2052 at 13 beside the drug at 12 is denied as if it had no drug.
* ``second_q2052``: a further Q2052 line for the member and date (input order), after the first.
* ``over_one_unit``: the first line bills more than one unit where a unit is the date's bundle
  (``unit_basis`` ``visit``, dates of service to 2023-12-31); the excess units are at risk.

Where the primary sources differ from the rule's letter, and why this follows them: from 2024-01-01
(the permanent IVIG items and services benefit; LCD L33610 and A52509 revised 2024-01-01, CMS MLN
"Intravenous Immune Globulin Items & Services" revised 2024-12-23, Noridian JD DME billing tips) Q2052
is billed each time the drug is administered and paid as one bundle per infusion date, with its
units reporting the visit length in 15-minute increments: Q2052 x4 for a one-hour visit is right, so
from then on only a second Q2052 line on the date fires, not a unit count. And when the drug is
delivered before the infusion, the administration date may follow the drug's date of service by up
to 30 days (the same sources): a Q2052 on 2026-02-03 after the drug on 2026-02-01 is right. The
Q2052 x1 vs x2 boundary therefore holds for dates of service to 2023-12-31.

Cost: the Q2052 lines are filtered by code first (none in most batches); the drug lines are read only
for the members who have one.
"""

from __future__ import annotations

import polars as pl

from scrubber import reference
from scrubber.cards import load_card
from scrubber.enrich import documented_sc, is_ig, with_codes, with_modifier_roles
from scrubber.registry import Check, Context

_DAY = "date_of_service"
# One member, one infusion date, one payer layer; a replacement or void claim is its own (RULES.md
# "Words": it sends the same services again and is never counted with the claim it corrects).
_KEY = ["member_id", _DAY, "cob_layer", "_correction"]


def _supply_lines(lines: pl.LazyFrame) -> pl.LazyFrame:
    """The Q2052 lines with the data row of their date of service (what a unit counts, the window)."""
    table = reference.home_ivig_supplies()
    codes = table.get_column("code").unique().to_list()
    periods = table.lazy().rename({"code": "procedure_code"})
    return (
        lines.filter(pl.col("procedure_code").is_in(codes))
        .select("row_id", "claim_id", "line_number", "member_id", _DAY, "cob_layer", "units", "procedure_code",
                "place_of_service", "payer",
                "enc_unreadable", pl.when(pl.col("claim_frequency").is_in(reference.correction_frequencies()))
                .then(pl.col("claim_id")).alias("_correction"))
        .join(periods, on="procedure_code", how="inner")
        .filter((pl.col(_DAY) >= pl.col("effective_from"))
                & (pl.col("effective_to").is_null() | (pl.col(_DAY) <= pl.col("effective_to"))))
    )


def _home_ivig_dates(lines: pl.LazyFrame, members: pl.LazyFrame) -> pl.LazyFrame:
    """(member_id, drug_dos, drug_pos): dates and places of service of home IVIG drug lines of the
    given members (at one of the policy's home IVIG places of service, ``home_ivig_pos``)."""
    drugs = lines.filter(is_ig() & pl.col("is_home_ivig")).join(members, on="member_id", how="semi")
    drugs = with_modifier_roles(with_codes(drugs, "ig_route"))
    iv = (pl.col("ig_route") == "IV") | ((pl.col("ig_route") == "IV_SC") & ~documented_sc())
    return drugs.filter(iv.fill_null(False)).select(
        "member_id", pl.col(_DAY).alias("drug_dos"), pl.col("place_of_service").alias("drug_pos")).unique()


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    return supply_decisions(lines)


def unevaluated(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Q2052 lines of an encounter with a row that could not be read (the drug may be that row), but
    those billed again that date (judged whether the drug is there or not)."""
    if not lines.select(pl.col("enc_unreadable").any()).collect().item():  # (none in most batches)
        return pl.LazyFrame(schema={"row_id": pl.Int64})
    again = supply_decisions(lines).filter(pl.col("reason") == "second_q2052").select("row_id")
    return _supply_lines(lines.filter(pl.col("enc_unreadable"))).select("row_id").join(again, on="row_id", how="anti")


def supply_decisions(lines: pl.LazyFrame, with_units: bool = False) -> pl.LazyFrame:
    """The Q2052 lines this rule reports, with the reason and facts (``excess_units`` for
    ``over_one_unit``; the whole line otherwise). :mod:`checks._counting` reads it too, so a policy
    cap on Q2052 does not report the same line again (one root cause); ``with_units`` adds the
    line's ``units`` for it (no second pass over the lines)."""
    q = _supply_lines(lines)
    drugs = _home_ivig_dates(lines, q.select("member_id").unique())
    window = pl.duration(days=pl.col("drug_window_days"))
    # Per Q2052 line: a home IVIG drug in its window, and one at its own place of service (the drug and
    # its Q2052 are billed at the same one); else the places the window's drugs were billed at.
    with_drug = (
        q.select("row_id", "member_id", _DAY, "drug_window_days", "place_of_service").join(
            drugs, on="member_id", how="inner")
        .filter((pl.col("drug_dos") <= pl.col(_DAY)) & (pl.col("drug_dos") >= pl.col(_DAY) - window))
        .group_by("row_id").agg(
            pl.lit(True).alias("_drug"),
            (pl.col("drug_pos") == pl.col("place_of_service")).fill_null(False).any().alias("_same_pos"),
            pl.col("drug_pos").drop_nulls().unique().sort().str.join(", ").alias("drug_pos"),
        )
    )
    # The few Q2052 lines only: order them once and count per member, date and payer layer. By claim id
    # and line, not by row: the same claims re-exported in another order (or split over two files) give
    # the "billed again" finding to the same line, with the same finding id.
    q = q.join(with_drug, on="row_id", how="left").sort("claim_id", "line_number", "row_id").with_columns(
        pl.int_range(1, pl.len() + 1).over(_KEY).alias("_nth"),
        pl.col("claim_id").first().over(_KEY).alias("first_claim"),
        pl.col("line_number").first().over(_KEY).alias("first_line"),
        (pl.col("payer").str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars().n_unique().over(_KEY)
         == 1).alias("_one_payer"),
    )
    # Without the drug, where a row of the encounter could not be read (it may be the drug): not judged;
    # but a Q2052 billed again that date is denied whether the drug is there or not (probe 20B: the drug
    # row rejected for its units took the "billed again" finding with it).
    # (one payer's, where the drug row is unreadable: without a payer_sequence a next payer's copy is
    # told apart by its lines, the rejected row among them, so a copy to another payer would read as
    # billed again; review 20D)
    again = pl.col("_nth") > pl.col("max_per_date")
    reason = (
        pl.when(pl.col("_drug").is_null() & pl.col("enc_unreadable") & again & pl.col("_one_payer"))
        .then(pl.lit("second_q2052"))
        .when(pl.col("_drug").is_null() & pl.col("enc_unreadable")).then(pl.lit(None, pl.String))
        .when(pl.col("_drug").is_null()).then(pl.lit("no_home_ivig"))
        .when(~pl.col("_same_pos")).then(pl.lit("pos_differs"))
        .when(again).then(pl.lit("second_q2052"))
        .when((pl.col("unit_basis") == "visit") & (pl.col("units") > pl.col("max_per_date")))
        .then(pl.lit("over_one_unit"))
    )
    return q.with_columns(reason.alias("reason")).filter(pl.col("reason").is_not_null()).select(
        "row_id",
        "reason",
        "first_claim",
        "first_line",
        pl.col("max_per_date").alias("allowed_units"),
        pl.when(pl.col("reason") == "over_one_unit").then(pl.col("units") - pl.col("max_per_date"))
        .alias("excess_units"),
        pl.col("drug_window_days").alias("window_days"),
        pl.when(pl.col("reason") == "pos_differs").then(pl.col("drug_pos")).alias("drug_pos"),
        *(["units"] if with_units else []),
    )


CHECK = Check(card=load_card(__file__), find=find, unevaluated=unevaluated)
