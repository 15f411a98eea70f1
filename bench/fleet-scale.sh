#!/usr/bin/env bash
# bench/fleet-scale.sh: the controller and the Git server at fleet scale (docs/scale.md).
#
#  1. berthctl (release build) over generated fleets of 100, 1,000 and 10,000 hosts whose reports
#     are signed and fetched already: `status` from a report directory and from the status refs,
#     `sign --all` with nothing pending (from both). Wall time and peak RSS (GNU time), the
#     median of RUNS runs, against the targets (status <= 1 s and <= 200 MB at 10,000 hosts,
#     sign --all <= 2 s). Fleets come from berth-fleet-gen (bench/FleetGenerator): the CA,
#     fleet.yaml, certs/HOST.pem, signed reports in mixed states (in-sync, repaired, failed,
#     pending-restart, stale, forged, silent) and the same reports as refs/berth/status/HOST
#     made by one `git fast-import`.
#  2. PUSHERS agents (default 1,000) run `berth-agent publish` against one repository served by
#     `git daemon --enable=receive-pack` on 127.0.0.1, IN_FLIGHT (default 250) at once: how many
#     land (every ref checked, every blob compared with the host's own report), the time to land
#     them all, the retries used, and the server's CPU (git daemon and its children, GNU time).
#  3. The unit costs docs/scale.md extrapolates from: one agent's `git fetch` of a 10,000-host
#     fleet repository (nothing new; one new commit), one `berth-agent publish`, and
#     `berthctl status --report-repo` fetching 10,000 refs. Bytes are loopback bytes
#     (/proc/net/dev, IP and TCP headers included).
#
#   SIZES="100 1000 10000"  RUNS=3  PUSHERS=1000  IN_FLIGHT=250  KEEP=1 (keep the work directory)
#   BUILD_FLAGS="--scratch-path DIR" (build elsewhere than .build)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
SWIFT=${SWIFT:-swift}
SIZES=${SIZES:-"100 1000 10000"}
RUNS=${RUNS:-3}
PUSHERS=${PUSHERS:-1000}
IN_FLIGHT=${IN_FLIGHT:-250}
WORK=$(mktemp -d /tmp/berth-fleet-scale.XXXXXX)
DAEMON_PID=
SAMPLER_PID=

