# bench/host.sh: sourced by the benchmarks. `bench_host_up [--bind SRC:DST]...` boots one real
# host (scripts/testhost.sh), puts a one-host fleet in $WORK/fleet and the static agent in the
# host, signs its CSR and converges it, so that the next `inside "$pass"` is a no-op pass.
# Needs HERE; sets AGENT, CTL, HOST, WORK, TH, pass; stops the host and removes $WORK on exit.
AGENT=${BERTH_AGENT_BIN:-$HERE/.build/release/berth-agent}
CTL=${BERTH_CTL_BIN:-$HERE/.build/debug/berthctl}
HOST=berth-bench-1
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
TH="$HERE/scripts/testhost.sh"
pass="berth-agent reconcile --state /srv/fleet --report-dir /srv/reports --host bench-1"
bench_cleanup() { "$TH" stop "$HOST" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap bench_cleanup EXIT
export BERTH_CONFIG_HOME=$WORK/config GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@b
inside() { "$TH" exec "$HOST" bash -c "$1"; }

bench_host_up() { # [--bind SRC:DST]...
    "$CTL" init "$WORK/fleet" --fleet bench >/dev/null
    "$CTL" host add bench-1 --address 10.231.99.2 --repo "$WORK/fleet" >/dev/null
    git -C "$WORK/fleet" add -A && git -C "$WORK/fleet" commit -qm bench
    mkdir -p "$WORK/reports"
    "$TH" boot "$HOST" --network 10.231.99.1/30 10.231.99.2/30 --bind "$WORK/fleet:/srv/fleet" \
        --bind "$WORK/reports:/srv/reports" "$@" 2>/dev/null
    "$TH" cp "$HOST" "$AGENT" /usr/local/bin/berth-agent
    inside "$pass" >/dev/null || true                       # key + CSR
    "$CTL" sign bench-1 --reports "$WORK/reports" --repo "$WORK/fleet" >/dev/null
    git -C "$WORK/fleet" add -A && git -C "$WORK/fleet" commit -qm signed
    inside "$pass" >/dev/null                                 # converge
    local out
    out=$(inside "$pass" 2>&1) || true
    grep -q "in-sync" <<<"$out" || { echo "bench: host did not converge:" >&2; echo "$out" >&2; exit 1; }
}
# Hand-edits the drop-in, so that the next pass is a repair (rewrite, daemon-reload, restart, verify).
drift="sed -i 's/-H fd:\\/\\//-H fd:\\/\\/ --debug/' /etc/systemd/system/docker.service.d/50-berth.conf"
