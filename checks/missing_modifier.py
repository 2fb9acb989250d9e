"""missing-modifier: a required JW, JZ or KX modifier is absent, or JW and JZ conflict.

Policy-driven: the payer's policy (``scrubber/policies/*.toml`` or ``--policy``) says from which
date JW and JZ are required, in which places of service they do not apply, and where KX is
required.

**What it finds.** On single-dose drug lines (every immune globulin ships in single-dose
containers):

* JW and JZ on the same line (never both);
* JZ billed while ``drug_wasted_mg`` > 0 is documented (JZ says nothing was discarded);
* documented waste (> 0 mg) with no separate JW line for the drug on the claim and date (JW
  required from ``jw.required_from``; MEDICARE and DEFAULT: 2017-01-01);
* MEDICARE, dates of service from 2023-07-01 (``jz.required_from``): a line with neither JZ nor a
  JW line for the discarded amount. DEFAULT requires JW for documented waste only, never JZ.
* JW/JZ do not apply at the policy's exempt places of service (MEDICARE: 21 inpatient, 50 FQHC,
  72 RHC): none of the findings above fires there, the JW+JZ and JZ-with-waste conflicts included;
* KX: MEDICARE immune-globulin drug lines at POS 12 (home, DME MAC policies L33610 IVIG and L33794
  SCIG) must carry KX, or GA/GZ when the coverage criteria are not met. DEFAULT requires no KX.
  KX is not required on 96365/96366 administration lines (REFERENCE.md 8(g)).

**Why payers deny it.** From 2023-10-01 Medicare returns single-dose drug claims missing JW/JZ as
unprocessable; DME lines without KX, GA or GZ are rejected as missing information (A52507). CARC 4
(modifier missing or inconsistent) with N822/N519, or CO-16.

**Example.** MEDICARE, 2026-02-10, office: J1459 x70, dose 35,000 mg, no waste documented, no JZ,
no JW line: fires ("neither JZ nor a JW line").

**Use instead.** Append JZ when nothing was discarded; bill the discarded amount on its own line
with JW (and never JZ on a line with documented waste); append KX (criteria met) or GA/GZ on home
IG drug lines.

**Appeal basis.** A correction: resubmit with the modifier. For KX, the appeal is the
documentation that the LCD coverage criteria are met.

**Sources.** FCSO JW/JZ page; CGS JC DME JZ (2023); Noridian JD DME JZ; A52507 (JW/JZ scenarios,
KX/GA/GZ); L33610; REFERENCE.md 4a and 4b.
"""

from __future__ import annotations

import polars as pl

from scrubber.enrich import is_ig, with_codes, with_drug_units
from scrubber.legacy import legacy_check
from scrubber.registry import Context
from scrubber.text import dotted, fill, number


