#!/usr/bin/env bash
# Usage: scripts/deb.sh [--name]
#
# Builds berth_VERSION_ARCH.deb in the package root from the static binaries in .build/release
# (`make deb` builds them first, with `make agent ctl`), then runs lintian on it: a lintian error
# fails the build; warnings are printed, and each one left has its reason in docs/operations.md.
#   --name   print the file name and exit (the Makefile passes the path to the tests)
#
# VERSION is BerthVersion.current (Sources/BerthAgent/Pass/AgentEnvironment.swift) plus the
# Debian revision below; packaging/changelog's top entry takes it from there (@VERSION@), so the
# version is written in one place. Man pages come from swift-argument-parser's generate-manual
# plugin, completions from the binaries themselves. Timestamps come from the last commit
# (SOURCE_DATE_EPOCH), so the same tree gives the same package.
# Installs dpkg-dev and lintian through apt when missing (needs root and Debian's mirror).
#   SWIFT            the swift driver (default: swift)
#   DEB_MAINTAINER   Maintainer: field and changelog signature
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
REVISION=1
SWIFT=${SWIFT:-swift}
MAINTAINER=${DEB_MAINTAINER:-Berth maintainers <berth-maintainers@example.org>}
SCRATCH=$ROOT/.build/deb
STAGE=$SCRATCH/root

log() { echo "deb: $*" >&2; }
die() { log "$*"; exit 1; }

