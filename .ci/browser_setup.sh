#!/usr/bin/env bash
# Install what tests/test_browser.py needs on a fresh Debian machine (run as root); idempotent.
#
# Why this way: browser builds cannot be downloaded here, so `playwright install` is never run.
# Debian's chromium package provides the browser (/usr/bin/chromium) and Playwright's Python
# package drives it through `executable_path`. Each step is skipped when already satisfied, so
# calling this before every CI run costs nothing on a machine that has it all.
set -euo pipefail

PYTHON="${PYTHON:-python}"

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
    echo "browser_setup: installing Debian's chromium" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends chromium fonts-liberation >/dev/null
fi

if ! "$PYTHON" -c "import playwright.sync_api" >/dev/null 2>&1; then
    echo "browser_setup: installing the playwright Python package (no browser download)" >&2
    "$PYTHON" -m pip install -q "playwright>=1.40"
fi

/usr/bin/chromium --version >&2
"$PYTHON" -c "import playwright, importlib.metadata as m; print('playwright', m.version('playwright'))" >&2
