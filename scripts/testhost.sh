#!/usr/bin/env bash
# Usage: scripts/testhost.sh COMMAND ...
#
# Boots throwaway systemd + dockerd "hosts" with systemd-nspawn for end-to-end tests.
#   boot NAME [--network HOST_ADDR/PREFIX CONTAINER_ADDR/PREFIX] [--bind /SRC:/DST]... [--bind-ro /SRC:/DST]... [--containers]
#        Boot a throwaway copy of the cached root filesystem (scripts/rootfs.sh) and wait
#        until docker.service is active inside. Each host gets its own network namespace; with
#        --network it also gets a veth pair: host side (ve-NAME, possibly shortened; see
#        `veth NAME`) gets HOST_ADDR, the container side host0 gets CONTAINER_ADDR.
#        --bind-ro mounts read-only (a repository the host may only read).
#        --containers lets dockerd inside run containers on a cgroup v1 machine: the keyring
#        system calls are allowed and the cgroup controllers (read-only under nspawn) are made
#        writable inside, so runc can create the containers' cgroups (under /docker).
#   exec NAME CMD...   Run CMD inside (all namespaces), clean environment, exit code kept.
#   cp NAME SRC DST    Copy a host file into the host; keeps mode. DST may be an existing
#                      directory or end in / (created). Parent directories are created.
#   pid NAME           Print the PID of the container's systemd (the "leader").
#   root NAME          Print /proc/LEADER/root.
#   veth NAME          Print the name of the host-side veth link (empty without --network).
#   stop NAME...|--all Stop hosts (in parallel), remove their veth links, copies and state.
#                      Idempotent; a host that is not running is not an error.
# Progress goes to stderr; exit 125 for errors of the harness itself. Needs root.
# State per host in $STATE/NAME/: nspawn and leader ("PID STARTTIME"), veth, console.log.
#   BERTH_ROOTFS           cached root filesystem, see rootfs.sh
#   BERTH_TESTHOST_STATE   state directory (default /run/berth-testhosts)
#   BERTH_TESTHOST_COPIES  where the hosts' copies of the tree go (default /dev/shm/
#                          berth-testhosts, a tmpfs: ~450 MB of memory per host)
#   BERTH_TESTHOST_TIMEOUT seconds to wait for docker.service (default 90)
#   BERTH_TESTHOST_KEEP=1  leave a host that failed to boot running, for debugging
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${BERTH_TESTHOST_STATE:-/run/berth-testhosts}
COPIES=${BERTH_TESTHOST_COPIES:-/dev/shm/berth-testhosts}
TIMEOUT=${BERTH_TESTHOST_TIMEOUT:-90}
INSIDE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { echo "testhost: $*" >&2; }
die() { log "$*"; exit 125; }
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

# Start time of a live process (field 22 of /proc/PID/stat): PID plus start time names a
# process unambiguously, so a recycled PID is never taken for one of ours.
starttime() {
    local s f
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    read -ra f <<<"${s##*) }" # fields from 3 (state) on
    [ "${f[0]}" != Z ] || return 1 # a zombie is gone, only not yet reaped
    echo "${f[19]}"
}
# alive FILE: the process recorded in FILE ("PID STARTTIME") still runs.
alive() {
    local pid st
    read -r pid st 2>/dev/null <"$1" || return 1
    [ -n "$pid" ] && [ "$(starttime "$pid" || true)" = "$st" ]
}
record() { echo "$2 $(starttime "$2")" >"$1"; }
pidof_file() { cut -d' ' -f1 "$1"; }
wait_gone() { # FILE SECONDS
    local i
    for ((i = 0; i < $2 * 10; i++)); do alive "$1" || return 0; sleep 0.1; done
    return 1
}

