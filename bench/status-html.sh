#!/usr/bin/env bash
# bench/status-html.sh: `berthctl status --html` at 100, 1,000 and 10,000 hosts (docs/status-page.md).
#
# For each size, a fleet from berth-fleet-gen (bench/FleetGenerator: signed reports in mixed
# states, as bench/fleet-scale.sh uses) and then:
#  - berthctl status --html: wall time and peak RSS (GNU time), median of RUNS runs; the page's size
#    (and gzip'd, as a static server or CI artifact store would send it);
#  - headless Chromium (Debian's chromium) on the page:
#      parse    navigation start to DOMContentLoaded (HTML parsed, the page's script run),
#      ready    navigation start to the page loaded and laid out (at load, a full style and
#               layout forced by reading offsetHeight: the table can be read and scrolled),
#      filter   typing "failed" in the filter box until the table is laid out again,
#      shot     wall time of `chromium --headless --screenshot` (start, load, layout, paint,
#               PNG) less the same for an empty page: what the page adds to a browser's work.
#    The in-page figures come from a copy of the page with a timing script appended and the CSP
#    meta removed (the page's policy admits only its own script); the page itself is unchanged.
#
# SCREENSHOT=PATH also writes the README's picture with the same binaries
# (scripts/status-screenshot.sh: a 40-host showcase fleet in every state, 1280x800).
#
#   SIZES="100 1000 10000"  RUNS=3  KEEP=1 (keep the work directory)
#   BUILD_FLAGS="--scratch-path DIR" (build elsewhere than .build)  SCREENSHOT=docs/status-page.png
#   BIN=DIR (use the berthctl and berth-fleet-gen in DIR instead of building release ones)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
SWIFT=${SWIFT:-swift}
SIZES=${SIZES:-"100 1000 10000"}
RUNS=${RUNS:-3}
CHROMIUM=${CHROMIUM:-chromium}
WORK=$(mktemp -d /tmp/berth-status-html.XXXXXX)
cleanup() { if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi; }
trap cleanup EXIT

command -v "$CHROMIUM" >/dev/null || { echo "chromium is missing: run scripts/deps.sh" >&2; exit 1; }
cd "$HERE"
if [ -z "${BIN:-}" ]; then
    echo "building release binaries..." >&2
    for product in berthctl berth-fleet-gen; do
        "$SWIFT" build -c release ${BUILD_FLAGS:-} --product "$product" >&2
    done
    BIN=$("$SWIFT" build -c release ${BUILD_FLAGS:-} --show-bin-path)
fi
CTL=$BIN/berthctl GEN=$BIN/berth-fleet-gen

# Headless Chromium with a profile of its own; --no-sandbox because benches run as root here.
browser() {
    "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
        --user-data-dir="$WORK/profile" "$@" 2>>"$WORK/chromium.log"
}

# human BYTES: 740 KB, 7.1 MB.
human() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MB", b / 1048576; else printf "%.0f KB", b / 1024 }'; }

# median FILE: the median of the numbers in FILE, one per line.
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# wall SECONDS-FILE CMD...: appends CMD's wall time in seconds to SECONDS-FILE.
wall() {
    local out=$1; shift
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }' >>"$out"
}

# The timing script appended to a copy of the page; its result lands in <body data-bench="...">.
cat >"$WORK/timing.js" <<'EOF'
<script>
window.addEventListener('load', function () {
  var nav = performance.getEntriesByType('navigation')[0];
  void document.body.offsetHeight; var t1 = performance.now();
  var q = document.getElementById('q');
  q.value = 'failed'; q.dispatchEvent(new Event('input')); void document.body.offsetHeight; var t2 = performance.now();
  document.body.setAttribute('data-bench', [nav.domContentLoadedEventEnd.toFixed(0), t1.toFixed(0), (t2 - t1).toFixed(0)].join(' '));
});
</script>
EOF
printf '<!DOCTYPE html><title>empty</title><p>empty\n' >"$WORK/empty.html"

for n in $SIZES; do
    echo "generating $n hosts..." >&2
    "$GEN" --count "$n" --out "$WORK/$n" >"$WORK/gen-$n.log"
    page=$WORK/$n/index.html
    : >"$WORK/ctl-$n" ; : >"$WORK/rss-$n"
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$CTL" status --html "$page" --repo "$WORK/$n/fleet" --reports "$WORK/$n/reports" >/dev/null || true
        # GNU time puts "Command exited with non-zero status 1" first: status exits 1 when not all in sync.
        read -r s kb < <(tail -n1 "$WORK/time.out")
        echo "$s" >>"$WORK/ctl-$n"; echo "$kb" >>"$WORK/rss-$n"
    done
    stat -c %s "$page" >"$WORK/size-$n"
    gzip -c "$page" | wc -c >"$WORK/gz-$n"
    sed -e '/http-equiv="Content-Security-Policy"/d' -e '/^<\/body>/e cat '"$WORK/timing.js" "$page" >"$WORK/$n/timed.html"
    : >"$WORK/parse-$n"; : >"$WORK/ready-$n"; : >"$WORK/filter-$n"; : >"$WORK/shot-$n"; : >"$WORK/empty-$n"
    for _ in $(seq "$RUNS"); do
        read -r parse ready filter < <(browser --dump-dom "file://$WORK/$n/timed.html" | grep -o 'data-bench="[0-9 ]*"' | tr -dc '0-9 \n')
        echo "$parse" >>"$WORK/parse-$n"; echo "$ready" >>"$WORK/ready-$n"; echo "$filter" >>"$WORK/filter-$n"
        wall "$WORK/shot-$n" browser --screenshot="$WORK/$n/shot.png" --window-size=1280,800 "file://$page"
        wall "$WORK/empty-$n" browser --screenshot="$WORK/empty.png" --window-size=1280,800 "file://$WORK/empty.html"
    done
done

echo
echo "berthctl status --html ($BIN) and headless Chromium $("$CHROMIUM" --version 2>/dev/null | awk '{ print $2 }'), $(nproc) cores; median of $RUNS runs"
printf '%-7s %-20s %-10s %-9s %-9s %-9s %-9s %-9s\n' hosts "status --html" page gzip parse ready filter shot
for n in $SIZES; do
    ctl=$(median "$WORK/ctl-$n"); rss=$(( ($(sort -n "$WORK/rss-$n" | tail -n1) + 512) / 1024 ))
    size=$(human "$(cat "$WORK/size-$n")") gz=$(human "$(cat "$WORK/gz-$n")")
    shot=$(awk -v a="$(median "$WORK/shot-$n")" -v b="$(median "$WORK/empty-$n")" 'BEGIN { printf "%.2f s", a - b }')
    printf '%-7s %-20s %-10s %-9s %-9s %-9s %-9s %-9s\n' "$n" "$ctl s / $rss MB" "$size" "$gz" \
        "$(median "$WORK/parse-$n") ms" "$(median "$WORK/ready-$n") ms" "$(median "$WORK/filter-$n") ms" "$shot"
done

if [ -n "${SCREENSHOT:-}" ]; then
    BIN=$BIN CHROMIUM=$CHROMIUM "$HERE/scripts/status-screenshot.sh" "$SCREENSHOT"
fi
