#!/usr/bin/env bash
# scripts/status-screenshot.sh [OUT]: the README's picture of `berthctl status --html`
# (default OUT: docs/status-page.png).
#
# A 40-host showcase fleet (berth-fleet-gen --showcase, bench/FleetFixture/ShowcaseFleet.swift:
# every state the page can show, a rollback with its diff, a certificate inside renewBefore, a
# host a commit behind, a forged report, a host that never reported), its page rendered by
# berthctl, and a headless-Chromium screenshot of it at SIZE (default 1280,800).
#
# The page is shown as an operator sees it after one click: OPEN=1 (default) opens the first
# rolled-back host's drift, so the picture shows a unified diff. That is done on a copy, by adding
# `open` to that one <details> element (what the click does); the page's style, script and
# Content-Security-Policy are unchanged. OPEN=0 shows the page exactly as written.
#
#   BIN=DIR          berthctl and berth-fleet-gen from DIR instead of building them
#   BUILD_FLAGS=...  passed to `swift build` (e.g. "--scratch-path /tmp/b")
#   SIZE=1280,800  COUNT=40  OPEN=1  CHROMIUM=chromium  KEEP=1 (keep the work directory)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$HERE/docs/status-page.png}
SWIFT=${SWIFT:-swift}
SIZE=${SIZE:-1280,800}
COUNT=${COUNT:-40}
OPEN=${OPEN:-1}
CHROMIUM=${CHROMIUM:-chromium}

command -v "$CHROMIUM" >/dev/null || { echo "status-screenshot: chromium is missing: run scripts/deps.sh" >&2; exit 1; }
if [ -z "${BIN:-}" ]; then
    cd "$HERE"
    for product in berthctl berth-fleet-gen; do "$SWIFT" build ${BUILD_FLAGS:-} --product "$product" >&2; done
    BIN=$("$SWIFT" build ${BUILD_FLAGS:-} --show-bin-path)
fi
for tool in berthctl berth-fleet-gen; do
    [ -x "$BIN/$tool" ] || { echo "status-screenshot: $BIN/$tool is missing" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/berth-status-shot.XXXXXX)
cleanup() { if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK" >&2; fi; }
trap cleanup EXIT

"$BIN/berth-fleet-gen" --showcase --count "$COUNT" --out "$WORK" >"$WORK/gen.log"
# The showcase fleet has failed hosts, so status exits 1: expected, the page is written all the same.
"$BIN/berthctl" status --html "$WORK/index.html" --repo "$WORK/fleet" --reports "$WORK/reports" >&2 || [ $? -eq 1 ]
page=$WORK/index.html
if [ "$OPEN" = 1 ]; then
    # The first row whose state is rolled-back: open its drift's <details> (the first in the row).
    awk '!done && /^<tr[ >]/ && /<b class=bad>rolled-back<\/b>/ { sub(/<details>/, "<details open>"); done = 1 } { print }' \
        "$page" >"$WORK/shown.html"
    grep -q '<details open>' "$WORK/shown.html" || { echo "status-screenshot: no rolled-back row to open" >&2; exit 1; }
    page=$WORK/shown.html
fi

# A profile of its own; --no-sandbox because this runs as root here, where Chromium's sandbox refuses to start.
"$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --hide-scrollbars \
    --user-data-dir="$WORK/profile" --window-size="$SIZE" --screenshot="$WORK/shot.png" "file://$page" \
    >"$WORK/chromium.log" 2>&1 || { cat "$WORK/chromium.log" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
cp "$WORK/shot.png" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
echo "wrote $OUT ($(( $(stat -c %s "$OUT") / 1024 )) KB, ${SIZE/,/x})"
