#!/usr/bin/env bash
# Usage: killpoint.sh N COMMAND...          (a test tool; it runs inside a test host)
#
# Runs COMMAND (berth-agent) under strace and kills it with SIGKILL right after its Nth change
# to a file Berth manages: a rename, unlink, chmod, chown or mkdir whose path lies under
# /etc/docker, /etc/systemd/system/docker.service.d or /var/lib/berth. Each such call is held
# for a moment at its exit (strace's delay injection), so the kill lands before the next one:
# nothing in the product knows it is being tested.
#   N = 0    run to the end and print on stdout how many changes the run made.
# Prints "killed after change N: <the call>" on stderr when it killed. Exit status: COMMAND's,
# or 137 when killed. Needs strace.
set -u
n=$1
shift
calls=rename,renameat,renameat2,unlink,unlinkat,chmod,fchmodat,lchown,fchownat,mkdir,mkdirat
out=$(mktemp -u /tmp/killpoint.XXXXXX)
mkfifo "$out"
trap 'rm -f "$out"' EXIT
strace -f -qq -s 256 -e trace="$calls" -e inject="$calls":delay_exit=150000 -o "$out" "$@" &
tracer=$!
count=0
killed=0
while IFS= read -r line; do
    case $line in *"<unfinished ..."*) continue ;; esac
    case $line in *'"/etc/docker'* | *'"/etc/systemd/system/docker.service.d'* | *'"/var/lib/berth'*) ;; *) continue ;; esac
    case $line in *") = 0"*) ;; *) continue ;; esac
    count=$((count + 1))
    if [ "$n" -gt 0 ] && [ "$count" -eq "$n" ] && [ "$killed" -eq 0 ]; then
        target=$(pgrep -P "$tracer" | head -1)
        kill -KILL "$target"
        killed=1
        echo "killed after change $n: ${line#* }" >&2
    fi
done <"$out"
wait "$tracer"
status=$?
[ "$n" -eq 0 ] && echo "$count"
exit "$status"
