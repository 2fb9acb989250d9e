"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright.

Why a browser: the claim detail, filters and search are inline JavaScript; only a browser shows
that they run offline without errors and that a filter changes what a person sees.

Setup: ``.ci/browser_setup.sh`` installs ``chromium`` (apt) and the ``playwright`` Python package;
``playwright install`` is never used (browser downloads are not possible here), Playwright drives
``/usr/bin/chromium`` through ``executable_path``. In CI (``CI`` set) a missing browser is a
failure, not a skip: the test must run there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scrubber.engine import scrub
from scrubber.output.html_report import render_html

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

HEADER = (
    "claim_id,line_number,member_id,payer,place_of_service,date_of_service,procedure_code,modifier_1,units,charge,"
    "diagnosis_1,drug_dose_mg,route,infusion_start,infusion_stop,sites"
)
# (C700: home SCIG without JZ, a modifier to correct, beside the coverage justification; its missing KX
# is the coverage finding's, one root cause.)
# Errors on several checks and payers, one under-billing warning, a justification, a [dx?]
# placeholder, a hostile claim id and a rejected row.
ROWS = """\
C100,1,M1000042,MEDICARE,11,2026-02-10,96365,,1,250.00,D80.0,,IV,2026-02-10T09:00,2026-02-10T12:00,
C100,2,M1000042,MEDICARE,11,2026-02-10,96366,,2,120.00,D80.0,,IV,,,
C100,3,M1000042,MEDICARE,11,2026-02-10,J1459,JZ,75,7500.00,D80.0,35000,IV,,,
C200,1,M2000077,AETNA,11,2026-03-05,96366,,1,120.00,D80.0,,IV,2026-03-05T09:00,2026-03-05T10:30,
<script>alert(1)</script>,1,M6600099,MEDICARE,11,2026-03-06,96366,,1,99.00,D80.0,,IV,,,
C300,1,M3000011,MEDICARE,12,2026-04-10,96369,,1,300.00,D80.0,,SC,2026-04-10T09:00,2026-04-10T10:00,4
C300,2,M3000011,MEDICARE,12,2026-04-10,96371,,2,200.00,D80.0,,SC,,,
C300,3,M3000011,MEDICARE,12,2026-04-10,J1559,,80,4000.00,D80.0,8000,SC,,,
C700,1,M7000001,MEDICARE,12,2026-05-01,96369,,1,300.00,,,SC,2026-05-01T09:00,2026-05-01T10:00,1
C700,2,M7000001,MEDICARE,12,2026-05-01,J1559,,80,4000.00,,8000,SC,,,
C800,1,M8000001,CIGNA,11,2026-05-02,96365,,1,250.00,D80.0,,IV,2026-05-02T09:00,2026-05-02T10:00,
C800,2,M8000001,CIGNA,11,2026-05-02,J1459,JZ,60,6000.00,D80.0,35000,IV,,,
C500,x,M5000001,MEDICARE,11,2026-04-12,96365,,1,250.00,D80.0,,IV,,,
"""