# The container's systemd: a child of nspawn that is PID 1 in its own PID namespace.
find_leader() {
    local f k v ppid nspid
    for f in /proc/[0-9]*/status; do
        ppid="" nspid=""
        while read -r k v; do
            case $k in PPid:) ppid=$v ;; NSpid:) nspid=${v##*[[:space:]]} ;; esac
        done 2>/dev/null <"$f" || continue
        if [ "$ppid" = "$1" ] && [ "$nspid" = 1 ]; then f=${f#/proc/}; echo "${f%/status}"; return 0; fi
    done
    return 1
}

# Each host boots from its own copy of the tree, made here rather than with nspawn -x:
# -x copies next to the tree, on disk, where a copy took 5-10 s and its removal ~20 s
# (ext4 mounted with discard), and a copy left by a killed nspawn cannot be told apart
# from a live one. On tmpfs, copy and removal take about a second.
make_copy() { # ROOTFS NAME
    local avail
    mkdir -p "$COPIES"
    avail=$(df -Pk "$COPIES" | awk 'NR == 2 {print $4}')
    ((avail > 1024 * 1024)) || die "less than 1 GB free in $COPIES (set BERTH_TESTHOST_COPIES)"
    remove_copy "$2"
    cp -a "$1" "$COPIES/$2"
}
remove_copy() { # NAME; only once nothing runs in it
    local root=$COPIES/$1 m
    [ -e "$root" ] || return 0
    findmnt -rn -o TARGET | { grep -F "$root/" || true; } | sort -r | while read -r m; do
        umount -l "$m" || true
    done
    # nspawn's lock on the tree, left behind when nspawn is killed
    rm -f "/run/systemd/nspawn/locks/inode-$(stat -c %d:%i "$root")"
    rm -rf --one-file-system "$root"
}

hostdir() {
    [[ $1 =~ ^[a-z0-9][a-z0-9-]{0,30}$ ]] || die "bad host name '$1' (use [a-z0-9-], at most 31 chars)"
    echo "$STATE/$1"
}
leader_of() {
    local d l
    d=$(hostdir "$1")
    if ! alive "$d/leader" && alive "$d/nspawn"; then # boot gave up early (BERTH_TESTHOST_KEEP)
        l=$(find_leader "$(pidof_file "$d/nspawn")") && record "$d/leader" "$l"
    fi
    alive "$d/leader" || die "host $1 is not running"
    pidof_file "$d/leader"
}
inside() { # LEADER CMD...: run CMD in the container with a clean environment
    local l=$1
    shift
    nsenter -t "$l" -a env -i PATH="$INSIDE_PATH" HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" "$@"
}

cmd_boot() {
    local name=${1:-} d rootfs net=() nsargs=() leader veth="" i status failed_since containers=0
    [ -n "$name" ] || usage
    shift
    d=$(hostdir "$name")
    while (($#)); do
        case $1 in
            --network) (($# >= 3)) || usage; net=("$2" "$3"); shift 3 ;;
            --bind) (($# >= 2)) || usage; nsargs+=("--bind=$2"); shift 2 ;;
            --bind-ro) (($# >= 2)) || usage; nsargs+=("--bind-ro=$2"); shift 2 ;;
            --containers) containers=1; nsargs+=("--system-call-filter=@keyring"); shift ;;
            *) usage ;;
        esac
    done
    # A private network namespace always: in the machine's namespace /proc/sys is read-only
    # (dockerd fails to enable ip_forward) and dockerd would rewrite the machine's iptables.
    nsargs+=(--private-network)
    ((${#net[@]})) && nsargs+=(--network-veth)

    if [ -d "$d" ]; then
        alive "$d/nspawn" 2>/dev/null && die "host $name is already running"
        cmd_stop "$name"
    fi
    rootfs=$("$HERE/rootfs.sh")
    mkdir -p "$d"
    # shellcheck disable=SC2064 # $name is checked by hostdir, expand it now
    trap "boot_failed $name" EXIT
    trap 'exit 130' INT TERM
    log "booting $name"
    SECONDS=0
    make_copy "$rootfs" "$name"
    # setsid so the host outlives this script and its caller's terminal; all output to a
    # file so no pipe of the caller stays open. Every other inherited descriptor is closed
    # too: nspawn hands the descriptors it inherits to the container's PID 1, which would
    # hold a caller's pipe (say, of a test runner starting processes on other threads) open
    # for as long as the host runs.
    # shellcheck disable=SC2016
    setsid bash -c 'for fd in $(ls /proc/$$/fd); do ((fd > 2)) && [ -e "/proc/$$/fd/$fd" ] && eval "exec $fd>&-"; done
        echo "$$ $(cut -d" " -f22 /proc/$$/stat)" >"$0"; exec "$@"' "$d/nspawn" \
        systemd-nspawn --keep-unit --register=no --console=passive --capability=all \
        -D "$COPIES/$name" --machine="$name" --hostname="$name" "${nsargs[@]}" -b \
        </dev/null >"$d/console.log" 2>&1 &
    disown

    until leader=$(alive "$d/nspawn" && find_leader "$(pidof_file "$d/nspawn")"); do
        [ -s "$d/nspawn" ] && ! alive "$d/nspawn" && { log "nspawn exited:"; cat "$d/console.log" >&2; return 1; }
        ((SECONDS < TIMEOUT)) || { log "no container after $TIMEOUT s"; return 1; }
        sleep 0.1
    done
    record "$d/leader" "$leader"
    log "$name: container up after $SECONDS s (leader $leader)"

    if ((${#net[@]})); then
        # host0's peer index inside is the ifindex of the host side (ve-NAME, shortened
        # with a hash when longer than 15 characters).
        i=$(nsenter -t "$leader" -n ip -o link show host0 | sed -n 's/^[0-9]*: host0@if\([0-9]*\):.*/\1/p')
        veth=$(ip -o link show | awk -F': ' -v i="$i" '$1 == i {sub(/@.*/, "", $2); print $2}')
        [ -n "$veth" ] || { log "no host side for host0 (ifindex $i)"; return 1; }
        echo "$veth" >"$d/veth"
        ip addr add "${net[0]}" dev "$veth"
        ip link set "$veth" up
        nsenter -t "$leader" -n ip addr add "${net[1]}" dev host0
        nsenter -t "$leader" -n ip link set host0 up
        log "$name: $veth ${net[0]} <-> host0 ${net[1]}"
    fi

    if ((containers)); then
        local c
        for c in /sys/fs/cgroup/*/; do
            c=${c%/}
            case $(findmnt -n -o FSTYPE "$c" 2>/dev/null) in cgroup) ;; *) continue ;; esac
            [ "${c##*/}" = systemd ] && continue # the container's systemd has its own
            nsenter -t "$leader" -m mount -o remount,bind,rw "$c" 2>/dev/null || true
        done
    fi

    failed_since=""
    while status=$(inside "$leader" systemctl is-active docker 2>/dev/null || true) && [ "$status" != active ]; do
        alive "$d/nspawn" || { log "nspawn exited:"; cat "$d/console.log" >&2; return 1; }
        # "failed" for 5 s: out of restarts (StartLimitBurst), no point in waiting longer.
        [ "$status" = failed ] && failed_since=${failed_since:-$SECONDS} || failed_since=""
        if ((SECONDS >= TIMEOUT)) || { [ -n "$failed_since" ] && ((SECONDS - failed_since >= 5)); }; then
            log "docker.service not active after $SECONDS s ($status)"
            inside "$leader" systemctl status --no-pager docker >&2 || true
            inside "$leader" journalctl --no-pager -n 200 -u containerd -u docker >&2 || true
            return 1
        fi
        sleep 0.2
    done
    trap - EXIT INT TERM
    log "$name: docker active after $SECONDS s"
}

boot_failed() {
    status=$?
    trap - EXIT
    ((status)) || return 0
    if [ "${BERTH_TESTHOST_KEEP:-}" = 1 ]; then
        log "boot of $1 failed; left running (BERTH_TESTHOST_KEEP=1)"
    else
        log "boot of $1 failed; stopping it"
        cmd_stop "$1" || true
    fi
    exit "$status"
}

cmd_exec() {
    (($# >= 2)) || usage
    local l
    l=$(leader_of "$1")
    shift
    inside "$l" "$@"
}

cmd_cp() {
    (($# == 3)) || usage
    local l mode
    l=$(leader_of "$1")
    [ -f "$2" ] || die "no such file: $2"
    mode=$(stat -c %a "$2")
    # Through nsenter, not /proc/PID/root/DST: absolute symlinks in the container (such as
    # /var/run -> /run) would resolve on the machine. Temporary file + rename, so a running
    # binary can be replaced.
    # shellcheck disable=SC2016,SC2094
    inside "$l" sh -c 'd=$1
        case $d in */) mkdir -p "$d" && d=$d$2 ;; *) if [ -d "$d" ]; then d=$d/$2; fi ;; esac
        mkdir -p "$(dirname "$d")" && cat >"$d.cp-tmp" && chmod "$3" "$d.cp-tmp" && mv -f "$d.cp-tmp" "$d"' \
        sh "$3" "$(basename "$2")" "$mode" <"$2"
}

stop_one() {
    local name=$1 d veth i l
    d=$(hostdir "$name")
    [ -d "$d" ] || { log "$name: not running"; return 0; }
    log "stopping $name"
    # SIGTERM makes nspawn ask the container's systemd to power off (well under a second).
    # It is repeated: one sent while that systemd is still starting up is lost.
    for ((i = 0; i < 30; i++)); do
        alive "$d/nspawn" || break
        if ! alive "$d/leader"; then
            [ -s "$d/leader" ] && break # the container is down
            l=$(find_leader "$(pidof_file "$d/nspawn")") && record "$d/leader" "$l"
        fi
        kill -TERM "$(pidof_file "$d/nspawn")" 2>/dev/null || true
        if alive "$d/leader"; then wait_gone "$d/leader" 1 || true; else sleep 0.5; fi
    done
    # SIGKILL to the container's PID 1 kills everything in its PID namespace.
    if alive "$d/leader"; then
        log "$name: no clean poweroff, killing the container"
        kill -KILL "$(pidof_file "$d/leader")" 2>/dev/null || true
        wait_gone "$d/leader" 10 || true
    fi
    if alive "$d/nspawn"; then
        wait_gone "$d/nspawn" 10 || kill -KILL "$(pidof_file "$d/nspawn")" 2>/dev/null || true
        wait_gone "$d/nspawn" 10 || true
    fi
    if alive "$d/nspawn" || alive "$d/leader"; then
        log "$name: could not stop it, state kept in $d"
        return 1
    fi
    veth=$(cat "$d/veth" 2>/dev/null || true)
    if [ -n "$veth" ] && ip link show "$veth" >/dev/null 2>&1; then ip link del "$veth" || true; fi
    # Left by a killed nspawn (nor can nspawn remove it itself when /run is not a tmpfs).
    rm -rf --one-file-system "/run/systemd/nspawn/propagate/$name"
    remove_copy "$name"
    rm -rf "$d"
    # Cgroups that runc made for a --containers host's containers: empty now, unless another
    # host's containers still live in them (rmdir refuses those).
    rmdir /sys/fs/cgroup/*/docker/* /sys/fs/cgroup/*/docker 2>/dev/null || true
}

cmd_stop() {
    local names=() pids=() d p rc=0
    if [ "${1:-}" = --all ]; then
        for d in "$STATE"/*/; do [ -d "$d" ] && names+=("$(basename "$d")"); done
    else
        (($#)) || usage
        names=("$@")
    fi
    for p in "${names[@]}"; do hostdir "$p" >/dev/null; done
    for p in "${names[@]}"; do stop_one "$p" & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    return "$rc"
}

case ${1:-} in
    boot | exec | cp | stop) c=$1; shift; "cmd_$c" "$@" ;;
    pid) (($# == 2)) || usage; leader_of "$2" ;;
    root) (($# == 2)) || usage; echo "/proc/$(leader_of "$2")/root" ;;
    veth) (($# == 2)) || usage; hostdir "$2" >/dev/null; cat "$STATE/$2/veth" 2>/dev/null || true ;;
    *) usage ;;
esac
