#!/usr/bin/env bash
# Installs the system packages Berth's tests, demo and benchmarks drive for real, when missing:
# dockerd and the docker client (docker.io), systemd-nspawn and debootstrap for test hosts,
# git, curl, iproute2, hyperfine, strace (fault injection), ssh-keygen (signed commits),
# promtool (checks every metrics output; Debian ships it in prometheus, whose server is not started),
# chromium (headless: the status page's browser test and bench) and tmux (the status --watch test).
# Idempotent; needs root and Debian's package mirror.
set -euo pipefail
need=()
for t in dockerd:docker.io systemd-nspawn:systemd-container debootstrap:debootstrap ip:iproute2 \
         git:git curl:curl hyperfine:hyperfine nsenter:util-linux /usr/bin/time:time strace:strace \
         ssh-keygen:openssh-client promtool:prometheus chromium:chromium tmux:tmux; do
    command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t#*:}")
done
if ((${#need[@]})); then
    echo "deps: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    rest=()
    for p in "${need[@]}"; do [ "$p" = prometheus ] || rest+=("$p"); done
    if ((${#rest[@]})); then apt-get install -y -qq --no-install-recommends "${rest[@]}" >&2; fi
    if ((${#rest[@]} < ${#need[@]})); then
        # Only promtool is wanted from prometheus: its server must not start here (policy-rc.d
        # says 101 during this install, when the machine has none of its own) nor at boot.
        guard=""
        if [ ! -e /usr/sbin/policy-rc.d ]; then
            guard=/usr/sbin/policy-rc.d
            printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod 0755 "$guard"
        fi
        apt-get install -y -qq --no-install-recommends prometheus >&2 || { [ -z "$guard" ] || rm -f "$guard"; exit 1; }
        [ -z "$guard" ] || rm -f "$guard"
        if [ -d /run/systemd/system ]; then systemctl disable --now prometheus.service >/dev/null 2>&1 || true; fi
    fi
fi