cleanup() {
    [ -z "$SAMPLER_PID" ] || kill "$SAMPLER_PID" 2>/dev/null || true
    if [ -n "$DAEMON_PID" ]; then pkill -TERM -P "$DAEMON_PID" 2>/dev/null || true; wait "$DAEMON_PID" 2>/dev/null || true; fi
    if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

cd "$HERE"
echo "building release binaries..." >&2
for product in berthctl berth-agent berth-fleet-gen; do
    "$SWIFT" build -c release ${BUILD_FLAGS:-} --product "$product" >&2
done
BIN=$("$SWIFT" build -c release ${BUILD_FLAGS:-} --show-bin-path)
CTL=$BIN/berthctl AGENT=$BIN/berth-agent GEN=$BIN/berth-fleet-gen
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost

# measure NAME CMD...: RUNS runs of CMD; appends "median-wall max-rss-MB" to $WORK/NAME.
measure() {
    local name=$1; shift
    local walls=() rss=0
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" >"$WORK/last.out" 2>"$WORK/last.err" || true
        read -r wall kb < <(tail -n1 "$WORK/time.out")
        walls+=("$wall")
        (( kb > rss )) && rss=$kb
    done
    local median
    median=$(printf '%s\n' "${walls[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
    echo "$median $(( (rss + 512) / 1024 ))" >"$WORK/$name"
}

# free_port: a loopback port nothing answers on.
free_port() {
    local port
    while :; do
        port=$(( 20000 + RANDOM % 40000 ))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

# serve DIR: git daemon on 127.0.0.1 for DIR's repositories, pushes allowed, under GNU time so its
# CPU (and its children's) is known when it stops. Sets PORT and DAEMON_PID.
serve() {
    PORT=$(free_port)
    /usr/bin/time -f "%U %S" -o "$WORK/daemon.cpu" git daemon --reuseaddr --listen=127.0.0.1 --port="$PORT" \
        --base-path="$1" --export-all --enable=receive-pack --max-connections=0 "$1" 2>"$WORK/daemon.log" &
    DAEMON_PID=$!
    for _ in $(seq 100); do
        git ls-remote "git://127.0.0.1:$PORT/" >/dev/null 2>"$WORK/probe.err" || true
        grep -q "unable to connect" "$WORK/probe.err" || return 0
        sleep 0.1
    done
    echo "git daemon did not start: $(cat "$WORK/daemon.log")" >&2
    exit 1
}

# unserve: stops the daemon (the child of GNU time, whose PID we hold) and sets SERVER_CPU to its
# CPU seconds (user + system, the children it reaped included). Not in $(...): wait needs this shell.
unserve() {
    pkill -TERM -P "$DAEMON_PID" || true; wait "$DAEMON_PID" 2>/dev/null || true; DAEMON_PID=
    SERVER_CPU=$(awk '/^[0-9.]+ [0-9.]+$/ { printf "%.2f", $1 + $2 }' "$WORK/daemon.cpu")
}

lo_bytes() { awk '$1 == "lo:" { print $2 }' /proc/net/dev; }
# The kernel's count of connections dropped because a listen queue was full (machine-wide).
listen_overflows() { awk '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++) if ($i == "ListenOverflows") c = i; n = 1 } else print $c }' /proc/net/netstat; }

# 1. The controller.
for n in $SIZES; do
    echo "generating $n hosts..." >&2
    "$GEN" --count "$n" --out "$WORK/$n" >"$WORK/gen-$n.log"
    F=$WORK/$n/fleet R=$WORK/$n/reports K=$WORK/$n/ca-key.pem
    measure "status-dir-$n" "$CTL" status --repo "$F" --reports "$R"
    measure "status-refs-$n" "$CTL" status --repo "$F"
    measure "sign-dir-$n" "$CTL" sign --all --repo "$F" --reports "$R" --ca-key "$K"
    measure "sign-refs-$n" "$CTL" sign --all --repo "$F" --ca-key "$K"
done

verdict() { awk -v v="$1" -v limit="$2" 'BEGIN { print (v <= limit ? "ok" : "MISS") }'; }
echo
echo "berthctl, release build, $(nproc) cores; median of $RUNS runs (wall s / peak RSS MB)"
printf '%-7s %-16s %-16s %-16s %-16s\n' N "status dir" "status refs" "sign --all dir" "sign --all refs"
for n in $SIZES; do
    row=()
    for m in status-dir status-refs sign-dir sign-refs; do
        read -r wall mb <"$WORK/$m-$n"
        row+=("$wall s / $mb MB")
    done
    printf '%-7s %-16s %-16s %-16s %-16s\n' "$n" "${row[@]}"
done
if [ -e "$WORK/status-dir-10000" ]; then
    read -r sd sdm <"$WORK/status-dir-10000"; read -r sr srm <"$WORK/status-refs-10000"
    read -r gd _ <"$WORK/sign-dir-10000"; read -r gr _ <"$WORK/sign-refs-10000"
    echo "targets at 10,000: status <= 1 s: dir $(verdict "$sd" 1) refs $(verdict "$sr" 1);" \
         "<= 200 MB: dir $(verdict "$sdm" 200) refs $(verdict "$srm" 200); sign --all <= 2 s: dir $(verdict "$gd" 2) refs $(verdict "$gr" 2)"
fi

# 2. A thousand agents publishing at once.
echo "generating $PUSHERS agent roots..." >&2
P=$WORK/push
"$GEN" --count "$PUSHERS" --out "$P" --agent-roots --all-in-sync >"$WORK/gen-push.log"
git init -q --bare "$P/status.git"
serve "$P"
URL="git://127.0.0.1:$PORT/status.git"
mkdir -p "$P/out"
( max=0; while :; do c=$(pgrep -c -x berth-agent || true); (( c > max )) && { max=$c; echo "$max" >"$WORK/inflight"; }; sleep 0.05; done ) &
SAMPLER_PID=$!
overflows_before=$(listen_overflows)
start=$(date +%s.%N)
seq 0 $(( PUSHERS - 1 )) | xargs -P "$IN_FLIGHT" -I{} sh -c \
    "'$AGENT' publish --root '$P/roots/h{}' --host h{} --state /anything --report-repo '$URL' >'$P/out/h{}.log' 2>&1; echo \$? >'$P/out/h{}.rc'"
end=$(date +%s.%N)
overflows=$(( $(listen_overflows) - overflows_before ))
kill "$SAMPLER_PID"; wait "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=
ok=$(grep -lx 0 "$P"/out/*.rc | wc -l)
# A host whose four attempts all failed keeps its report and pushes it at its next pass: do that
# for them, one at a time, so every ref can be checked.
gave_up=0
for rc in $(grep -Lx 0 "$P"/out/*.rc || true); do
    h=$(basename "$rc" .rc)
    gave_up=$(( gave_up + 1 ))
    "$AGENT" publish --root "$P/roots/$h" --host "$h" --state /anything --report-repo "$URL" >>"$P/out/$h.next" 2>&1 || true
done
unserve; server_cpu=$SERVER_CPU
retries=$(grep -ho 'retries: [0-9]*' "$P"/out/*.log | awk '{ s += $2; if ($2 > m) m = $2; if ($2 > 0) n++ } END { printf "%d in total, %d publishes retried, at most %d", s, n, m }')
refs=$(git -C "$P/status.git" for-each-ref refs/berth/status/ | wc -l)
# Each ref must hold exactly the bytes its host published: compare object names in two batches.
for i in $(seq 0 $(( PUSHERS - 1 ))); do
    printf 'refs/berth/status/h%s:h%s.json\nrefs/berth/status/h%s:h%s.json.sig\n' "$i" "$i" "$i" "$i"
done | git -C "$P/status.git" cat-file --batch-check='%(objectname)' >"$WORK/landed.ids"
for i in $(seq 0 $(( PUSHERS - 1 ))); do
    printf '%s\n%s\n' "$P/roots/h$i/var/lib/berth/last-report.json" "$P/roots/h$i/var/lib/berth/last-report.json.sig"
done | git hash-object --stdin-paths >"$WORK/published.ids"
same=$(paste -d' ' "$WORK/landed.ids" "$WORK/published.ids" | awk 'NR % 2 == 1 { j = $1 == $2 } NR % 2 == 0 { if (j && $1 == $2) n++ } END { print n + 0 }')
echo
echo "$PUSHERS agents publishing over git:// (git daemon on 127.0.0.1), up to $IN_FLIGHT at once (most seen: $(cat "$WORK/inflight" 2>/dev/null || echo ?))"
echo "  published within the agent's 4 attempts: $ok / $PUSHERS ($gave_up pushed again at their next publish)"
echo "  refs in the repository:    $refs / $PUSHERS"
echo "  refs holding their host's own report and signature: $same / $PUSHERS"
echo "  listen-queue overflows during the run: $overflows (git daemon listens with a backlog of 5)"
echo "  time to land them all:     $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f s (%.0f pushes/s)", b - a, '"$PUSHERS"' / (b - a) }')"
echo "  retries:                   $retries"
echo "  server CPU (git daemon, receive-pack and children): ${server_cpu} s, $(awk -v c="$server_cpu" 'BEGIN { printf "%.1f ms", c * 1000 / '"$PUSHERS"' }') per push"

# 3. Unit costs for docs/scale.md.
BIG=$WORK/${SIZES##* }
[ -d "$BIG/fleet" ] || exit 0
nbig=${SIZES##* }
echo
echo "unit costs against a $nbig-host fleet repository (one run each; bytes on loopback)"
git init -q --bare -b main "$BIG/fleet.git"
git -C "$BIG/fleet" push -q "$BIG/fleet.git" main 'refs/berth/status/*:refs/berth/status/*'
serve "$BIG"
FLEET_URL="git://127.0.0.1:$PORT/fleet.git"
git clone -q --no-tags --single-branch --branch main "$FLEET_URL" "$BIG/agent-checkout"
unserve
# unit LABEL CMD...: wall, RSS, loopback bytes of one command.
unit() {
    local label=$1; shift
    local before after
    before=$(lo_bytes)
    local status=0
    /usr/bin/time -f "%e %M" -o "$WORK/time.out" "$@" >"$WORK/last.out" 2>"$WORK/last.err" || status=$?
    after=$(lo_bytes)
    read -r wall kb < <(tail -n1 "$WORK/time.out")
    printf '  %-58s %6s s %5s MB %9s bytes%s\n' "$label" "$wall" "$(( (kb + 512) / 1024 ))" "$(( after - before ))" \
        "$( [ "$status" = 0 ] || echo " (exit $status: $(grep -v '^Command exited' "$WORK/last.err" | tail -n1))")"
}
fetch=(git -C "$BIG/agent-checkout" fetch --quiet --no-tags "$FLEET_URL" +refs/heads/main:refs/remotes/origin/main)
# The quiet pass, the common case: 100 fetches that find nothing new, the server's CPU for them alone.
serve "$BIG"
FLEET_URL="git://127.0.0.1:$PORT/fleet.git"
fetch[6]=$FLEET_URL
before=$(lo_bytes) start=$(date +%s.%N)
for _ in $(seq 100); do "${fetch[@]}"; done
end=$(date +%s.%N) after=$(lo_bytes)
unserve; cpu=$SERVER_CPU
printf '  %-58s %6s s %5s    %9s bytes; server CPU %s ms\n' "agent git fetch, nothing new (mean of 100)" \
    "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 100 }')" "" "$(( (after - before) / 100 ))" \
    "$(awk -v c="$cpu" 'BEGIN { printf "%.1f", c * 10 }')"
serve "$BIG"
FLEET_URL="git://127.0.0.1:$PORT/fleet.git"
fetch[6]=$FLEET_URL
sed -i 's/serverCertDays: 90/serverCertDays: 91/' "$BIG/fleet/fleet.yaml"
git -C "$BIG/fleet" commit -qam "fleet-wide change to fleet.yaml" && git -C "$BIG/fleet" push -q "$BIG/fleet.git" main
unit "agent git fetch, one commit changing a line of fleet.yaml" "${fetch[@]}"
mkdir -p "$BIG/one-root/var/lib/berth"
cp "$BIG/reports/h0.json" "$BIG/one-root/var/lib/berth/last-report.json"
cp "$BIG/reports/h0.json.sig" "$BIG/one-root/var/lib/berth/last-report.json.sig"
unit "berth-agent publish (first: scratch repository made)" "$AGENT" publish --root "$BIG/one-root" --host h0 --state /anything --report-repo "$FLEET_URL"
unit "berth-agent publish (again)" "$AGENT" publish --root "$BIG/one-root" --host h0 --state /anything --report-repo "$FLEET_URL"
# An operator's fresh clone (over git://, so it holds no report objects yet): the first status fetches them all.
git clone -q --branch main "$FLEET_URL" "$BIG/operator"
unit "berthctl status --report-repo: fetch $nbig refs, then read" "$CTL" status --repo "$BIG/operator" --report-repo "$FLEET_URL"
unit "berthctl status --report-repo: nothing new" "$CTL" status --repo "$BIG/operator" --report-repo "$FLEET_URL"
unserve
echo "  server CPU for the five runs above: $SERVER_CPU s"
# Pushes alone: the server advertises every ref to every pusher, so their cost follows the number
# of refs, and whether they are loose or packed.
twenty_publishes() {
    serve "$BIG"
    local before after start end
    before=$(lo_bytes) start=$(date +%s.%N)
    for _ in $(seq 20); do "$AGENT" publish --root "$BIG/one-root" --host h0 --state /anything --report-repo "git://127.0.0.1:$PORT/fleet.git" >/dev/null; done
    end=$(date +%s.%N) after=$(lo_bytes)
    unserve
    printf '  %-58s %6s s %15s bytes; server CPU %s ms\n' "berth-agent publish, $nbig refs $1 (mean of 20)" \
        "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", (b - a) / 20 }')" "$(( (after - before) / 20 ))" \
        "$(awk -v c="$SERVER_CPU" 'BEGIN { printf "%.0f", c * 50 }')"
}
twenty_publishes loose
git -C "$BIG/fleet.git" pack-refs --all
twenty_publishes packed
