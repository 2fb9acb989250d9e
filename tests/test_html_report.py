"""The HTML audit report: structure, escaping of hostile claim text, --mask-phi, scale.

The claim detail lives in a JSON island rendered by the page's JavaScript (see
``scrubber/output/html_report.py``), so these tests read findings from that island; the browser
test (``test_browser.py``) checks what a person sees.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from markupsafe import escape

from scrubber.engine import ScrubResult, scrub
from scrubber.output.html_report import (
    TEMPLATE_NAME,
    _mask_text,
    json_island,
    make_environment,
    mask_member_id,
    render_html,
)

HEADER = (
    "claim_id,line_number,member_id,payer,claim_type,place_of_service,date_of_service,procedure_code,modifier_1,"
    "modifier_2,units,charge,diagnosis_1,ndc,drug_dose_mg,route,infusion_start,infusion_stop,sites"
)
# One claim per situation the report must show: unit error (IVIG x75 for 35 g), add-on without
# primary, over-cap + missing modifier, a justification, an under-billing warning, a [dx?]
# placeholder, hostile claim and member ids, a rejected row with a hostile claim id.
ROWS = """\
C100,1,M1000042,MEDICARE,professional,11,2026-02-10,96365,,,1,250.00,D80.0,,,IV,2026-02-10T09:00,2026-02-10T12:00,
C100,2,M1000042,MEDICARE,professional,11,2026-02-10,96366,,,2,120.00,D80.0,,,IV,,,
C100,3,M1000042,MEDICARE,professional,11,2026-02-10,J1459,JZ,,75,7500.00,D80.0,44206043405,35000,IV,,,
C200,1,M2000077,AETNA,professional,11,2026-03-05,96366,,,1,120.00,G61.81,,,IV,2026-03-05T09:00,2026-03-05T10:30,
C200,2,M2000077,AETNA,professional,11,2026-03-05,J1459,JZ,,70,7000.00,G61.81,,35000,IV,,,
<script>alert(1)</script>,1,"M""&<>99",MEDICARE,professional,11,2026-03-06,96366,,,1,99.00,D80.0,,,IV,,,
C300,1,M3000011,MEDICARE,professional,12,2026-04-10,96369,,,1,300.00,D80.0,,,SC,2026-04-10T09:00,2026-04-10T10:00,4
C300,2,M3000011,MEDICARE,professional,12,2026-04-10,96370,,,1,100.00,D80.0,,,SC,,,
C300,3,M3000011,MEDICARE,professional,12,2026-04-10,96371,,,2,200.00,D80.0,,,SC,,,
C300,4,M3000011,MEDICARE,professional,12,2026-04-10,J1559,,,80,4000.00,D80.0,,8000,SC,,,
C400,1,M4000055,MEDICARE,professional,11,2026-04-11,96365,,,1,250.00,D80.0,,,IV,,,
C400,2,M4000055,MEDICARE,professional,11,2026-04-11,96365,,,1,250.00,D80.0,,,IV,,,
<img src=x onerror=alert(2)>,x,M5000001,MEDICARE,professional,11,2026-04-12,96365,,,1,250.00,D80.0,,,IV,,,
C700,1,M7000001,MEDICARE,professional,12,2026-05-01,96369,,,1,300.00,,,,SC,2026-05-01T09:00,2026-05-01T10:00,1
C700,2,M7000001,MEDICARE,professional,12,2026-05-01,J1559,JZ,,80,4000.00,,,8000,SC,,,
C800,1,M8000001,CIGNA,professional,11,2026-05-02,96365,,,1,250.00,D80.0,,,IV,2026-05-02T09:00,2026-05-02T10:00,
C800,2,M8000001,CIGNA,professional,11,2026-05-02,J1459,JZ,,60,6000.00,D80.0,,35000,IV,,,
C900,1,M9000001,MEDICARE,professional,11,2026-05-03,96365,,,1,250.00,D80.0,,,IV,2026-05-03T09:00,2026-05-03T10:00,
"""
MEMBER_IDS = ["M1000042", "M2000077", 'M"&<>99', "M3000011", "M4000055", "M7000001", "M8000001", "M9000001"]
ISLAND = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


def write_sample(directory: Path) -> Path:
    """The sample batch above as a claims CSV in ``directory``."""
    path = directory / "claims.csv"
    path.write_text(HEADER + "\n" + ROWS, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> ScrubResult:
    return scrub([str(write_sample(tmp_path_factory.mktemp("claims")))])


@pytest.fixture(scope="module")
def report(result: ScrubResult) -> str:
    return render_html(result)


def island(text: str) -> dict[str, Any]:
    match = ISLAND.search(text)
    assert match, "no JSON data island in the report"
    return json.loads(match.group(1))


def all_findings(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for claim in data["claims"] for f in claim["findings"]]


def test_sample_exercises_what_the_report_must_show(result: ScrubResult) -> None:
    # Guards the fixture: if the checks change, these tests must still cover each case.
    f = result.findings
    assert {"unit-miscalculation", "addon-without-primary", "over-cap-96371", "missing-modifier",
            "duplicate-initial-infusion", "noncovered-diagnosis"} <= set(f.get_column("check_id"))
    assert {"error", "warning"} <= set(f.get_column("severity"))
    assert {"correction", "justification"} <= set(f.get_column("fix_kind"))
    assert f.get_column("appeal_text").str.contains(r"\[[^\]]+\?\]").any()
    assert result.rejected.height == 1


def test_summary_has_one_row_per_check(result: ScrubResult, report: str) -> None:
    rows = re.findall(r'<tr class="[^"]*" data-check="([^"]+)">', report)
    assert rows == [c.id for c in result.checks]
    for c in result.checks:
        assert str(escape(c.title)) in report
    s = result.summary
    assert f"Rows read {s['rows_read']} = {s['rows_checked']} checked + {s['rejected_rows']} rejected" in report
    assert "reconciled" in report
    assert f"${s['charges_at_risk']:,.2f}" in report and f"${s['charges_billed']:,.2f}" in report


def test_summary_sections_chart_payers_months_pairs(result: ScrubResult, report: str) -> None:
    svg = re.search(r'<svg class="chart".*?</svg>', report, re.S)
    assert svg, "no inline SVG chart"
    for c in result.checks:
        assert f">{c.id}</text>" in svg.group(0)
    assert 'class="data by-payer"' in report and 'class="data by-month"' in report
    for payer in ("AETNA", "CIGNA", "MEDICARE"):
        assert f"<td>{payer}</td>" in report
    for month in ("2026-02", "2026-03", "2026-04", "2026-05"):
        assert f"<td>{month}</td>" in report
    pairs = re.search(r'<table class="data pairs">.*?</table>', report, re.S)
    assert pairs and "over-cap-96371" in pairs.group(0) and "missing-modifier" in pairs.group(0)


def test_every_finding_is_in_the_report(result: ScrubResult, report: str) -> None:
    data = island(report)
    flagged = set(result.findings.get_column("claim_id"))
    assert {c["id"] for c in data["claims"]} == flagged
    got = sorted((f["check"], f["msg"], f["fix"], f["appeal"] or "", f["kind"], f["cite"])
                 for f in all_findings(data))
    want = sorted(
        (r["check_id"], r["message"], r["suggested_fix"], r["appeal_text"] or "", r["fix_kind"], r["citation"])
        for r in result.findings.iter_rows(named=True)
    )
    assert got == want
    # Each finding shows its own sources: a professional claim's second initial service cites the
    # physician section (ch.12 30.5), never the hospital one its check also cites for institutional claims.
    professional = [f for c in data["claims"] for f in c["findings"]
                    if f["check"] == "duplicate-initial-infusion" and "30.5" in f["cite"]]
    assert professional and all("230.2" not in f["cite"] for f in professional)
    assert "f.cite || meta.citation" in report
    for check_id, meta in data["checks"].items():
        assert meta["title"] and meta["citation"], check_id


def test_claims_are_in_priority_order_with_their_lines(result: ScrubResult, report: str) -> None:
    claims = island(report)["claims"]
    keys = [(-c["sev"], -c["risk"]) for c in claims]
    assert keys == sorted(keys)
    c100 = next(c for c in claims if c["id"] == "C100")
    assert [line["n"] for line in c100["lines"]] == [1, 2, 3]
    j1459 = c100["lines"][2]
    assert (j1459["code"], j1459["mods"], j1459["units"], j1459["dx"], j1459["sev"]) == ("J1459", "JZ", 75, "D80.0", 3)
    assert "dose 35000 mg" in j1459["doc"]
    assert c100["lines"][0]["sev"] == 0  # unflagged line is not marked
    # J1459 x75 for a 35,000 mg dose (70 units): the 5 excess units' share of the $7,500 line is at risk.
    assert c100["risk"] == 500.0 and c100["billed"] == 7870.0


def test_rejected_rows_and_provenance(result: ScrubResult, report: str) -> None:
    rejected = re.search(r'<table class="data rejected">.*?</table>', report, re.S)
    assert rejected
    for r in result.rejected.iter_rows(named=True):
        assert str(escape(r["reason"])) in rejected.group(0)
        assert str(escape(r["claim_id"])) in rejected.group(0)
    footer = report[report.index('<footer class="provenance"'):]
    prov = result.provenance
    assert prov["version"] in footer and prov["started_at"] in footer
    for path in prov["inputs"]:
        assert str(escape(path)) in footer
    for policy in prov["policies"]:
        assert f"<td>{escape(policy['name'])}</td>" in footer
    for ref in prov["reference_data"]:
        assert str(escape(ref["release"])) in footer


def test_hostile_claim_text_is_escaped(report: str) -> None:
    assert "<script>alert" not in report
    assert "<img src=x" not in report
    assert report.count("<script") == 2  # the JSON island and the inline script, nothing injected
    body = ISLAND.search(report)
    assert body
    raw = body.group(1)
    assert "<" not in raw and ">" not in raw and "&" not in raw  # cannot close its script element
    data = json.loads(raw)
    assert any(c["id"] == "<script>alert(1)</script>" for c in data["claims"])  # survives intact as data
    assert any(c["member"] == 'M"&<>99' for c in data["claims"])
    assert "&lt;img src=x onerror=alert(2)&gt;" in report  # the rejected row, escaped by Jinja


def test_json_island_cannot_break_out() -> None:
    payload = {"a": "</script><script>alert(1)</script><!-- & \u2028"}
    text = str(json_island(payload))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == payload


def test_autoescape_is_on_for_the_report_template() -> None:
    env = make_environment()
    template = env.get_template(TEMPLATE_NAME)
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x="<b>&") == "&lt;b&gt;&amp;"
    assert template.name == TEMPLATE_NAME


def test_mask_phi_hides_member_ids(result: ScrubResult, report: str) -> None:
    masked = render_html(result, mask_phi=True)
    # Sanity: the unmasked report carries them (in the island and in finding text).
    assert "M3000011" in report
    for member in MEMBER_IDS:
        for form in {member, str(escape(member)), html.escape(member), json.dumps(member)[1:-1].replace("<", "\\u003c")
                     .replace(">", "\\u003e").replace("&", "\\u0026")}:
            assert form not in masked, f"member id {member!r} visible as {form!r}"
    data = island(masked)
    members = {c["member"] for c in data["claims"]}
    assert "***42" in members and "***99" in members
    over_cap = next(f for f in all_findings(data) if f["check"] == "over-cap-96371")
    assert "member ***11 on" in over_cap["msg"]  # the finding text quoted the id; masked there too
    assert "member ids masked" in masked


def test_mask_member_id() -> None:
    assert mask_member_id("1EG4TE5MK72") == "***72"
    assert mask_member_id("M1") == "***"
    assert mask_member_id("ABCDE") == "***"
    assert mask_member_id(None) is None


def test_mask_text_masks_whole_tokens_only() -> None:
    ids = ["M1000042", "M10"]  # longest first, as the report orders them
    assert _mask_text("member M10 and M1000042; not M100 or XM10", ids) == "member *** and ***42; not M100 or XM10"
    assert _mask_text('id M"&<>99.', ['M"&<>99']) == "id ***99."
    assert _mask_text("M10M10", ["M10"]) == "M10M10"
    assert _mask_text(None, ids) is None


def test_nothing_is_fetched_from_the_network(report: str) -> None:
    assert not re.search(r"<(link|img|iframe|object|embed)\b", report)
    assert not re.search(r"<[a-zA-Z][^>]*\ssrc=", report)
    assert "@import" not in report and "url(" not in report
    assert re.findall(r"https?://[^\s\"'<>]+", report) == ["http://www.w3.org/2000/svg"]


def test_clean_batch_and_empty_batch(tmp_path: Path) -> None:
    clean = tmp_path / "clean.csv"
    clean.write_text(HEADER + "\nK1,1,M1,MEDICARE,professional,11,2026-01-05,96365,,,1,100,D80.0,,,IV,,,\n",
                     encoding="utf-8")
    text = render_html(scrub([str(clean)]))
    assert "No findings" in text and island(text)["claims"] == []
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "\nK1,x,M1,MEDICARE,professional,11,not-a-date,96365,,,1,100,D80.0,,,IV,,,\n",
                   encoding="utf-8")
    text = render_html(scrub([str(bad)]))
    assert "Rejected rows (1)" in text and "No lines were checked" in text


def test_cli_writes_the_report(tmp_path: Path) -> None:
    from scrubber.cli import main

    out = tmp_path / "out" / "report.html"
    run = CliRunner().invoke(main, ["check", str(write_sample(tmp_path)), "--html", str(out), "--mask-phi",
                                    "--fail-on", "never"])
    assert run.exit_code == 0, run.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "M1000042" not in text


def big_batch(directory: Path, claims: int) -> Path:
    """``claims`` claims, each with an add-on unit error and an IVIG unit error (3 lines)."""
    payers = ("MEDICARE", "AETNA", "CIGNA", "UHC")
    rows = [HEADER]
    for i in range(claims):
        claim, member, payer = f"B{i:06d}", f"MB{i:07d}", payers[i % 4]
        dos = f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"
        rows += [
            f"{claim},1,{member},{payer},professional,11,{dos},96365,,,1,250,D80.0,,,IV,{dos}T09:00,{dos}T10:30,",
            f"{claim},2,{member},{payer},professional,11,{dos},96366,,,1,120,D80.0,,,IV,,,",
            f"{claim},3,{member},{payer},professional,11,{dos},J1459,JZ,,75,7500,D80.0,,35000,IV,,,",
        ]
    path = directory / "big.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_ten_thousand_flagged_claims_are_paged_not_rendered_up_front(tmp_path: Path) -> None:
    """The report stays usable for 10,000 flagged claims because claim detail is built a page at a
    time in the browser (render time and size: ``benchmarks/x12_and_report.py``)."""
    result = scrub([str(big_batch(tmp_path, 10_000))])
    assert result.findings.get_column("claim_id").n_unique() == 10_000
    text = render_html(result, mask_phi=True)
    size = len(text.encode("utf-8"))
    assert size < 60 * 1024 * 1024, f"report is {size / 1e6:.1f} MB"
    data = island(text)
    assert len(data["claims"]) == 10_000 and data["pageSize"] <= 100
    # Claim detail is not rendered as HTML up front: the browser builds a page of 100 on demand.
    assert text.count("<details") == 0
    assert pl.Series([c["member"] for c in data["claims"]]).str.starts_with("***").all()


def test_lines_and_findings_say_where_they_are(result: ScrubResult, report: str) -> None:
    # CSV lines carry no source_location (the engine leaves it null); the report must still show "row N".
    assert result.lines.get_column("source_location").is_null().all()
    data = island(report)
    for claim in data["claims"]:
        assert claim["src"] and claim["src"].endswith("claims.csv")
        for line in claim["lines"]:
            assert re.fullmatch(r"row \d+", line["loc"]), line
        for finding in claim["findings"]:
            assert finding["loc"] and re.fullmatch(r"row \d+", finding["loc"]), finding
    c100 = next(c for c in data["claims"] if c["id"] == "C100")
    assert [line["loc"] for line in c100["lines"]] == ["row 2", "row 3", "row 4"]
    rejected = re.search(r'<table class="data rejected">.*?</table>', report, re.S)
    assert rejected and "<td>row 14</td>" in rejected.group(0)


def test_summary_says_what_to_send(result: ScrubResult, report: str) -> None:
    f = result.findings
    kinds = f.group_by("claim_id").agg((pl.col("fix_kind") == "correction").any().alias("c"),
                                       (pl.col("fix_kind") == "justification").any().alias("j"))
    n_correct, n_justify = int(kinds.get_column("c").sum()), int(kinds.get_column("j").sum())
    assert n_correct and n_justify
    box = re.search(r'<div class="to-send">.*?</div>\s*<div class="kpis">', report, re.S)
    assert box, "no 'what to send' line in the summary"
    text = re.sub(r"<[^>]+>", "", box.group(0))
    assert f"Correct &amp; resubmit {n_correct} claim(s)" in text
    assert f"Send justification {n_justify} claim(s)" in text and "the coding stands" in text
    assert "[fact?]" in text  # the sample has appeal texts with a missing fact
    # The Fix column counts the kinds of the findings, not only the check's default kind.
    for check_id, group in f.group_by("check_id"):
        row = re.search(rf'<tr class="[^"]*" data-check="{check_id[0]}">.*?</tr>', report, re.S)
        assert row
        for kind, n in group.group_by("fix_kind").len().iter_rows():
            assert f'<span class="badge kind {kind}"' in row.group(0) and f">{n} {kind}</span>" in row.group(0)


def test_provenance_footer_has_policy_use_run_time_and_masking(result: ScrubResult, report: str) -> None:
    footer = report[report.index('<footer class="provenance"'):]
    used = result.lines.group_by("policy").agg(pl.col("claim_id").n_unique())
    for policy, claims in used.iter_rows():
        assert re.search(rf"<td>{policy}</td>.*?{claims} claim\(s\)", footer, re.S), policy
    assert "checked in" in footer and all(phase in footer for phase in result.timings)
    assert "shown in full" in footer
    assert "masked (--mask-phi)" in render_html(result, mask_phi=True)


def test_mask_phi_covers_rejection_reasons(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(
        HEADER + "\n"
        "D1,1,MX1234567,MEDICARE,professional,11,2026-02-10,96365,,,1,250.00,D80.0,,,IV,,,\n"
        "D1,2,MY7654321,MEDICARE,professional,11,2026-02-10,96366,,,1,120.00,D80.0,,,IV,,,\n"
        "D2,1,MZ5550001,MEDICARE,professional,11,2026-02-11,96366,,,1,120.00,D80.0,,,IV,,,\n",
        encoding="utf-8",
    )
    result = scrub([str(path)])
    assert result.rejected.get_column("reason").str.contains("MX1234567").any()  # the reason quotes them
    masked = render_html(result, mask_phi=True)
    for member in ("MX1234567", "MY7654321", "MZ5550001"):
        assert member not in masked
    assert "disagree on member_id ([masked])" in masked
    assert "MX1234567" in render_html(result)


def test_a_next_payer_copy_says_which_claim_it_repeats(tmp_path: Path) -> None:
    # C401 repeats C400's lines to the secondary payer: its findings are its own, and the report
    # says it is a copy, so a reader does not take it for a duplicate submission.
    rows = [r for r in ROWS.splitlines() if r.startswith("C400,")]
    copy = [r.replace("C400,", "C401,").replace(",MEDICARE,", ",AETNA,") for r in rows]
    path = tmp_path / "claims.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows + copy) + "\n", encoding="utf-8")
    claims = {c["id"]: c for c in island(render_html(scrub([str(path)])))["claims"]}
    assert set(claims) == {"C400", "C401"}
    assert claims["C401"]["copy_of"] == "C400" and claims["C401"]["cob"] == 1
    assert claims["C400"]["copy_of"] is None and claims["C400"]["cob"] == 0


def test_one_payer_written_in_several_cases_is_one_row_and_one_filter_entry(tmp_path: Path) -> None:
    # README: payer names are read trimmed and case-insensitively. AETNA, Aetna and "aetna " scattered
    # one payer's exposure over three rows of "By payer" and three entries of the payer filter (probe 16D).
    rows = [f"P{i},1,M{i},{payer},professional,11,2026-01-05,96366,,,1,100,D80.0,,,IV,,,"
            for i, payer in enumerate(["AETNA", "Aetna", " aetna ", "MEDICARE"])]
    path = tmp_path / "payers.csv"
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    from scrubber.output.html_report import build_context
    context = build_context(scrub([str(path)]))
    by_payer = {r["payer"]: (r["claims"], r["findings"], r["at_risk"]) for r in context["by_payer"]}
    assert by_payer == {"AETNA": (3, 3, 300.0), "MEDICARE": (1, 1, 100.0)}
    assert context["payers"] == ["AETNA", "MEDICARE"]
    # Each claim keeps its payer as written; the filter reads the grouped name.
    claims = island(render_html(scrub([str(path)])))["claims"]
    assert {c["payer"]: c["pk"] for c in claims if c["pk"] == "AETNA"}.keys() == {"AETNA", "Aetna", "aetna"}


# Hostile input (probe 23H B5): bidirectional overrides and zero-width characters from claim data
# reached the report and the letters escaped but raw, so "PCN-1\u202e9001" displayed reversed and two
# ids differing by a zero-width space looked the same. Each is shown as a visible mark.
BIDI_ROWS = (
    "PCN-1\u202e9001,1,M\u200b77,MEDICARE,professional,12,2026-05-01,96369,,,1,300.00,,,,SC,2026-05-01T09:00,"
    "2026-05-01T10:00,1\n"
    "PCN-1\u202e9001,2,M\u200b77,MEDICARE,professional,12,2026-05-01,J1559,JZ,,80,4000.00,,,8000,SC,,,\n"
    "PCN-\u2066X\u2069,x,M78,MEDICARE,professional,11,2026-02-10,96365,,,1,250.00,D80.0,,,IV,,,\n"
    "PCN-NAME\u200d,1,M79,MEDICARE,professional,11,2026-02-10,96366,,,1,120.00,D80.0,,,IV,,,\n"
)


def test_invisible_controls_in_claim_data_are_shown_as_marks(tmp_path: Path) -> None:
    from scrubber.output.letters import render_letters

    path = tmp_path / "claims.csv"
    path.write_text(HEADER + "\n" + BIDI_ROWS, encoding="utf-8")
    result = scrub([str(path)])
    assert result.rejected.height == 1 and result.findings.height >= 2
    pages = [render_html(result), *render_letters(result).values()]
    for page in pages:
        assert not re.search("[\u202a-\u202e\u2066-\u2069\u200b]", page)
    report = pages[0]
    assert "PCN-1[U+202E]9001" in report  # in the JSON island (as data) and the printed tables
    assert "PCN-[U+2066]X[U+2069]" in report  # the rejected row
    assert "M[U+200B]77" in report
    assert "PCN-NAME\u200d" in report  # a joiner is left: names in several scripts need it
    assert any("PCN-1[U+202E]9001" in letter for letter in pages[1:])


def test_plain_claim_data_is_printed_as_written(report: str) -> None:
    """The near miss: text without such controls is unchanged (no mark, nothing dropped)."""
    assert "[U+" not in report
    assert any(c["id"] == "C100" for c in island(report)["claims"])
