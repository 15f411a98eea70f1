#!/usr/bin/env bash
# Usage: scripts/rootfs.sh
#
# Ensures the cached Debian root filesystem used by scripts/testhost.sh exists and prints
# its path on stdout (progress goes to stderr). Idempotent: a finished tree carries a
# stamp (etc/berth-rootfs.stamp) with the build recipe; a missing or different stamp
# means a rebuild. The tree is built in ROOTFS.tmp and renamed when complete, so an
# interrupted build is never taken for a finished one. Needs root and, for a build,
# Debian's package mirror.
#
#   BERTH_ROOTFS         where the tree lives (default /var/cache/berth-test/rootfs)
#   BERTH_ROOTFS_EXTRA   more packages, comma-separated (the benchmarks' tree adds cfengine3
#                        and time under another BERTH_ROOTFS, so test hosts stay small)
set -euo pipefail

ROOTFS=${BERTH_ROOTFS:-/var/cache/berth-test/rootfs}
SUITE=bookworm
# openssh-client: ssh-keygen, which git runs to verify commit signatures; strace: fault injection.
INCLUDE=systemd,systemd-sysv,dbus,docker.io,ca-certificates,iproute2,git,curl,procps,openssh-client,strace
if [ -n "${BERTH_ROOTFS_EXTRA:-}" ]; then INCLUDE="$INCLUDE,$BERTH_ROOTFS_EXTRA"; fi
# Maintenance units that are useless in a throwaway container and could fire mid-test.
# (cfengine3's daemons too: the benchmarks run cf-agent by hand, side by side with berth-agent.)
MASK=(apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer
    e2scrub_reap.service fstrim.timer cfengine3.service cf-execd.service cf-serverd.service cf-monitord.service)
TWEAKS=3 # bump when customize() changes
STAMP="suite=$SUITE variant=minbase include=$INCLUDE tweaks=$TWEAKS"

log() { echo "rootfs: $*" >&2; }

ensure_tools() {
    local missing=() t
    for t in systemd-nspawn:systemd-container debootstrap:debootstrap ip:iproute2 \
        nsenter:util-linux setsid:util-linux flock:util-linux findmnt:util-linux; do
        command -v "${t%%:*}" >/dev/null || missing+=("${t#*:}")
    done
    [ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || missing+=(debian-archive-keyring)
    if ((${#missing[@]})); then
        log "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y --no-install-recommends "${missing[@]}" >&2
    fi
}

# Remove a (possibly half-built) tree: unmount anything debootstrap left mounted in it
# first, and never cross into another file system.
remove_tree() {
    local dir=$1
    [ -e "$dir" ] || return 0
    findmnt -rn -o TARGET | { grep -F "$dir/" || true; } | sort -r | while read -r m; do
        umount -l "$m" || true
    done
    rm -rf --one-file-system "$dir"
}

customize() {
    local root=$1
    chroot "$root" systemctl mask "${MASK[@]}" >&2
    chroot "$root" systemctl enable containerd.service docker.service >&2
    # Hostname comes from nspawn --hostname, the machine id from nspawn (random per boot):
    # debootstrap copied the build machine's hostname and froze one machine id for all.
    rm -f "$root/etc/hostname"
    : >"$root/etc/machine-id"
    ln -sf /etc/machine-id "$root/var/lib/dbus/machine-id"
    # Nothing leaves the machine: no copy of the build machine's resolver.
    : >"$root/etc/resolv.conf"
    # Smaller tree (570 -> 450 MB): testhost.sh copies it at every boot.
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
        "$root"/var/lib/apt/lists/* "$root"/usr/share/{doc,man,locale,info}/*
}

ensure_tools
mkdir -p "$(dirname "$ROOTFS")"
exec 9>"$ROOTFS.lock"
flock 9

if [ "$(cat "$ROOTFS/etc/berth-rootfs.stamp" 2>/dev/null)" != "$STAMP" ]; then
    log "building $ROOTFS (about a minute)"
    start=$SECONDS
    remove_tree "$ROOTFS.tmp"
    debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOTFS.tmp" >&2
    customize "$ROOTFS.tmp"
    echo "$STAMP" >"$ROOTFS.tmp/etc/berth-rootfs.stamp"
    remove_tree "$ROOTFS.old"
    if [ -e "$ROOTFS" ]; then mv "$ROOTFS" "$ROOTFS.old"; fi
    mv "$ROOTFS.tmp" "$ROOTFS"
    remove_tree "$ROOTFS.old"
    log "built $ROOTFS in $((SECONDS - start)) s ($(du -sh "$ROOTFS" | cut -f1))"
fi
echo "$ROOTFS"
