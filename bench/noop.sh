#!/usr/bin/env bash
# bench/noop.sh: the figures of SPEC §8 on one real host (systemd 252, dockerd 20.10, booted with
# scripts/testhost.sh): wall time and peak RSS of a no-op `berth-agent reconcile` on a converged
# host (it still probes dockerd over the unix socket and over mTLS), a repair (drop-in edited by
# hand: rewrite, daemon-reload, restart, verify), and the floor (daemon-reload + restart alone).
#   RUNS (default 20)   no-op passes;   REPAIRS (default 10)   repair passes and floor runs
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
AGENT=${BERTH_AGENT_BIN:-$HERE/.build/release/berth-agent}
CTL=${BERTH_CTL_BIN:-$HERE/.build/debug/berthctl}
RUNS=${RUNS:-20}
REPAIRS=${REPAIRS:-10}
HOST=berth-bench-1
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
TH="$HERE/scripts/testhost.sh"
cleanup() { "$TH" stop "$HOST" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
export BERTH_CONFIG_HOME=$WORK/config GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@b

"$CTL" init "$WORK/fleet" --fleet bench >/dev/null
"$CTL" host add bench-1 --address 10.231.99.2 --repo "$WORK/fleet" >/dev/null
git -C "$WORK/fleet" add -A && git -C "$WORK/fleet" commit -qm bench
mkdir -p "$WORK/reports"
"$TH" boot "$HOST" --network 10.231.99.1/30 10.231.99.2/30 --bind "$WORK/fleet:/srv/fleet" --bind "$WORK/reports:/srv/reports" 2>/dev/null
"$TH" cp "$HOST" "$AGENT" /usr/local/bin/berth-agent
"$TH" cp "$HOST" /usr/bin/time /usr/local/bin/gnutime
pass="berth-agent reconcile --state /srv/fleet --report-dir /srv/reports --host bench-1"
inside() { "$TH" exec "$HOST" bash -c "$1"; }

inside "$pass" >/dev/null || true                       # key + CSR
"$CTL" sign bench-1 --reports "$WORK/reports" --repo "$WORK/fleet" >/dev/null
git -C "$WORK/fleet" add -A && git -C "$WORK/fleet" commit -qm signed
inside "$pass" >/dev/null                                 # converge
out=$(inside "$pass" 2>&1) || true
grep -q "in-sync" <<<"$out" || { echo "bench: host did not converge:" >&2; echo "$out" >&2; exit 1; }

# Each line: wall microseconds, peak RSS kB. Measured inside the host, so nsenter is not counted.
measure() { # COUNT SETUP COMMAND
    inside "for i in \$(seq $1); do $2; s=\$(date +%s%N); gnutime -f %M -o /tmp/rss $3 >/dev/null 2>&1 || true; e=\$(date +%s%N); echo \$(( (e-s)/1000 )) \$(cat /tmp/rss); done"
}
stats() { # prints median and max of column $1 (scaled by $2) with unit $3
    sort -n -k"$1" | awk -v c="$1" -v s="$2" -v u="$3" '{v[NR]=$c} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "median %.1f %s, min %.1f, max %.1f (n=%d)", m/s, u, v[1]/s, v[NR]/s, NR}'
}
noop=$(measure "$RUNS" true "$pass")
repair=$(measure "$REPAIRS" "sed -i 's/-H fd:\\/\\//-H fd:\\/\\/ --debug/' /etc/systemd/system/docker.service.d/50-berth.conf" "$pass")
floor=$(measure "$REPAIRS" true "sh -c 'systemctl daemon-reload && systemctl restart docker'")
echo "berth-agent no-op pass, wall:   $(echo "$noop" | stats 1 1000 ms)"
echo "berth-agent no-op pass, peak RSS: $(echo "$noop" | stats 2 1024 MB)"
echo "berth-agent repair pass, wall:  $(echo "$repair" | stats 1 1000 ms)"
echo "floor (daemon-reload + restart docker), wall: $(echo "$floor" | stats 1 1000 ms)"
