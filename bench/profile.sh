#!/usr/bin/env bash
# bench/profile.sh: where a no-op pass spends its instructions, on a real host: valgrind's
# callgrind counts every instruction of one `berth-agent reconcile` (repeatable, whatever else the
# machine does), and callgrind_annotate lists the functions by inclusive cost.
#   PASS=signed (default) or unsigned;  TOP (default 60) lines of the listing;  OUT where the profile is kept
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
TOP=${TOP:-60}
command -v valgrind >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >&2; }
. "$HERE/bench/host.sh"
bench_host_up --bind /usr/libexec/valgrind:/usr/libexec/valgrind --bind /usr/bin/valgrind:/usr/local/bin/valgrind \
    --bind /usr/bin/valgrind.bin:/usr/local/bin/valgrind.bin
objcopy --strip-debug "$AGENT" "$WORK/berth-agent"        # valgrind 3.19 gives up on Swift's DWARF
"$TH" cp "$HOST" "$WORK/berth-agent" /usr/local/bin/berth-agent
command=$signed_pass
[ "${PASS:-signed}" = unsigned ] && command=$pass
inside "$command" >/dev/null || true
inside "valgrind -q --tool=callgrind --callgrind-out-file=/tmp/cg.out $command >/tmp/pass.out 2>&1 || true"
inside "cat /tmp/pass.out" | head -3
OUT=${OUT:-/tmp/berth-profile.cg.out}
inside "cat /tmp/cg.out" >"$OUT"
echo "== inclusive (async frames make these overlap; the self costs below add up) =="
{ callgrind_annotate --inclusive=yes "$OUT" 2>/dev/null || true; } | head -n "$TOP" || true
echo "== self =="
{ callgrind_annotate "$OUT" 2>/dev/null || true; } | head -n "$TOP" || true
echo "(profile kept in $OUT)"
