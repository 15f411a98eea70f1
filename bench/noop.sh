#!/usr/bin/env bash
# bench/noop.sh: the agent's speed figures (docs/performance.md) on one real host (systemd 252,
# dockerd 20.10, booted with scripts/testhost.sh), side by side with CFEngine 3.21 doing the
# same job on the same host in the same run (bench/cfengine/berth.cf: keep the drop-in and the
# TLS files exact, daemon-reload and restart docker only on change), passes interleaved:
#  - a no-op pass (Berth still probes dockerd over the unix socket and over mTLS), without and
#    with signature checks (the verified commit is remembered: the difference is the cost of
#    trust on a quiet pass), and CFEngine's;
#  - the first verification of a new signed commit;
#  - a repair (the drop-in edited by hand: rewrite, daemon-reload, restart; Berth also
#    verifies), Berth's and CFEngine's, and the floor (daemon-reload + restart alone);
#  - commit -> converged in `run` mode: a signed commit that changes the drop-in, until the report
#    says in-sync at it (inotify wakes the loop; the restart is included).
# Wall time from the host's clock, CPU (user + system) from bash's `time`, peak RSS from GNU time.
#   RUNS (default 20)   no-op passes of each kind;   REPAIRS (default 10)   repairs, floor runs, new commits
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-20}
REPAIRS=${REPAIRS:-10}
# The bench host's tree has CFEngine (and GNU time); test hosts do without.
export BERTH_ROOTFS=${BERTH_BENCH_ROOTFS:-/var/cache/berth-test/rootfs-bench} BERTH_ROOTFS_EXTRA=cfengine3,time
. "$HERE/bench/host.sh"
bench_host_up

# CFEngine keeps the files Berth rendered: copies of them in /srv/golden.
inside 'set -e; mkdir -p /srv/golden /srv/bench
    d=/etc/systemd/system/docker.service.d/50-berth.conf
    files="$(grep -o -- "--tls[a-z]*=[^ ]*" $d | cut -d= -f2) /etc/docker/berth/ca.pem"
    for f in $d $files; do mkdir -p /srv/golden$(dirname $f); cp -p $f /srv/golden$f; done
    printf "%s\n" $files >/srv/golden/files'
"$TH" cp "$HOST" "$HERE/bench/cfengine/berth.cf" /srv/bench/berth.cf
cfagent="cf-agent -K -f /srv/bench/berth.cf"
pid=$(inside "systemctl show docker -p MainPID --value")
inside "$cfagent" >/dev/null
[ "$(inside "systemctl show docker -p MainPID --value")" = "$pid" ] || { echo "bench: CFEngine's policy restarted a converged dockerd" >&2; exit 1; }

# One line per run: wall microseconds, user ms, system ms, peak RSS kB. Measured inside the
# host, so nsenter is not counted.
measure() { # COUNT SETUP COMMAND
    inside "TIMEFORMAT='%3U %3S'; for i in \$(seq $1); do $2; s=\$(date +%s%N); c=\$( { time /usr/bin/time -f %M -o /tmp/rss $3 >/dev/null 2>&1; } 2>&1 ); e=\$(date +%s%N); echo \$(( (e-s)/1000 )) \$(awk '{printf \"%d\", (\$1+\$2)*1000}' <<<\"\$c\") \$(cat /tmp/rss); done"
}
stats() { # prints median, min and max of column $1 (scaled by $2) with unit $3
    sort -n -k"$1" | awk -v c="$1" -v s="$2" -v u="$3" '{v[NR]=$c} END {m=(NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2; printf "median %.1f %s, min %.1f, max %.1f (n=%d)", m/s, u, v[1]/s, v[NR]/s, NR}'
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }

noop="" ; noop_signed=""; cf_noop=""
for i in $(seq "$RUNS"); do   # interleaved, so a noisy moment hits all kinds alike
    noop+="$(measure 1 true "$pass")"$'\n'
    noop_signed+="$(measure 1 true "$signed_pass")"$'\n'
    cf_noop+="$(measure 1 true "$cfagent")"$'\n'
done
noop=$(sed '/^$/d' <<<"$noop"); noop_signed=$(sed '/^$/d' <<<"$noop_signed"); cf_noop=$(sed '/^$/d' <<<"$cf_noop")
first=""
for i in $(seq "$REPAIRS"); do  # a new signed commit that changes nothing for the host: one verification
    commit "bench $i"
    first+="$(measure 1 true "$signed_pass")"$'\n'
done
first=$(sed '/^$/d' <<<"$first")
repair=""; cf_repair=""; floor=""
for i in $(seq "$REPAIRS"); do
    repair+="$(measure 1 "$drift" "$signed_pass")"$'\n'
    cf_repair+="$(measure 1 "$drift" "$cfagent")"$'\n'
    floor+="$(measure 1 true "sh -c 'systemctl daemon-reload && systemctl restart docker'")"$'\n'
done
repair=$(sed '/^$/d' <<<"$repair"); cf_repair=$(sed '/^$/d' <<<"$cf_repair"); floor=$(sed '/^$/d' <<<"$floor")