version_file=Sources/BerthAgent/Pass/AgentEnvironment.swift
upstream=$(awk '/enum BerthVersion/ { inside = 1 }
    inside && /static let current = "/ { sub(/.*current = "/, ""); sub(/".*/, ""); print; exit }' "$version_file")
[[ $upstream =~ ^[0-9][0-9A-Za-z.+~]*$ ]] ||
    die "cannot read BerthVersion.current from $version_file (got '$upstream'); keep it as \`public static let current = \"X.Y.Z\"\` inside enum BerthVersion"
VERSION=$upstream-$REVISION
ARCH=$(dpkg --print-architecture)
NAME=berth_${VERSION}_${ARCH}.deb
if [ "${1:-}" = --name ]; then echo "$NAME"; exit 0; fi
(($# == 0)) || die "usage: scripts/deb.sh [--name]"

need=()
for t in dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev strip:binutils lintian:lintian gzip:gzip; do
    command -v "${t%%:*}" >/dev/null 2>&1 || need+=("${t#*:}")
done
if ((${#need[@]})); then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
fi

for tool in berth-agent berthctl; do
    bin=.build/release/$tool
    [ -x "$bin" ] || die "$bin is missing; run \`make deb\` (it builds both static binaries with \`make agent ctl\`)"
    # A host has no Swift runtime: a binary that needs one is the wrong build.
    if readelf -d "$bin" | grep -q 'NEEDED.*libswift'; then
        die "$bin links the Swift runtime dynamically; build it with --static-swift-stdlib (\`make agent ctl\`)"
    fi
done

export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
DAY=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
CHANGELOG_DATE=$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")

rm -rf "$SCRATCH"
mkdir -p "$STAGE/DEBIAN"
umask 022

log "staging $NAME"
for tool in berth-agent berthctl; do
    install -D -m 0755 ".build/release/$tool" "$STAGE/usr/bin/$tool"
    # As dh_strip does: symbols and debug information are not needed on a host.
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$STAGE/usr/bin/$tool"
done

# The units as in systemd/, with ExecStart pointing at /usr/bin instead of `make install`'s
# /usr/local/bin; a generator, if systemd/ has one, goes where systemd looks for them.
install -d "$STAGE/lib/systemd/system"
for unit in systemd/*.service systemd/*.timer systemd/*.path; do
    sed 's|/usr/local/bin/berth-agent|/usr/bin/berth-agent|g' "$unit" >"$STAGE/lib/systemd/system/${unit##*/}"
    if grep -q '/usr/local' "$STAGE/lib/systemd/system/${unit##*/}"; then
        die "$unit still names /usr/local after rewriting ExecStart; make scripts/deb.sh rewrite that path too"
    fi
done
for generator in systemd/*-generator; do
    [ -e "$generator" ] || continue
    install -D -m 0755 "$generator" "$STAGE/lib/systemd/system-generators/${generator##*/}"
done

install -D -m 0644 packaging/agent.yaml "$STAGE/etc/berth/agent.yaml"

for tool in berth-agent berthctl; do
    bin=$STAGE/usr/bin/$tool
    install -d "$STAGE/usr/share/bash-completion/completions" "$STAGE/usr/share/zsh/vendor-completions" \
        "$STAGE/usr/share/fish/vendor_completions.d"
    # bash-completion sources the file: the #! line ArgumentParser writes has no use there.
    "$bin" --generate-completion-script bash | sed '1{/^#!/d}' >"$STAGE/usr/share/bash-completion/completions/$tool"
    "$bin" --generate-completion-script zsh >"$STAGE/usr/share/zsh/vendor-completions/_$tool"
    "$bin" --generate-completion-script fish >"$STAGE/usr/share/fish/vendor_completions.d/$tool.fish"
done

# Man pages from the command trees. The plugin builds the package first: in debug, because a
# plugin-made release build would relink .build/release/berth-agent without `make agent`'s flags.
# Two fix-ups of generate-manual's mdoc, so man, whatis and lintian read the pages cleanly:
#  - a subcommand's NAME is `.Nm "berthctl env"`, which whatis cannot index: it becomes
#    berthctl.env, the page's own name, and the SYNOPSIS keeps showing "berthctl env";
#  - blank lines copied from a command's discussion become .Pp, mdoc's paragraph break.
manual_fixups() {
    awk '/^\.Sh NAME/ { inName = 1 } /^\.Sh SYNOPSIS/ { inName = 0 }
        inName && /^\.Nm ".* .*"$/ { name = substr($0, 6, length($0) - 6); page = name; gsub(/ /, ".", page); print ".Nm " page; next }
        $0 == ".Nm" && name != "" { print ".Nm \"" name "\""; next }
        /^$/ { print ".Pp"; next }
        { print }'
}

log "generating manual pages"
plugin_log=$SCRATCH/generate-manual.log
touch "$SCRATCH/before-manual"
if ! "$SWIFT" package generate-manual --configuration debug --multi-page --date "$DAY" >"$plugin_log" 2>&1; then
    cat "$plugin_log" >&2
    die "swift package generate-manual failed (output above)"
fi
install -d "$STAGE/usr/share/man/man1"
pages=0
for tool in berth-agent berthctl; do
    dir=$(sed -n "s|^Generated manual in 'file://\(.*/$tool\)/\{0,1\}'\$|\1|p" "$plugin_log" | tail -1)
    [ -d "$dir" ] || die "generate-manual did not say where it put $tool's pages (see $plugin_log)"
    # Only this run's pages: the plugin's directory keeps those of commands that are gone.
    while IFS= read -r -d '' page; do
        manual_fixups <"$page" | gzip -9n >"$STAGE/usr/share/man/man1/${page##*/}.gz"
        pages=$((pages + 1))
    done < <(find "$dir" -maxdepth 1 -name '*.1' -newer "$SCRATCH/before-manual" -print0)
done
for tool in berth-agent berthctl; do
    [ -e "$STAGE/usr/share/man/man1/$tool.1.gz" ] || die "generate-manual made no $tool.1 (see $plugin_log)"
done

install -D -m 0644 packaging/copyright "$STAGE/usr/share/doc/berth/copyright"
install -D -m 0644 packaging/lintian-overrides "$STAGE/usr/share/lintian/overrides/berth"
sed -e "s|@VERSION@|$VERSION|g" -e "s|@MAINTAINER@|$MAINTAINER|g" -e "s|@DATE@|$CHANGELOG_DATE|g" packaging/changelog |
    gzip -9n >"$STAGE/usr/share/doc/berth/changelog.Debian.gz"

# Every package the build resolved must be named in the copyright file: the binaries carry them.
if [ -f Package.resolved ]; then
    missing=$(sed -n 's/^ *"identity" : "\(.*\)",$/\1/p' Package.resolved | while read -r id; do
        grep -qi "checkouts/$id/" packaging/copyright || echo "$id"
    done)
    [ -z "$missing" ] || die "packaging/copyright does not cover $(echo "$missing" | tr '\n' ' ')(linked into the binaries); add a Files: .build/checkouts/NAME/* line with its licence"
fi

# The shared libraries the binaries still load (glibc, libstdc++, zlib), as dpkg-shlibdeps finds them.
mkdir -p "$SCRATCH/shlibs/debian"
printf 'Source: berth\n\nPackage: berth\nArchitecture: any\n' >"$SCRATCH/shlibs/debian/control"
shlibs=$(cd "$SCRATCH/shlibs" && dpkg-shlibdeps -O -e"$STAGE/usr/bin/berth-agent" -e"$STAGE/usr/bin/berthctl" 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies for the binaries"

install -m 0644 packaging/conffiles "$STAGE/DEBIAN/conffiles"
install -m 0755 packaging/postinst packaging/prerm packaging/postrm "$STAGE/DEBIAN/"
find "$STAGE" -type d -exec chmod 0755 {} +
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/md5sums"
size=$(du -sk --apparent-size --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$ARCH|" -e "s|@MAINTAINER@|$MAINTAINER|" \
    -e "s|@INSTALLED_SIZE@|$size|" -e "s|@SHLIBS_DEPENDS@|$shlibs|" packaging/control >"$STAGE/DEBIAN/control"
find "$STAGE" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

rm -f "$ROOT/$NAME"
dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$ROOT/$NAME" >&2
log "built $NAME ($(du -h "$ROOT/$NAME" | cut -f1), $pages manual pages)"

# Errors fail the build; warnings are shown (docs/operations.md says why each one stays).
log "lintian $NAME"
lintian --fail-on error --display-info "$ROOT/$NAME" >&2 || die "lintian found errors in $NAME (above)"
echo "$ROOT/$NAME"