def _skip_or_fail(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {reason}. Run .ci/browser_setup.sh before pytest "
                    "(apt-get install chromium; pip install playwright).")
    pytest.skip(f"{reason} (run .ci/browser_setup.sh to install it)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("the playwright Python package is not installed")
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        _skip_or_fail(f"Debian's chromium is not installed ({CHROMIUM})")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("browser")
    claims = directory / "claims.csv"
    claims.write_text(HEADER + "\n" + ROWS, encoding="utf-8")
    path = directory / "report.html"
    path.write_text(render_html(scrub([str(claims)])), encoding="utf-8")
    return path


@pytest.fixture
def page(browser: Any, report_path: Path) -> Iterator[Any]:
    """The report opened from a file:// URL, with console errors, page errors and dialogs recorded."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")  # an alert() would mean injected script ran
        dialog.dismiss()

    pg.on("dialog", on_dialog)
    # Offline: any request other than the file itself is a bug (nothing may be fetched).
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:") else (
        problems.append(f"network request: {route.request.url}"), route.abort()))
    pg.goto(report_path.as_uri())
    pg.wait_for_selector("body[data-ready='1']", timeout=15_000)
    pg.problems = problems
    yield pg
    context.close()


def counts(pg: Any) -> tuple[int, int, int]:
    """(claims matching, findings matching, claim blocks on the page) as the page reports them."""
    line = pg.locator("#claim-count")
    return (int(line.get_attribute("data-claims")), int(line.get_attribute("data-findings")),
            pg.locator("#claim-list details.claim").count())


def test_report_opens_without_errors(page: Any) -> None:
    claims, findings, shown = counts(page)
    assert claims == shown and claims >= 5 and findings > claims
    assert page.locator("#summary .kpi").count() == 5
    assert page.locator("#checks svg.chart rect.error").count() >= 4
    assert page.problems == []


def test_filters_change_what_is_shown(page: Any) -> None:
    all_claims, all_findings, _ = counts(page)
    page.select_option("#f-sev", "warning")
    claims, findings, shown = counts(page)
    assert 0 < claims < all_claims and findings < all_findings and shown == claims
    assert page.locator("#claim-list details.claim .chip.error").count() == 0

    page.select_option("#f-sev", "")
    page.select_option("#f-check", "over-cap-96371")
    assert counts(page)[:2] == (1, 1)
    assert page.locator("#claim-list details.claim").first.get_attribute("data-claim") == "C300"

    page.select_option("#f-check", "")
    page.select_option("#f-payer", "AETNA")
    assert counts(page)[0] == 1
    page.click("#f-reset")
    assert counts(page)[:2] == (all_claims, all_findings)
    assert page.problems == []


def search(pg: Any, text: str, expect_claims: int) -> None:
    """Type into the search box and wait until the (debounced) list shows the expected count for it."""
    pg.fill("#f-search", text)
    pg.wait_for_function(
        "([q, n]) => document.getElementById('claim-count').dataset.claims === String(n)"
        " && document.getElementById('f-search').value === q"
        " && document.querySelectorAll('#claim-list details.claim').length === Math.min(n, 100)",
        arg=[text, expect_claims],
    )
    pg.wait_for_timeout(300)  # past the debounce: the count must not change again
    assert counts(pg)[0] == expect_claims


def test_search_box_filters(page: Any) -> None:
    all_claims = counts(page)[0]
    search(page, "c800", 1)
    assert page.locator("#claim-list details.claim").first.get_attribute("data-claim") == "C800"
    search(page, "<script>", 1)
    # The hostile claim id is shown as text, and no script ran.
    assert page.locator("#claim-list .c-id").first.inner_text() == "<script>alert(1)</script>"
    search(page, "no such thing anywhere", 0)
    assert page.locator("#claim-list .no-match").count() == 1
    search(page, "", all_claims)
    assert page.problems == []


def test_claim_detail_shows_lines_findings_and_text_to_send(page: Any) -> None:
    page.click("#expand-all")
    c100 = page.locator("details.claim[data-claim='C100']")
    rows = c100.locator("table.lines tbody tr:not(.fix-row)")
    assert rows.count() == 3
    assert c100.locator("table.lines tbody tr.flagged").count() >= 1
    assert "J1459" in c100.locator("table.lines tbody tr.flagged").last.inner_text()
    # Where each line is in its file: CSV lines have no source_location, the report spells out "row N".
    assert c100.locator("table.lines tbody td.loc").all_inner_texts() == ["row 2", "row 3", "row 4"]
    # The correction sits under the flagged line itself, so the table alone says what to change.
    fix = c100.locator("table.lines tbody tr.flagged + tr.fix-row")
    assert "Bill J1459 x70 instead of x75" in fix.inner_text() and "resubmit" in fix.inner_text().lower()
    finding = c100.locator("li.finding").filter(has_text="unit-miscalculation").first
    assert "Bill J1459 x70 instead of x75" in finding.inner_text()
    assert finding.locator(".appeal-head").inner_text().lower().startswith("correction to resubmit")
    # A justification, and a missing fact highlighted as a placeholder.
    c700 = page.locator("details.claim[data-claim='C700']")
    assert c700.locator(".appeal.justification .appeal-head").first.inner_text().lower().startswith("justification")
    assert c700.locator("mark.ph").filter(has_text="[payer claim number?]").count() >= 1
    # A long placeholder is marked too, and the text says how many facts are missing.
    justification = c700.locator(".appeal.justification")
    assert justification.locator("mark.ph").filter(has_text="[covered diagnosis").count() == 1
    assert "1 fact(s) to fill in" in justification.locator(".ph-count").inner_text()
    assert c700.locator("summary .kind-tag").all_inner_texts() == ["Correct & resubmit", "Send justification"]
    assert page.problems == []


def test_summary_says_what_to_send(page: Any) -> None:
    text = page.locator("#summary .to-send").inner_text()
    assert "Correct & resubmit 6 claim(s)" in text and "the coding stands" in text and "fill it in" in text
    assert page.problems == []


def test_print_layout(page: Any) -> None:
    """Printed (or saved to PDF): no controls, the claims of the page open, nothing cut off at page width."""
    page.set_viewport_size({"width": 700, "height": 1000})  # about the printable width of A4/Letter
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert not page.locator(".controls").is_visible() and not page.locator("#expand-all").is_visible()
    assert not page.locator("button.copy").first.is_visible()
    claims = page.locator("#claim-list details.claim")
    assert claims.count() > 0 and page.locator("#claim-list details.claim[open]").count() == claims.count()
    assert page.locator("#claim-list table.lines").count() == claims.count()
    overflow = page.evaluate(
        "() => Array.from(document.querySelectorAll('main table, main .claim-body, main details.claim'))"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.className || e.tagName)"
    )
    assert overflow == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 700
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert page.problems == []


def test_summary_link_filters_claims_by_check(page: Any) -> None:
    page.locator("a.filter-link[data-filter-check='missing-modifier']").first.click()
    assert page.locator("#f-check").input_value() == "missing-modifier"
    claims = counts(page)[0]
    assert claims >= 1 and all(
        "missing-modifier" in t for t in page.locator("#claim-list details.claim .c-chips").all_inner_texts()
    )
    assert page.problems == []


def _overflowing(pg: Any) -> list[str]:
    """Tables and claim blocks whose content is wider than their box (a cut or overlapping column)."""
    return pg.evaluate(
        "() => Array.from(document.querySelectorAll('main table, main .claim-body, main details.claim, main section'))"
        ".filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)"
        ".map(e => (e.id || e.className || e.tagName))"
    )


def test_tables_readable_at_1024_px(page: Any) -> None:
    """A billing office screen: at 1024 px every table fits its box, nothing is cut or overlaps."""
    page.set_viewport_size({"width": 1024, "height": 800})
    page.click("#expand-all")
    assert _overflowing(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    # No two cells of a summary table row overlap horizontally.
    overlaps = page.evaluate(
        "() => Array.from(document.querySelectorAll('main table tr')).filter(tr => {"
        "  const r = Array.from(tr.children).map(c => c.getBoundingClientRect());"
        "  return r.some((a, i) => i > 0 && a.left < r[i - 1].right - 1); }).length"
    )
    assert overlaps == 0
    assert page.problems == []


def test_appeal_letters_open_and_print(browser: Any, tmp_path: Path) -> None:
    from scrubber.output.letters import write_letters

    claims = tmp_path / "claims.csv"
    claims.write_text(HEADER + "\n" + ROWS, encoding="utf-8")
    paths = write_letters(scrub([str(claims)]), tmp_path / "letters")
    letters = [p for p in paths if p.name != "index.html"]
    assert letters, "the batch has justification findings, so letters are written"
    context = browser.new_context(viewport={"width": 900, "height": 1200})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("pageerror", lambda exc: problems.append(str(exc)))
    pg.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    for path in [*letters, tmp_path / "letters" / "index.html"]:
        pg.goto(path.as_uri())
        assert pg.evaluate("document.documentElement.scrollWidth") <= 900
        pg.emulate_media(media="print")
        assert pg.pdf(format="Letter").startswith(b"%PDF")
        pg.emulate_media(media="screen")
    pg.goto(letters[0].as_uri())
    assert pg.locator("mark.ph").count() >= 3  # signature block and missing facts are marked
    assert problems == []
    context.close()
