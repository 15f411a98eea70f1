#!/usr/bin/env bash
# `make demo`: Berth for real, end to end, narrated. A fleet repository with its CA, every commit
# SSH-signed by the operator's key, and a bare Git remote the hosts may only read; a second bare
# repository for their reports; two booted systemd + dockerd hosts (scripts/testhost.sh) whose
# agents run from the shipped timer units; first certificates vouched for by join tokens and
# signed from the hosts' status refs; convergence shown by `berthctl status`; the real docker
# client over mTLS via `berthctl env`; a hand-edited drop-in that heals itself; an unsigned
# commit refused; a client revoked by a commit and refused. Everything it starts is stopped on
# exit. Needs root; `make demo` builds and installs what it needs.
#   BERTH_BIN_DIR     where berthctl is (default .build/debug)
#   BERTH_AGENT_BIN   the static agent (default .build/release/berth-agent)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BERTH_BIN_DIR:-$HERE/.build/debug}
AGENT=${BERTH_AGENT_BIN:-$HERE/.build/release/berth-agent}
TH="$HERE/scripts/testhost.sh"
HOSTS=(web-1 web-2)
declare -A ADDR=([web-1]=10.231.30.2 [web-2]=10.231.31.2) PEER=([web-1]=10.231.30.1 [web-2]=10.231.31.1)
INTERVAL=5 # seconds between agent passes in the demo (the shipped timer says 5 minutes)
WORK=$(mktemp -d /tmp/berth-demo.XXXXXX)
cleanup() {
    "$TH" stop "${HOSTS[@]/#/berth-demo-}" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
export BERTH_CONFIG_HOME=$WORK/config GIT_AUTHOR_NAME=ops GIT_AUTHOR_EMAIL=ops@example.com \
    GIT_COMMITTER_NAME=ops GIT_COMMITTER_EMAIL=ops@example.com DOCKER_CONFIG=$WORK/docker-config
START=$SECONDS

step() { printf '\n\033[1m==> [%3ds] %s\033[0m\n' "$((SECONDS - START))" "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
berthctl() { "$BIN/berthctl" "$@"; }
on() { local h=$1; shift; "$TH" exec "berth-demo-$h" "$@"; }
row() { # HOST: "STATE LAST-SEEN" from berthctl status
    berthctl status --reports "$WORK/reports" 2>/dev/null | awk -v h="$1" '$1 == h {print $2, $(NF-2)}'
}
wait_for() { # SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds
    local limit=$1 what=$2 t0=$SECONDS
    shift 2
    until "$@" >/dev/null 2>&1; do
        if ((SECONDS - t0 > limit)); then
            echo "demo: $what did not happen within $limit s" >&2
            berthctl status --reports "$WORK/reports" || true
            exit 1
        fi
        sleep 0.5
    done
    echo "($what after $((SECONDS - t0)) s)"
}
both_in_state() { local h; for h in "${HOSTS[@]}"; do [ "$(row "$h" | cut -d' ' -f1)" = "$1" ] || return 1; done; }
in_sync_at_head() { berthctl status --reports "$WORK/reports" >/dev/null; }

step "A fleet repository with its own CA (the CA key stays outside it, mode 0600), every commit signed"
ssh-keygen -q -t ed25519 -N '' -C ops@example.com -f "$WORK/ops-signing-key"
run berthctl init "$WORK/fleet" --fleet demo --signing-key "$WORK/ops-signing-key.pub" --principal ops@example.com
cd "$WORK/fleet"
declare -A TOKEN=()
for h in "${HOSTS[@]}"; do
    out=$(berthctl host add "$h" --address "${ADDR[$h]}")
    echo "$out" | sed "s/berth-join-[0-9a-f]*/berth-join-…/"
    TOKEN[$h]=$(echo "$out" | grep -o 'berth-join-[0-9a-f]*' | head -1)
done
run berthctl client new alice
run berthctl client new bob
run berthctl validate
git add -A && git commit -qm "demo fleet: two hosts, clients alice and bob"
git clone -q --bare . "$WORK/fleet.git" && git remote add origin "$WORK/fleet.git" && git push -q origin main
git init -q --bare "$WORK/status.git"
echo "(signed $(git log -1 --format='%h: %G? by %GS' 2>/dev/null || git rev-parse --short HEAD), pushed to $WORK/fleet.git; reports go to $WORK/status.git)"
cat fleet.yaml

step "Boot two real systemd + dockerd hosts: the static agent, the shipped units, agent.yaml, the allowed signers, a join token"
mkdir -p "$WORK/reports"
declare -A BOOT=()
for h in "${HOSTS[@]}"; do
    "$TH" boot "berth-demo-$h" --network "${PEER[$h]}/30" "${ADDR[$h]}/30" --bind-ro "$WORK/fleet.git:/srv/fleet.git" \
        --bind "$WORK/status.git:/srv/status.git" --bind "$WORK/reports:/srv/reports" 2>"$WORK/boot-$h.log" &
    BOOT[$h]=$!
done
for h in "${HOSTS[@]}"; do wait "${BOOT[$h]}" || { cat "$WORK/boot-$h.log" >&2; exit 1; }; done
for h in "${HOSTS[@]}"; do
    "$TH" cp "berth-demo-$h" "$AGENT" /usr/local/bin/berth-agent
    for unit in "$HERE"/systemd/*.service "$HERE"/systemd/*.timer "$HERE"/systemd/*.path; do "$TH" cp "berth-demo-$h" "$unit" /etc/systemd/system/; done
    printf 'host: %s\nrepo: /srv/fleet.git\nbranch: main\nallowedSigners: /etc/berth/allowed_signers\nreportDir: /srv/reports\nreportGit: true\nreportRepo: /srv/status.git\ninterval: %ss\n' \
        "$h" "$INTERVAL" >"$WORK/agent-$h.yaml"
    "$TH" cp "berth-demo-$h" "$WORK/agent-$h.yaml" /etc/berth/agent.yaml
    "$TH" cp "berth-demo-$h" "$BERTH_CONFIG_HOME/demo/allowed_signers" /etc/berth/allowed_signers
    printf '%s\n' "${TOKEN[$h]}" >"$WORK/token-$h" && chmod 0600 "$WORK/token-$h"
    "$TH" cp "berth-demo-$h" "$WORK/token-$h" /etc/berth/join-token
    printf '[Timer]\nOnBootSec=\nOnActiveSec=1s\nOnUnitActiveSec=%ss\nRandomizedDelaySec=0\nAccuracySec=100ms\n' "$INTERVAL" >"$WORK/pace.conf"
    "$TH" cp "berth-demo-$h" "$WORK/pace.conf" /etc/systemd/system/berth-agent.timer.d/demo-pace.conf
    # The units' sandbox writes only Berth's own paths: the report directory and the local report
    # repository are opened up with a drop-in (docs/operations.md).
    printf '[Service]\nReadWritePaths=/srv/reports /srv/status.git\n' >"$WORK/report-paths.conf"
    "$TH" cp "berth-demo-$h" "$WORK/report-paths.conf" /etc/systemd/system/berth-agent.service.d/report-paths.conf
    on "$h" systemctl daemon-reload
done
echo "web-1 /etc/berth/agent.yaml:"
sed 's/^/    /' "$WORK/agent-web-1.yaml"
echo "(the demo runs the timer every ${INTERVAL} s instead of every 5 minutes; /srv/fleet.git is mounted read-only)"

step "Start the timers: each agent's first pass makes its key on the host and asks for a certificate"
for h in "${HOSTS[@]}"; do run on "$h" systemctl enable --now berth-agent.timer; done
wait_for 60 "both hosts awaiting a certificate" both_in_state awaiting-certificate
run berthctl status --reports "$WORK/reports" || true

step "Sign the CSRs, read from the hosts' status refs in the report repository; each vouched for by its join token"
run berthctl sign --all --report-repo "$WORK/status.git"
git add certs && git commit -qm "sign web-1 and web-2" && git push -q origin main
echo "(pushed $(git rev-parse --short HEAD))"

step "The timers pick it up: certificates installed, drop-ins written, dockerd restarted and verified"
wait_for 90 "both hosts in sync at $(git rev-parse --short HEAD)" in_sync_at_head
run berthctl status --reports "$WORK/reports"
echo "web-1's drop-in:"
on web-1 cat /etc/systemd/system/docker.service.d/50-berth.conf | sed 's/^/    /'

step "The real docker client reaches both hosts over mutual TLS, configured by berthctl env"
for h in "${HOSTS[@]}"; do
    run berthctl env "$h" --client alice
    (eval "$(berthctl env "$h" --client alice)" && run docker version --format "$h: server {{.Server.Version}}, client {{.Client.Version}}")
done

step "Drift: someone edits web-1's drop-in by hand; the next timer pass repairs it"
before=$(row web-1 | cut -d' ' -f2)    # the last report's time: the repair must come after it
run on web-1 sed -i 's|-H tcp://0.0.0.0:2376|-H tcp://0.0.0.0:2377|' /etc/systemd/system/docker.service.d/50-berth.conf
repaired_since_edit() {
    local state seen
    read -r state seen <<<"$(row web-1)"
    [ "$state" = repaired ] && [ "$seen" != "$before" ]
}
wait_for 60 "web-1 repaired" repaired_since_edit
run berthctl status web-1 --reports "$WORK/reports" || true
on web-1 grep -- '-H tcp://' /etc/systemd/system/docker.service.d/50-berth.conf

step "An attacker with push access but not the signing key pushes a commit that would open plain TCP: refused"
pid_before=$(on web-1 systemctl show docker -p MainPID --value)
printf '    insecure: true\n    listeners: [fd://, "tcp://0.0.0.0:2375"]\n' >>fleet.yaml
git -c commit.gpgsign=false commit -qam "open sesame (unsigned)" && git push -q origin main
untrusted() { [ "$(row web-1 | cut -d' ' -f1)" = untrusted ]; }
wait_for 60 "web-1 refusing the unsigned commit" untrusted
{ berthctl status web-1 --reports "$WORK/reports" 2>/dev/null || true; } | sed -n 's/^\(state\|error\): */    /p' | head -2
[ "$(on web-1 systemctl show docker -p MainPID --value)" = "$pid_before" ] && ! on web-1 grep -q 2375 /etc/systemd/system/docker.service.d/50-berth.conf \
    && echo "(web-1 is unchanged: same dockerd, no :2375 listener)"
git reset -q --hard HEAD~1 && git push -q --force origin main

step "Revoke bob: a signed commit deletes his certificate; every host locks him out on its next pass"
(eval "$(berthctl env web-2 --client bob)" && run docker version --format 'bob on web-2 before: server {{.Server.Version}}')
run berthctl client revoke bob
git add -A && git commit -qm "revoke bob" && git push -q origin main
echo "(pushed $(git log -1 --format='%h, signature %G? by %GS'))"
wait_for 90 "both hosts in sync at $(git rev-parse --short HEAD)" in_sync_at_head
run berthctl status --reports "$WORK/reports"
if (eval "$(berthctl env web-2 --client alice)" && DOCKER_CERT_PATH=$BERTH_CONFIG_HOME/demo/clients/bob docker version >"$WORK/bob.out" 2>&1); then
    echo "demo: bob still connects after revocation" >&2
    exit 1
fi
echo "bob on web-2 after: refused ($(grep -o 'remote error: tls: [a-z ]*' "$WORK/bob.out" | head -1 || tail -1 "$WORK/bob.out"))"
(eval "$(berthctl env web-2 --client alice)" && run docker version --format 'alice on web-2 after: server {{.Server.Version}}')

step "Done in $((SECONDS - START)) s; stopping the hosts"
