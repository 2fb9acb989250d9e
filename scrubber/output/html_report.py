"""The HTML audit report: one self-contained file a billing manager can read in a minute.

Layout (``reports_templates/report.html.j2``): the summary first (totals, what to send: claims to
correct and resubmit vs claims whose coding stands and need a justification, a row-reconciliation
line, one row per check, an inline SVG chart, findings by payer and by month, checks that fire
together), then the claims to fix (each claim's lines with the flagged ones marked and the
correction written under the line, then its findings with rule source and the text to send), then
rejected rows and unmatched records, and the run's provenance in the footer.

Why the claim detail is JSON rendered by inline JavaScript rather than HTML: a batch can hold
10,000 flagged claims; tens of thousands of ``<details>`` elements with tables make a browser
crawl, while one compact JSON island rendered 100 claims per page opens in seconds and lets the
filters (check, severity, payer, search) work offline. Everything the summary shows is rendered
server-side by Jinja2 with autoescape on; the JSON island is the only unescaped insertion and it is
made safe by escaping ``<``, ``>`` and ``&`` inside the JSON (see :func:`json_island`). The
JavaScript builds the DOM with ``textContent`` only, never ``innerHTML`` on claim data.

Aggregations are Polars expressions over the whole batch; Python loops only over the flagged
claims that go into the report (and their findings, for ``--mask-phi`` text replacement).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber.engine import SEVERITY_RANK, ScrubResult, billed_lines
from scrubber.errors import show_invisible
from scrubber.output import icd10_next_words
from scrubber.output.letters import arguable_justifications
from scrubber.payer_names import payer_keys
from scrubber.schema import location
from scrubber.text import dotted, number
from scrubber.timing import infusing_minutes

if TYPE_CHECKING:  # jinja2 is imported lazily: `scrub check` without --html should not pay for it
    import jinja2
    from markupsafe import Markup

TEMPLATE_PACKAGE = "reports_templates"
TEMPLATE_NAME = "report.html.j2"
PAGE_SIZE = 100
MAX_TABLE_ROWS = 1000  # rejected rows / unmatched records listed in full up to this; JSON/CSV carry all
MAX_PAIRS = 12
SEVERITIES = tuple(SEVERITY_RANK)  # error, warning, info

_MEMBER_REASON = re.compile(r"(disagree on member_id \().*(\); the whole claim is rejected)")
_PLACEHOLDER = r"\[[^\[\]\n]{1,200}\?\]"  # "[dose mg?]": a fact the record did not give (scrubber.text.fill)
KINDS = ("correction", "justification")
_EMPTY_STR_LIST = pl.lit([], dtype=pl.List(pl.String()))


# --------------------------------------------------------------------------- masking


def mask_member_id(member_id: str | None) -> str | None:
    """Masked member id for ``--mask-phi``: ``***42`` keeps the last two characters of a long id.

    Two characters keep claims of the same member recognisable to the reader without revealing
    the id; an id of five characters or fewer is hidden completely, as two of them would be too
    much of it.
    """
    if member_id is None:
        return None
    return "***" + member_id[-2:] if len(member_id) > 5 else "***"


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


def _mask_text(text: str | None, member_ids: list[str]) -> str | None:
    """``text`` with each of ``member_ids`` masked where it stands as a whole token.

    "M10" is not masked inside "M100" or "XM10". A plain scan rather than a regex: a batch of
    10,000 flagged claims has 10,000 different ids, and compiling a pattern per claim cost
    seconds. ``member_ids`` go longest first, so an id that contains another is masked whole.
    """
    if text is None:
        return text
    for member in member_ids:
        if member not in text:
            continue
        out: list[str] = []
        pos = 0
        while (start := text.find(member, pos)) != -1:
            end = start + len(member)
            if (start == 0 or not _is_word(text[start - 1])) and (end == len(text) or not _is_word(text[end])):
                out += [text[pos:start], mask_member_id(member) or "***"]
                pos = end
            else:
                out.append(text[pos:start + 1])
                pos = start + 1
        out.append(text[pos:])
        text = "".join(out)
    return text


def _mask_order(member_ids: set[str | None]) -> list[str]:
    return sorted((m for m in member_ids if m), key=len, reverse=True)


# --------------------------------------------------------------------------- Jinja plumbing


def visible(value: Any) -> Any:
    """The report's ``finalize``: text values with each invisible control shown as a mark
    (:func:`scrubber.errors.show_invisible`); markup already made safe (the JSON island, the letters'
    marked placeholders) shows them by its own code."""
    from markupsafe import Markup

    return show_invisible(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def json_island(payload: Any) -> Markup:
    """JSON for a ``<script type="application/json">`` element, safe against breaking out of it.

    The HTML parser ends a script element at ``</script`` whatever the JSON means, so every ``<``,
    ``>`` and ``&`` is written as a JSON unicode escape (``\\u003c``...): the text then holds no
    markup at all, and ``JSON.parse`` restores the characters. This is why the value may be
    marked safe although it carries claim data: nothing in it is HTML any more.
    """
    from markupsafe import Markup

    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    # (the JSON's text holds these characters only inside its strings: the page shows the same marks)
    return Markup(show_invisible(text))


def money(value: float | int | None) -> str:
    """Dollars as billing staff write them: $1,234.50."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


