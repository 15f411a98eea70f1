#!/usr/bin/env bash
# Installs the system packages Berth's tests, demo and benchmarks drive for real, when missing:
# dockerd and the docker client (docker.io), systemd-nspawn and debootstrap for test hosts,
# git, curl, iproute2, hyperfine, strace (fault injection), ssh-keygen (signed commits).
# Idempotent; needs root and Debian's package mirror.
set -euo pipefail
need=()
for t in dockerd:docker.io systemd-nspawn:systemd-container debootstrap:debootstrap ip:iproute2 \
         git:git curl:curl hyperfine:hyperfine nsenter:util-linux /usr/bin/time:time strace:strace \
         ssh-keygen:openssh-client; do
    command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t#*:}")
done
if ((${#need[@]})); then
    echo "deps: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi
