# bench/host.sh: sourced by the benchmarks. `bench_host_up [--bind SRC:DST]...` boots one real
# host (scripts/testhost.sh), puts a one-host fleet in $WORK/fleet (every commit SSH-signed, as
# `berthctl init --signing-key` sets up) and the static agent in the host, signs its CSR and
# converges it, so that the next `inside "$pass"` is a no-op pass.
# Needs HERE; sets AGENT, CTL, HOST, WORK, TH, pass (no signature checks) and signed_pass (with
# the host's allowed signers); stops the host and removes $WORK on exit.
AGENT=${BERTH_AGENT_BIN:-$HERE/.build/release/berth-agent}
CTL=${BERTH_CTL_BIN:-$HERE/.build/debug/berthctl}
HOST=berth-bench-1
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
TH="$HERE/scripts/testhost.sh"
pass="berth-agent reconcile --state /srv/fleet --report-dir /srv/reports --host bench-1"
signed_pass="$pass --allowed-signers /etc/berth/allowed_signers"
bench_cleanup() { "$TH" stop "$HOST" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap bench_cleanup EXIT
export BERTH_CONFIG_HOME=$WORK/config GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=b@b GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=b@b
inside() { "$TH" exec "$HOST" bash -c "$1"; }
commit() { git -C "$WORK/fleet" add -A && git -C "$WORK/fleet" commit -q --allow-empty -m "$1"; }

bench_host_up() { # [--bind SRC:DST]...
    ssh-keygen -q -t ed25519 -N '' -C bench@b -f "$WORK/signing-key"
    "$CTL" init "$WORK/fleet" --fleet bench --signing-key "$WORK/signing-key.pub" --principal bench@b >/dev/null
    "$CTL" host add bench-1 --address 10.231.99.2 --repo "$WORK/fleet" >/dev/null
    commit bench
    mkdir -p "$WORK/reports"
    "$TH" boot "$HOST" --network 10.231.99.1/30 10.231.99.2/30 --bind "$WORK/fleet:/srv/fleet" \
        --bind "$WORK/reports:/srv/reports" "$@" 2>/dev/null
    "$TH" cp "$HOST" "$AGENT" /usr/local/bin/berth-agent
    "$TH" cp "$HOST" "$BERTH_CONFIG_HOME/bench/allowed_signers" /etc/berth/allowed_signers
    inside "$signed_pass" >/dev/null || true                 # key + CSR
    local fingerprint
    fingerprint=$( (inside "berth-agent status --host bench-1" || true) | sed -n 's/.*--fingerprint //p')
    "$CTL" sign bench-1 --reports "$WORK/reports" --fingerprint "$fingerprint" --repo "$WORK/fleet" >/dev/null
    commit signed
    inside "$signed_pass" >/dev/null                          # converge
    local out
    out=$(inside "$signed_pass" 2>&1) || true
    grep -q "in-sync" <<<"$out" || { echo "bench: host did not converge:" >&2; echo "$out" >&2; exit 1; }
}
# Hand-edits the drop-in, so that the next pass is a repair (rewrite, daemon-reload, restart, verify).
drift="sed -i 's/-H fd:\\/\\//-H fd:\\/\\/ --debug/' /etc/systemd/system/docker.service.d/50-berth.conf"