def count(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def percent(part: float | int | None, whole: float | int | None) -> str:
    if not whole or part is None:
        return "—"
    share = 100.0 * part / whole
    return f"{share:.0f}%" if share >= 1 or share == 0 else "<1%"


def make_environment() -> jinja2.Environment:
    """The report's Jinja2 environment: templates from the installed package, autoescape always on.

    ``PackageLoader`` finds ``reports_templates`` however the project was installed (wheel,
    editable, zip). Autoescape is ``True`` outright: ``select_autoescape()`` with its defaults does
    not cover ``.html.j2``, which would leave every claim value unescaped.
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader(TEMPLATE_PACKAGE, ""),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible,  # every value the templates print, before it is escaped
    )
    env.filters["money"] = money
    env.filters["count"] = count
    env.globals["percent"] = percent
    env.globals["icd10_next_words"] = icd10_next_words
    return env


# --------------------------------------------------------------------------- summary tables


def _check_catalogue(result: ScrubResult) -> list[dict[str, Any]]:
    """Every check of the run in registry order, with its metadata (checks absent from
    ``result.checks`` but present in findings are added from the findings' own columns)."""
    rows: list[dict[str, Any]] = [
        {"id": c.id, "title": c.title, "severity": c.severity, "fix_kind": c.fix_kind, "citation": c.citation,
         "rule": c.rule, "disposition": getattr(c, "disposition", "")}
        for c in result.checks
    ]
    known = {r["id"] for r in rows}
    f = result.findings
    extra = (
        f.filter(~pl.col("check_id").is_in(list(known)))
        .unique("check_id", keep="first", maintain_order=True)
        .select("check_id", "title", "severity", "fix_kind", "citation", _optional(f, "disposition", pl.String()))
    )
    for r in extra.iter_rows(named=True):
        rows.append({"id": r["check_id"], "title": r["title"], "severity": r["severity"], "fix_kind": r["fix_kind"],
                     "citation": r["citation"], "rule": "", "disposition": r["disposition"] or ""})
    known |= {r["id"] for r in rows}
    for check_id, s in result.summary.get("by_check", {}).items():  # checks that ran but left no trace above
        if check_id not in known:
            rows.append({"id": check_id, "title": s.get("title", check_id), "severity": s.get("severity", "error"),
                         "fix_kind": "", "citation": "", "rule": "", "disposition": ""})
    return rows


def _check_rows(result: ScrubResult, catalogue: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per check: counts by severity, claims, charges at risk, lines not evaluated."""
    by_check = result.summary.get("by_check", {})
    f = result.findings
    sev_counts = {
        (r["check_id"], r["severity"]): r["len"] for r in f.group_by("check_id", "severity").len().iter_rows(named=True)
    }
    # fix_kind is per finding: one check can give corrections and justifications (noncovered-diagnosis).
    kind_counts: dict[str, dict[str, int]] = {}
    for r in f.group_by("check_id", "fix_kind").len().sort("check_id", "fix_kind").iter_rows(named=True):
        kind_counts.setdefault(r["check_id"], {})[r["fix_kind"] or ""] = r["len"]
    totals = f.group_by("check_id").agg(
        pl.len().alias("findings"),
        pl.col("claim_id").n_unique().alias("claims"),
    )
    risk = f.group_by("check_id").agg(pl.col("charge_at_risk").sum().alias("risk"))
    computed = {r["check_id"]: r for r in totals.join(risk, on="check_id", how="left").iter_rows(named=True)}
    rows = []
    for check in catalogue:
        s = by_check.get(check["id"], {})
        c = computed.get(check["id"], {})
        rows.append({
            **check,
            "findings": s.get("findings", c.get("findings", 0)),
            "claims": s.get("claims", c.get("claims", 0)),
            "charges_at_risk": s.get("charges_at_risk", round(c.get("risk") or 0.0, 2)),
            "lines_not_evaluated": s.get("lines_not_evaluated", 0),
            "by_severity": {sev: sev_counts.get((check["id"], sev), 0) for sev in SEVERITIES},
            "by_kind": kind_counts.get(check["id"], {}),
        })
    return rows


def _chart(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Geometry of the horizontal bar chart of findings by check (stacked by severity), for SVG."""
    label_w, bar_w, row_h, top = 250, 330, 26, 8
    biggest = max((r["findings"] for r in rows), default=0) or 1
    bars = []
    for i, r in enumerate(rows):
        y = top + i * row_h
        x = label_w
        segments = []
        for sev in SEVERITIES:
            n = r["by_severity"][sev]
            if n:
                w = max(2.0, bar_w * n / biggest)
                segments.append({"severity": sev, "x": round(x, 1), "w": round(w, 1), "n": n})
                x += w
        bars.append({"id": r["id"], "title": r["title"], "y": y, "segments": segments, "findings": r["findings"],
                     "end": round(x + 6, 1)})
    return {"width": label_w + bar_w + 60, "height": top * 2 + len(rows) * row_h, "bars": bars, "label_w": label_w,
            "row_h": row_h}


def _claim_numbered(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` with ``_claim``, a number per distinct claim id: the per-group claim counts over every
    line of a batch (by payer, provider, month, policy) count numbers, not 2M strings, four times."""
    return lines.with_columns(pl.col("claim_id").rank("dense").alias("_claim"))


def _breakdown(result: ScrubResult, key: str, key_expr: pl.Expr, lines: pl.DataFrame) -> list[dict[str, Any]]:
    """Scanned vs flagged per ``key`` (payer, month of service): claims, findings, billed, at risk.

    ``lines``: ``result.lines`` with :func:`_claim_numbered`'s ``_claim``.
    """
    f = result.findings
    if lines.height == 0:
        return []
    scanned = lines.group_by(key_expr.alias(key)).agg(
        pl.col("_claim").n_unique().alias("claims"),
        pl.len().alias("lines"),
        pl.col("charge").filter(billed_lines(lines)).fill_null(0).sum().alias("billed"),  # (as the headline's)
    )
    found = f.group_by(key_expr.alias(key)).agg(
        pl.col("claim_id").n_unique().alias("claims_flagged"),
        pl.len().alias("findings"),
        (pl.col("severity") == "error").sum().alias("errors"),
    )
    risk = f.group_by(key_expr.alias(key)).agg(pl.col("charge_at_risk").sum().alias("at_risk"))
    table = (
        # (nulls_equal: lines without a billing provider are one "(not given)" row, with their findings)
        scanned.join(found, on=key, how="left", nulls_equal=True)
        .join(risk, on=key, how="left", nulls_equal=True)
        .with_columns(pl.col("claims_flagged", "findings", "errors").fill_null(0), pl.col("at_risk").fill_null(0.0))
    )
    return table.sort(key, nulls_last=True).to_dicts()


def _co_occurrence(result: ScrubResult, order: dict[str, int]) -> list[dict[str, Any]]:
    """Pairs of checks that fire on the same claim, most frequent first (a pattern, not a rule)."""
    pairs = result.findings.select("claim_id", "check_id").unique()
    if pairs.height == 0:
        return []
    joined = pairs.join(pairs, on="claim_id", suffix="_2").filter(
        pl.col("check_id").replace_strict(order, default=999) < pl.col("check_id_2").replace_strict(order, default=999)
    )
    per_check = dict(pairs.group_by("check_id").len().iter_rows())
    table = (
        joined.group_by("check_id", "check_id_2")
        .agg(pl.len().alias("claims"))
        .sort(["claims", "check_id", "check_id_2"], descending=[True, False, False])
        .head(MAX_PAIRS)
    )
    return [
        {**r, "of_first": per_check.get(r["check_id"], 0), "of_second": per_check.get(r["check_id_2"], 0)}
        for r in table.iter_rows(named=True)
    ]


# --------------------------------------------------------------------------- per-claim payload


def _documentation() -> pl.Expr:
    """What the administration record says about a line, in one short text (dose, route, times)."""
    start, stop = pl.col("infusion_start"), pl.col("infusion_stop")
    minutes = infusing_minutes()  # the checks' own definition: midnight crossings, implausible times
    parts = [
        pl.when(pl.col("ndc").is_not_null()).then(pl.lit("NDC ") + pl.col("ndc")),
        pl.when(pl.col("drug_dose_mg").is_not_null()).then(pl.lit("dose ") + number(pl.col("drug_dose_mg")) + " mg"),
        pl.when(pl.col("drug_wasted_mg").is_not_null())
        .then(pl.lit("wasted ") + number(pl.col("drug_wasted_mg")) + " mg"),
        pl.col("route"),
        # (with its date where the start is not on the date of service: "09:00-10:00 (times do not make an
        # infusion)" read as a clean hour, review 26E D8)
        pl.when(start.is_not_null() & stop.is_not_null())
        .then(pl.when(start.dt.date() == pl.col("date_of_service")).then(start.dt.strftime("%H:%M"))
              .otherwise(start.dt.strftime("%Y-%m-%d %H:%M")) + "\u2013" + stop.dt.strftime("%H:%M")
              + " (" + (minutes.cast(pl.String) + " min").fill_null("times do not make an infusion") + ")")
        .when(start.is_not_null() | stop.is_not_null())
        .then(pl.lit("start ") + start.dt.strftime("%H:%M").fill_null("?") + ", stop "
              + stop.dt.strftime("%H:%M").fill_null("?")),
        pl.when(pl.col("observation_minutes").is_not_null())
        .then(pl.lit("observation ") + pl.col("observation_minutes").cast(pl.String) + " min"),
        pl.when(pl.col("sites").is_not_null()).then(pl.col("sites").cast(pl.String) + " site(s)"),
        pl.when(pl.col("revenue_code").is_not_null()).then(pl.lit("rev ") + pl.col("revenue_code")),
    ]
    return pl.concat_list(parts).list.drop_nulls().list.join(" · ")


def _optional(frame: pl.DataFrame, name: str, dtype: pl.DataType) -> pl.Expr:
    """The column if the frame has it, else nulls: lets the report read frames from older engines."""
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype).alias(name)


def _claims_payload(result: ScrubResult, order: dict[str, int], mask_phi: bool) -> list[dict[str, Any]]:
    """Every flagged claim with its lines and findings, in priority order, as compact dicts.

    Keys are short because they repeat 10,000 times in the file. Sorted by worst severity, then
    charges at risk (biggest first), then claim id.
    """
    f = result.findings
    if f.height == 0:
        return []
    rank = pl.col("severity").replace_strict(SEVERITY_RANK, default=0, return_dtype=pl.Int8)
    flagged_ids = f.select("claim_id").unique()
    row_sev = f.group_by("row_id").agg(rank.max().alias("line_sev"))
    lines = result.lines.join(flagged_ids, on="claim_id", how="semi")
    lines = lines.select(
        "row_id", "claim_id", "line_number", "member_id", "payer", "source",
        # CSV lines leave source_location null ("row N" is spelled out only where shown).
        location().alias("loc"),
        _optional(lines, "policy", pl.String()), _optional(lines, "claim_type", pl.String()),
        _optional(lines, "place_of_service", pl.String()), "date_of_service", "procedure_code", "units", "charge",
        _optional(lines, "copy_of", pl.String()), _optional(lines, "cob_layer", pl.UInt8()),
        pl.col("modifiers").fill_null(_EMPTY_STR_LIST).list.join(" ").alias("mods"),
        pl.col("diagnoses").fill_null(_EMPTY_STR_LIST).list.eval(dotted(pl.element())).list.join(", ").alias("dx"),
        _documentation().alias("doc"),
    ).join(row_sev, on="row_id", how="left")
    claim_lines = lines.sort("claim_id", "line_number").group_by("claim_id").agg(
        pl.col("member_id").first().alias("member"),
        pl.col("payer").first(),
        pl.col("policy").first(),
        pl.col("claim_type").first().alias("type"),
        # A claim billing the same services to the next payer (RULES.md): which claim it repeats.
        pl.col("copy_of").drop_nulls().first().alias("copy_of"),
        pl.col("cob_layer").max().fill_null(0).alias("cob"),
        pl.col("place_of_service").first().alias("pos"),
        pl.col("date_of_service").min().cast(pl.String).alias("dos"),
        pl.col("date_of_service").max().cast(pl.String).alias("dos_to"),
        pl.col("charge").fill_null(0).sum().alias("billed"),
        pl.col("source").first().alias("src"),
        pl.struct(
            pl.col("line_number").alias("n"),
            "loc",
            pl.col("date_of_service").cast(pl.String).alias("dos"),
            pl.col("procedure_code").alias("code"),
            "mods",
            pl.col("units"),
            pl.col("charge"),
            "dx",
            "doc",
            pl.col("line_sev").fill_null(0).alias("sev"),
        ).alias("lines"),
    )
    risk = f.group_by("claim_id").agg(pl.col("charge_at_risk").sum().alias("risk"))
    check_rank = pl.col("check_id").replace_strict(order, default=len(order))
    claim_findings = f.group_by("claim_id", maintain_order=True).agg(
        rank.max().alias("sev"),
        pl.col("check_id").sort_by(check_rank).unique(maintain_order=True).alias("checks"),
        # Facts from the findings themselves, for claims whose lines are not in result.lines.
        pl.col("member_id").first().alias("f_member"),
        pl.col("payer").first().alias("f_payer"),
        pl.col("date_of_service").min().cast(pl.String).alias("f_dos"),
        pl.struct(
            pl.col("line_number").alias("n"),
            pl.col("check_id").alias("check"),
            pl.col("severity").alias("sev"),
            pl.col("message").alias("msg"),
            pl.col("suggested_fix").alias("fix"),
            pl.col("appeal_text").alias("appeal"),
            pl.col("fix_kind").alias("kind"),
            # The finding's own sources (its payer kind and setting), not every source its check may cite.
            pl.col("citation").alias("cite"),
            _optional(f, "source_location", pl.String()).alias("loc"),
            _optional(f, "finding_id", pl.String()).alias("id"),
            pl.col("member_id").alias("m"),
        ).alias("findings"),
        pl.col("source").first().alias("f_src"),
    )
    claims = (
        claim_findings.join(claim_lines, on="claim_id", how="left")
        .join(risk, on="claim_id", how="left")
        .with_columns(
            pl.col("member").fill_null(pl.col("f_member")),
            pl.col("payer").fill_null(pl.col("f_payer")),
            pl.col("dos").fill_null(pl.col("f_dos")),
            pl.col("src").fill_null(pl.col("f_src")),
            pl.col("risk").fill_null(0.0).round(2),
            pl.col("billed").fill_null(0.0).round(2),
            pl.col("lines").fill_null([]),
        )
        .sort(["sev", "risk", "claim_id"], descending=[True, True, False])
        .rename({"claim_id": "id"})
        .drop("f_member", "f_payer", "f_dos", "f_src")
    )
    # The payer filter groups names as policies read them (AETNA, Aetna, "aetna ": one payer).
    records = claims.with_columns(payer_keys("payer", claims.get_column("payer")).alias("pk")).to_dicts()
    for r in records:
        # A finding's text may quote its member id ("for member M123 on ..."): mask it there too.
        members = _mask_order({r["member"], *(fd["m"] for fd in r["findings"])}) if mask_phi else []
        if mask_phi:
            r["member"] = mask_member_id(r["member"])
        for finding in r["findings"]:
            del finding["m"]
            if members:
                for key in ("msg", "fix", "appeal"):
                    finding[key] = _mask_text(finding[key], members)
    return records


def _rejected(result: ScrubResult, mask_phi: bool) -> list[dict[str, Any]]:
    """Rejected rows to list (capped); with ``--mask-phi`` the member ids a reason quotes are hidden.

    A reason names member ids when a claim's lines disagree on them (the whole claim is rejected,
    so its ids are known only from the reason); any other member id of the same claim that a
    reason quotes is masked by the ids of the claim's checked lines.
    """
    rows = result.rejected.head(MAX_TABLE_ROWS).with_columns(
        pl.coalesce(pl.col("location"), pl.format("row {}", pl.col("row"))).alias("location")
    )
    if not (mask_phi and rows.height):
        return rows.to_dicts()
    rows = rows.with_columns(pl.col("reason").str.replace(_MEMBER_REASON.pattern, "${1}[masked]${2}"))
    members = (
        result.lines.join(rows.select("claim_id").unique(), on="claim_id", how="semi")
        .group_by("claim_id").agg(pl.col("member_id").drop_nulls().unique())
    )
    known = {r["claim_id"]: _mask_order(set(r["member_id"])) for r in members.iter_rows(named=True)}
    records = rows.to_dicts()
    for r in records:
        if r["claim_id"] in known:
            r["reason"] = _mask_text(r["reason"], known[r["claim_id"]])
    return records


def _to_send(result: ScrubResult) -> dict[str, int]:
    """What the batch asks billing staff to send: claims to correct and resubmit, claims whose coding
    stands and need a justification, and texts with a missing fact to fill in first."""
    f = result.findings
    if f.height == 0:
        return {"correct": 0, "justify": 0, "both": 0, "placeholders": 0, "placeholder_claims": 0}
    # (the claims a letter argues for: --letters writes one per claim counted here)
    argued = arguable_justifications(f).select("claim_id").unique().with_columns(pl.lit(True).alias("j"))
    per_claim = f.group_by("claim_id").agg(
        (pl.col("fix_kind") == "correction").any().alias("c"),
        pl.col("appeal_text").str.contains(_PLACEHOLDER).fill_null(False).sum().alias("ph"),
    ).join(argued, on="claim_id", how="left", nulls_equal=True).with_columns(pl.col("j").fill_null(False))
    row = per_claim.select(
        pl.col("c").sum().alias("correct"),
        pl.col("j").sum().alias("justify"),
        (pl.col("c") & pl.col("j")).sum().alias("both"),
        pl.col("ph").sum().alias("placeholders"),
        (pl.col("ph") > 0).sum().alias("placeholder_claims"),
    ).row(0, named=True)
    return {k: int(v) for k, v in row.items()}


def _policy_use(lines: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Claims and lines each policy was applied to (the policy used, per payer, is in the lines).

    ``lines``: ``result.lines`` with :func:`_claim_numbered`'s ``_claim``.
    """
    if "policy" not in lines.columns or lines.height == 0:
        return {}
    table = lines.group_by("policy").agg(pl.col("_claim").n_unique().alias("claims"), pl.len().alias("lines"))
    return {r["policy"]: r for r in table.iter_rows(named=True) if r["policy"] is not None}


def _suppressed_context(result: ScrubResult) -> dict[str, Any]:
    """The suppressed findings (capped) and the suppression warnings, for their section."""
    suppressed = getattr(result, "suppressed", None)
    rows: list[dict[str, Any]] = []
    if suppressed is not None and suppressed.height:
        rows = suppressed.head(MAX_TABLE_ROWS).select(
            "claim_id", "line_number", "check_id", "finding_id", "suppression_reason", "suppression_by",
            pl.col("suppression_expires").cast(pl.String)).to_dicts()
    return {"suppressed": rows, "suppressed_total": suppressed.height if suppressed is not None else 0,
            "suppression_warnings": list(getattr(result, "suppression_warnings", []))[:MAX_TABLE_ROWS]}


def build_context(result: ScrubResult, mask_phi: bool = False) -> dict[str, Any]:
    """Everything the template shows, computed once; kept apart from rendering so tests can read it."""
    catalogue = _check_catalogue(result)
    order = {c["id"]: i for i, c in enumerate(catalogue)}
    check_rows = _check_rows(result, catalogue)
    summary = dict(result.summary)
    worst = max(check_rows, key=lambda r: (r["charges_at_risk"], r["findings"]), default=None)
    claims = _claims_payload(result, order, mask_phi)
    payers = sorted({c["pk"] for c in claims if c["pk"] is not None})
    month = pl.col("date_of_service").dt.strftime("%Y-%m")
    provenance = dict(result.provenance)
    timings = dict(getattr(result, "timings", {}) or {})
    lines = _claim_numbered(result.lines)
    return {
        "s": summary,
        "by_severity": {sev: summary.get("by_severity", {}).get(sev, 0) for sev in SEVERITIES},
        "checks": check_rows,
        "worst": worst if worst and worst["findings"] else None,
        "chart": _chart(check_rows),
        # (one row per payer as policies read the name: AETNA, Aetna and "aetna " are one payer)
        "by_payer": _breakdown(result, "payer", payer_keys("payer", pl.concat(
            [lines.get_column("payer"), result.findings.get_column("payer")])), lines),
        # Patterns per clinic or physician are what compliance reviews ask for first (issue 13).
        "by_provider": _breakdown(result, "provider", pl.col("billing_provider"), lines),
        "by_month": _breakdown(result, "month", month, lines),
        "pairs": _co_occurrence(result, order),
        "titles": {c["id"]: c["title"] for c in catalogue},
        "payers": payers,
        "rejected": _rejected(result, mask_phi),
        "rejected_total": result.rejected.height,
        "unmatched": result.unmatched_records.head(MAX_TABLE_ROWS).to_dicts(),
        "unmatched_total": result.unmatched_records.height,
        "input_warnings": result.input_warnings[:MAX_TABLE_ROWS],
        **_suppressed_context(result),
        "max_rows": MAX_TABLE_ROWS,
        "provenance": provenance,
        "policy_use": _policy_use(lines),
        "timings": timings,
        "run_seconds": round(sum(timings.values()), 2) if timings else None,
        "to_send": _to_send(result),
        "masked": mask_phi,
        "pseudonymised": False,
        "page_size": PAGE_SIZE,
        "data": json_island({
            "pageSize": PAGE_SIZE,
            "checks": {c["id"]: {"title": c["title"], "severity": c["severity"], "kind": c["fix_kind"],
                                 "citation": c["citation"], "disposition": c["disposition"]} for c in catalogue},
            "claims": claims,
        }),
    }


def render_html(result: ScrubResult, mask_phi: bool = False, pseudonymised: bool = False) -> str:
    """The audit report for ``result`` as one self-contained HTML document (inline CSS/JS/SVG).

    ``mask_phi`` replaces member ids everywhere in the report (claim headers, finding texts,
    rejection reasons) by :func:`mask_member_id`. ``pseudonymised``: ``result`` was already masked
    by :mod:`scrubber.masking` (``scrub check --mask-phi``: the same pseudonyms as the other
    outputs); the report says so and masks nothing more.
    """
    env = make_environment()
    context = build_context(result, mask_phi)
    context["pseudonymised"] = pseudonymised
    context["masked"] = mask_phi or pseudonymised
    return env.get_template(TEMPLATE_NAME).render(**context)
