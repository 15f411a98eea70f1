#!/usr/bin/env bash
# bench/noop.sh: the agent's speed figures (docs/performance.md) on one real host (systemd 252, dockerd 20.10, booted with
# scripts/testhost.sh): wall time and peak RSS of a no-op `berth-agent reconcile` on a converged
# host (it still probes dockerd over the unix socket and over mTLS), a repair (drop-in edited by
# hand: rewrite, daemon-reload, restart, verify), and the floor (daemon-reload + restart alone).
#   RUNS (default 20)   no-op passes;   REPAIRS (default 10)   repair passes and floor runs
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-20}
REPAIRS=${REPAIRS:-10}
. "$HERE/bench/host.sh"
bench_host_up
"$TH" cp "$HOST" /usr/bin/time /usr/local/bin/gnutime

# Each line: wall microseconds, peak RSS kB. Measured inside the host, so nsenter is not counted.
measure() { # COUNT SETUP COMMAND
    inside "for i in \$(seq $1); do $2; s=\$(date +%s%N); gnutime -f %M -o /tmp/rss $3 >/dev/null 2>&1 || true; e=\$(date +%s%N); echo \$(( (e-s)/1000 )) \$(cat /tmp/rss); done"
}
stats() { # prints median and max of column $1 (scaled by $2) with unit $3
    sort -n -k"$1" | awk -v c="$1" -v s="$2" -v u="$3" '{v[NR]=$c} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "median %.1f %s, min %.1f, max %.1f (n=%d)", m/s, u, v[1]/s, v[NR]/s, NR}'
}
noop=$(measure "$RUNS" true "$pass")
repair=$(measure "$REPAIRS" "$drift" "$pass")
floor=$(measure "$REPAIRS" true "sh -c 'systemctl daemon-reload && systemctl restart docker'")
echo "berth-agent no-op pass, wall:   $(echo "$noop" | stats 1 1000 ms)"
echo "berth-agent no-op pass, peak RSS: $(echo "$noop" | stats 2 1024 MB)"
echo "berth-agent repair pass, wall:  $(echo "$repair" | stats 1 1000 ms)"
echo "floor (daemon-reload + restart docker), wall: $(echo "$floor" | stats 1 1000 ms)"
order=${AGENT_ORDER:-$HERE/bench/berth-agent.order}
known=$(LC_ALL=C comm -12 <(nm --defined-only "$AGENT" | awk '{print $3}' | LC_ALL=C sort -u) <(grep -v '^#' "$order" | LC_ALL=C sort -u) | wc -l)
echo "layout: $known of $(grep -vc '^#' "$order") functions in ${order#$HERE/} found in the agent (a stale list shows as a drop here and in RSS; rerun make orderfile)"