# Commit -> converged in `run` mode: the agent's own loop (inotify on the checkout's refs), a signed
# commit that changes a dockerd label (so the drop-in changes and dockerd restarts), timed on this
# machine's clock (the host shares it) from just before the commit to the report that says
# in-sync or repaired at that commit. The restart is inside that time; the floor says how long.
inside "systemd-run --quiet --unit berth-bench-run ${signed_pass/reconcile/run}"
converge=""
for i in $(seq "$REPAIRS"); do
    sleep 1 # the loop is idle again (the previous commit's pass has reported)
    sed -i "s/^    labels: \[.*\]/    labels: [bench=$i]/" "$WORK/fleet/fleet.yaml"
    grep -q "labels: \[bench=$i\]" "$WORK/fleet/fleet.yaml" || { echo "bench: could not change the fleet's labels" >&2; exit 1; }
    s=$(date +%s%N)
    commit "label $i"
    rev=$(git -C "$WORK/fleet" rev-parse HEAD)
    until r=$(cat "$WORK/reports/bench-1.json" 2>/dev/null) && [[ $r == *"$rev"* ]] && grep -Eq '"state" *: *"(in-sync|repaired)"' <<<"$r"; do
        (( ($(date +%s%N) - s) / 1000000000 < 120 )) || { echo "bench: run mode did not converge on $rev within 120 s:" >&2; echo "$r" >&2; exit 1; }
        sleep 0.01
    done
    e=$(date +%s%N)
    converge+="$(( (e - s) / 1000 ))"$'\n'
done
inside "systemctl stop berth-bench-run"
converge=$(sed '/^$/d' <<<"$converge")

echo "berth-agent no-op pass, wall:          $(echo "$noop" | stats 1 1000 ms)"
echo "berth-agent no-op pass, CPU:           $(echo "$noop" | stats 2 1 ms)"
echo "berth-agent no-op pass, peak RSS:      $(echo "$noop" | stats 3 1024 MB)"
echo "no-op pass with signature checks, wall: $(echo "$noop_signed" | stats 1 1000 ms)"
echo "no-op pass with signature checks, CPU:  $(echo "$noop_signed" | stats 2 1 ms)"
echo "no-op pass with signature checks, RSS:  $(echo "$noop_signed" | stats 3 1024 MB)"
echo "cf-agent no-op pass, wall:             $(echo "$cf_noop" | stats 1 1000 ms)"
echo "cf-agent no-op pass, CPU:              $(echo "$cf_noop" | stats 2 1 ms)"
echo "cf-agent no-op pass, peak RSS:         $(echo "$cf_noop" | stats 3 1024 MB)"
a=$(cut -d' ' -f1 <<<"$noop" | median); b=$(cut -d' ' -f1 <<<"$noop_signed" | median); c=$(cut -d' ' -f1 <<<"$first" | median)
awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {printf "cost of trust on a no-op pass: %+.1f ms (medians; target within 2 ms)\nfirst verification of a new signed commit: %+.1f ms over a no-op signed pass (median %.1f ms)\n", (b-a)/1000, (c-b)/1000, c/1000}'
echo "berth-agent repair pass, wall:         $(echo "$repair" | stats 1 1000 ms)"
echo "cf-agent repair pass, wall:            $(echo "$cf_repair" | stats 1 1000 ms)"
echo "floor (daemon-reload + restart docker), wall: $(echo "$floor" | stats 1 1000 ms)"
echo "commit -> converged in run mode (with a restart), wall: $(echo "$converge" | stats 1 1000 ms)"
col() { cut -d' ' -f"$1" <<<"$2" | median; }
awk -v bw="$(col 1 "$noop_signed")" -v cw="$(col 1 "$cf_noop")" -v bc="$(col 2 "$noop_signed")" -v cc="$(col 2 "$cf_noop")" \
    -v br="$(col 3 "$noop_signed")" -v cr="$(col 3 "$cf_noop")" -v brep="$(col 1 "$repair")" -v crep="$(col 1 "$cf_repair")" -v fl="$(col 1 "$floor")" -v cv="$(col 1 "$converge")" 'BEGIN {
    printf "\nBerth (signed) / CFEngine, medians of this run:\n"
    printf "  no-op wall  %6.1f ms / %6.1f ms = %.2f   (target <= 0.50)\n", bw/1000, cw/1000, bw/cw
    printf "  no-op CPU   %6.1f ms / %6.1f ms = %.2f   (target: Berth <= 25 ms)\n", bc, cc, bc/cc
    printf "  peak RSS    %6.1f MB / %6.1f MB = %.2f   (target: Berth <= 16 MB)\n", br/1024, cr/1024, br/cr
    printf "  repair above the floor  %+6.1f ms / %+6.1f ms   (floor %.1f ms; target: Berth <= +48 ms)\n", (brep-fl)/1000, (crep-fl)/1000, fl/1000
    printf "  commit -> converged in run mode  %.2f s, %.2f s above the restart floor   (target <= 5 s + the restart)\n", cv/1000000, (cv-fl)/1000000 }'
order=${AGENT_ORDER:-$HERE/bench/berth-agent.order}
known=$(LC_ALL=C comm -12 <(nm --defined-only "$AGENT" | awk '{print $3}' | LC_ALL=C sort -u) <(grep -v '^#' "$order" | LC_ALL=C sort -u) | wc -l)
echo "layout: $known of $(grep -vc '^#' "$order") functions in ${order#$HERE/} found in the agent (a stale list shows as a drop here and in RSS; rerun make orderfile)"