def find(lines: pl.LazyFrame, ctx: Context) -> pl.LazyFrame:
    lines = with_drug_units(with_codes(lines.filter(is_ig()), "ig_single_dose", "ig_bit", "ig_product"))
    single_dose = pl.col("ig_single_dose").fill_null(False)
    exempt = pl.col("jwjz_exempt")
    jw_required = pl.col("pol_jw_from").is_not_null() & (pl.col("date_of_service") >= pl.col("pol_jw_from")) & ~exempt
    jz_required = pl.col("pol_jz_from").is_not_null() & (pl.col("date_of_service") >= pl.col("pol_jz_from")) & ~exempt
    has_jw_line = (pl.col("cd_jw_mask") & pl.col("ig_bit")) != 0  # a JW line of this drug on the claim and date
    waste = pl.col("doc_waste")
    is_jw, is_jz = pl.col("is_jw"), pl.col("is_jz")
    drug = fill("{code} ({product})", code=pl.col("procedure_code"), product=pl.col("ig_product"))

    # At the exempt places of service the JW/JZ policy does not apply at all, its conflicts included.
    both = single_dose & is_jw & is_jz & ~exempt
    jz_with_waste = single_dose & is_jz & (waste > 0) & ~exempt
    waste_without_jw = single_dose & ~is_jw & jw_required & (waste > 0) & ~has_jw_line
    neither = single_dose & ~is_jw & jz_required & ~is_jz & ~has_jw_line
    jwjz_hit = both | jz_with_waste | waste_without_jw | neither
    jwjz = (
        pl.when(both)
        .then(fill("{drug} carries both JW and JZ; a line is either discarded drug (JW) or administered with "
                   "nothing discarded (JZ), never both.", drug=drug))
        .when(jz_with_waste)
        .then(fill("{drug} carries JZ (nothing discarded) but {waste} mg of waste is documented.", drug=drug,
                   waste=number(waste)))
        .when(waste_without_jw)
        .then(fill("{drug}: {waste} mg of discarded drug is documented but no JW line reports it ({policy} policy).",
                   drug=drug, waste=number(waste), policy=pl.col("policy")))
        .when(neither)
        .then(fill("{drug} from a single-dose container has neither JZ nor a JW line for the discarded amount "
                   "({policy} requires JW/JZ for dates of service from {since}).", drug=drug,
                   policy=pl.col("policy"), since=pl.col("pol_jz_from")))
    )
    jwjz_fix = (
        pl.when(is_jw & is_jz)
        .then(pl.lit("Keep JZ on the administered line only if nothing was discarded; otherwise remove JZ and bill "
                     "the discarded amount on its own JW line."))
        .when(is_jz)
        .then(fill("Remove JZ and bill the {waste} mg discarded on a separate line with JW.", waste=number(waste)))
        .when(waste > 0)
        .then(fill("Add a separate {code}-JW line for the {waste} mg discarded (units = the extra units the waste "
                   "adds).", code=pl.col("procedure_code"), waste=number(waste)))
        .otherwise(fill("Append JZ to {code} if nothing was discarded; if drug was discarded, document it and bill "
                        "it on a separate JW line.", code=pl.col("procedure_code")))
    )
    kx_missing = pl.col("kx_pos") & ~pl.col("kx_ok")
    kx = fill(
        "{drug} is billed at POS {pos} (home) without KX, GA or GZ ({policy}: DME MAC immune globulin policy).",
        drug=drug, pos=pl.col("place_of_service"), policy=pl.col("policy"))
    jwjz_rows = lines.filter(jwjz_hit.fill_null(False)).select(
        "row_id",
        jwjz.alias("message"),
        jwjz_fix.alias("suggested_fix"),
        fill("Corrected claim: {code} on {dos} is resubmitted with the JW/JZ modifier the discarded-drug policy "
             "requires for single-dose containers.", code=pl.col("procedure_code"),
             dos=pl.col("date_of_service")).alias("appeal_text"),
    )
    kx_rows = lines.filter(kx_missing.fill_null(False)).select(
        "row_id",
        kx.alias("message"),
        pl.lit("Append KX if the LCD coverage criteria are met and documented; otherwise GA (ABN on file) or GZ "
               "(no ABN).").alias("suggested_fix"),
        fill("Corrected claim: {code} on {dos} is resubmitted with KX; the medical record documents that the "
             "coverage criteria of the immune globulin policy are met (diagnosis {dx}, home administration "
             "appropriate as found by the treating practitioner).", code=pl.col("procedure_code"),
             dos=pl.col("date_of_service"), dx=dotted(pl.col("diagnoses").list.first())).alias("appeal_text"),
    )
    return pl.concat([jwjz_rows, kx_rows])


CHECK = legacy_check(
    id="missing-modifier",
    title="Required JW, JZ or KX modifier missing",
    severity="error",
    scope="line",
    rule="Single-dose drugs carry JZ (nothing discarded) or pair with a JW line (discarded amount), never both, per "
    "the payer policy's dates and settings; home IG drug lines carry KX/GA/GZ where the policy requires it.",
    sources=("FCSO JW/JZ", "CGS JC DME JZ 2023", "A52507 (JW/JZ, KX/GA/GZ)", "L33610"),
    fix="Add JZ, or a separate JW line for the waste; add KX (or GA/GZ) on home IG lines.",
    appeal="Corrected claim with the required modifier.",
    denial_codes=("CO-4", "CO-16", "N822", "N519", "M114"),
    fix_kind="correction",
    disposition="claim returned as unprocessable (JW/JZ) or rejected as missing information (KX)",
    find=find,
)
