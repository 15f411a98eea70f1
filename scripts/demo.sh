#!/usr/bin/env bash
# `make demo`: Berth's controller side, for real, in a scratch directory: create a fleet with its
# CA, declare hosts, validate (and watch a bad edit get refused), render the exact drop-in and TLS
# files an agent would write, and ask the agent what it would do on a host root.
# The full two-host demo on booted systemd + dockerd hosts belongs to the fleet-loop issue.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BERTH_BIN_DIR:-$HERE/.build/debug}
WORK=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export BERTH_CONFIG_HOME=$WORK/config GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@localhost \
       GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@localhost
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "Create a fleet repository with its own CA (the CA key stays outside the repository)"
run "$BIN/berthctl" init "$WORK/fleet" --fleet demo
cd "$WORK/fleet"

step "Declare two hosts"
run "$BIN/berthctl" host add web-1 --address 10.231.0.2 --address web-1.demo.internal
run "$BIN/berthctl" host add web-2 --address 10.231.0.6 --listen fd:// --listen tcp://0.0.0.0:2376
run "$BIN/berthctl" host ls

step "Validate, as a pre-commit hook or CI would"
run "$BIN/berthctl" validate
git add -A && git commit -qm "demo fleet" && echo "(committed)"

step "A bad edit is refused with file, line, field and the fix; nothing is changed"
sed -i 's|tcp://0.0.0.0:2376\]|tcp://0.0.0.0]|' fleet.yaml
run "$BIN/berthctl" validate || echo "(exit $?)"
git checkout -q fleet.yaml

step "The exact drop-in the agent on web-1 would write (Debian's packaged docker.service as base)"
run "$BIN/berthctl" render web-1 --base debian

step "Done. The agent side (plan/reconcile on real hosts) is exercised by 'make test'."
