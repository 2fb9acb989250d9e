"""Appeal letters (``scrub check ... --letters DIR``): one printable HTML letter per claim that needs a
justification, for post-payment audit preparation.

A justification finding says the coding stands and the record supports it (units over an MAI 3 MUE, a
covered diagnosis the record documents...). The letter gathers, for one claim, everything a payer's
appeals unit asks for: who and what (payer, member, claim, payer claim number, dates, billing
provider), each contested line with the rule it meets and its primary source, the documentation to
attach, and a signature block. Facts the claim did not give stay visible placeholders
(``[payer claim number?]``), marked so they are filled in before the letter is sent.

Each letter is one self-contained file (inline CSS, no script, prints on Letter/A4); ``index.html``
lists them. Autoescaped: claim data is untrusted text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from scrubber.engine import ScrubResult
from scrubber.errors import show_invisible

if TYPE_CHECKING:  # pragma: no cover
    from markupsafe import Markup

TEMPLATE = "letter.html.j2"
INDEX_TEMPLATE = "letters_index.html.j2"
_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,200}\?\]")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MODIFIERS_ONLY = "missing-modifier"  # its corrections change a line's modifiers, never its service


def mark_placeholders(text: str | None) -> Markup:
    """``text`` HTML-escaped, invisible controls shown as marks, and every ``[fact?]`` placeholder
    wrapped in ``<mark class="ph">``."""
    from markupsafe import Markup, escape

    if not text:
        return Markup("")
    text = show_invisible(text)  # (claim data inside the words: the report's finalize does not reach markup)
    out: list[str] = []
    pos = 0
    for match in _PLACEHOLDER.finditer(text):
        out.append(str(escape(text[pos:match.start()])))
        out.append(f'<mark class="ph">{escape(match.group(0))}</mark>')
        pos = match.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


LETTER_FILES = "appeal-*.html"  # every letter's file name (letter_file_name): what a later run may replace


def letter_file_name(claim_id: str) -> str:
    """A file name for a claim's letter that is safe on every file system and unique per claim id
    (two ids that sanitise alike, ``A/1`` and ``A_1``, differ by the hash)."""
    digest = hashlib.sha256(claim_id.encode("utf-8")).hexdigest()[:8]
    stem = _UNSAFE.sub("_", claim_id).strip("._")[:60] or "claim"
    return f"appeal-{stem}-{digest}.html"


def _keeping() -> frozenset[tuple[str, str]]:
    """(check, reason) of the corrections that leave their own line's service standing (card
    ``keeps_line``: an immune globulin billed with push codes recodes the push lines, not the drug)."""
    from checks import all_checks

    return frozenset((c.id, r.name) for c in all_checks() for r in c.card.reasons.values() if r.keeps_line)


_KEEPING = _keeping()


def _keeps_line() -> pl.Expr:
    return pl.struct("check_id", "reason").is_in(
        pl.DataFrame(sorted(_KEEPING), schema=["check_id", "reason"], orient="row").to_struct().implode()) \
        if _KEEPING else pl.lit(False)


def arguable_justifications(f: pl.DataFrame) -> pl.DataFrame:
    """The justification findings a letter argues for: not an info finding, nor one on a line another
    finding recodes, re-counts or deletes (a modifier's correction leaves the service standing). The
    HTML report's "send justification" count reads the same (it counted info-only GY claims too)."""
    recoded = (pl.col("fix_kind") == "correction") & (pl.col("check_id") != _MODIFIERS_ONLY) & ~_keeps_line()
    corrected_lines = f.filter(recoded).select("claim_id", "line_number").unique()
    return f.filter((pl.col("fix_kind") == "justification") & (pl.col("severity") != "info")).join(
        corrected_lines, on=["claim_id", "line_number"], how="anti", nulls_equal=True)


def letters_payload(result: ScrubResult, mask: Any = None) -> list[dict[str, Any]]:
    """One dict per claim with justification findings: the claim's facts and its findings.

    ``mask``: a callable turning a member id into what the letter shows (``--mask-phi``), or None.
    """
    f = result.findings
    if f.height == 0:
        return []
    # A justification argues that a line's service stands: not for a line another finding recodes,
    # re-counts or deletes (the letter asked to pay units of a line it listed as corrected, "$0.00 in
    # question"), nor for an info finding, whose line declares the denial the provider expects (GA, GZ,
    # GY). A missing modifier's correction (JZ, JW, KX added or taken off) leaves the service standing.
    claims = arguable_justifications(f).select("claim_id").unique()
    if claims.height == 0:
        return []
    mine = f.join(claims, on="claim_id", how="semi").sort("claim_id", "line_number", "check_id")
    lines = result.lines.join(claims, on="claim_id", how="semi")
    claim_facts = lines.group_by("claim_id").agg(
        pl.col("member_id").first(),
        pl.col("payer").first(),
        pl.col("payer_kind").first() if "payer_kind" in lines.columns else pl.lit(None, pl.String).alias("payer_kind"),
        pl.col("claim_type").first(),
        pl.col("billing_provider").drop_nulls().first(),
        pl.col("payer_claim_number").drop_nulls().first(),
        pl.col("date_of_service").min().cast(pl.String).alias("dos_from"),
        pl.col("date_of_service").max().cast(pl.String).alias("dos_to"),
        pl.col("charge").fill_null(0).sum().alias("billed"),
    )
    out = []
    for claim in claim_facts.sort("claim_id").iter_rows(named=True):
        findings = mine.filter(pl.col("claim_id") == claim["claim_id"]).to_dicts()
        # (a correction that recodes other lines than its own, keeps_line, is not listed as its line's:
        # the letter argued for a line it listed as "corrected separately"; probe 19C)
        corrected = [x for x in findings
                     if x["fix_kind"] == "correction" and (x["check_id"], x["reason"]) not in _KEEPING]
        fixed = {x["line_number"] for x in corrected if x["check_id"] != _MODIFIERS_ONLY}
        justified = [x for x in findings if x["fix_kind"] == "justification" and x["severity"] != "info"
                     and x["line_number"] not in fixed]
        attach = list(dict.fromkeys(x["attach"] for x in justified if x.get("attach")))
        # The amount in question: what the findings put at risk, and at least the charges of the lines
        # argued for (a modifier's correction, JZ added, can take a line's money first and leave the MUE
        # denial it still faces at $0.00: "Amount in question $0.00" for a $30,400 line; probe Y).
        argued = [x["line_number"] for x in justified]
        charges = lines.filter((pl.col("claim_id") == claim["claim_id"]) & pl.col("line_number").is_in(argued))
        own = float(charges.get_column("charge").fill_null(0.0).sum())
        at_risk = round(max(sum(x["charge_at_risk"] or 0.0 for x in justified), own), 2)
        # A line argued for whose charge the claim did not give: the amount is a fact to fill in, not
        # "$0.00" (README: facts the claim did not give are [fact?] placeholders; probe 16D).
        uncharged = sorted(charges.filter(pl.col("charge").is_null()).get_column("line_number").unique().to_list())
        amount = f"${at_risk:,.2f}"
        if uncharged:
            missing = f"[charge of line{'s' if len(uncharged) > 1 else ''} {', '.join(map(str, uncharged))}?]"
            amount = missing if at_risk == 0 else f"{amount} and {missing}"
        member = claim["member_id"]
        out.append({
            **claim,
            "member_shown": mask(member) if mask else member,
            "file": letter_file_name(claim["claim_id"]),
            "justified": justified,
            "corrected": corrected,
            "attach": attach,
            "at_risk": at_risk,
            "amount_shown": amount,  # (the amount as the letter and the index show it)
            "medicare": claim["payer_kind"] == "medicare",
        })
    return out


def render_letters(result: ScrubResult, mask: Any = None, today: dt.date | None = None) -> dict[str, str]:
    """File name -> HTML of each letter (one per claim with justification findings), and ``index.html``."""
    from scrubber.output.html_report import make_environment

    env = make_environment()
    env.filters["ph"] = mark_placeholders
    letters = letters_payload(result, mask)
    day = (today or dt.date.today()).isoformat()
    template = env.get_template(TEMPLATE)
    version = result.provenance.get("version", "")
    out = {letter["file"]: template.render(letter=letter, today=day, version=version) for letter in letters}
    out["index.html"] = env.get_template(INDEX_TEMPLATE).render(letters=letters, today=day)
    return out


def write_letters(result: ScrubResult, directory: str | Path, mask: Any = None,
                  today: dt.date | None = None) -> list[Path]:
    """Write the letters of :func:`render_letters` into ``directory``; return the paths written."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render_letters(result, mask, today).items():
        (target / name).write_text(text, encoding="utf-8")
        paths.append(target / name)
    return paths
