# Berth — `make test` runs every test (unit, CLI, real dockerd, real systemd hosts);
# `make demo` runs Berth for real on two booted hosts. Both install what they need.

SHELL        := /bin/bash
SWIFT        ?= swift
RELEASE_DIR  := .build/release
AGENT_BIN    := $(RELEASE_DIR)/berth-agent
CTL_BIN      := $(RELEASE_DIR)/berthctl
ROOTFS       ?= /var/cache/berth-test/rootfs
PREFIX       ?= /usr/local
# A hung test fails the run with what it printed instead of eating CI's 90 minutes.
TEST_TIMEOUT ?= 45m

.PHONY: all build agent ctl deb deps rootfs test unit-test demo bench orderfile install clean

all: build

# System packages the tests and the demo drive for real.
deps:
	@scripts/deps.sh

build:
	$(SWIFT) build

# One self-contained static binary: what goes onto a host. A short pass's memory is mostly pages of
# this binary, so it is linked to touch few of them (figures in bench/ and the README):
#  - lld with packed relative relocations (DT_RELR, glibc >= 2.36) and no exported symbols: fewer
#    pages written by the loader at every start; still a PIE, so ASLR is kept;
#  - each function in its own section, laid out in the order of bench/berth-agent.order (the
#    functions a no-op and a repair pass run, from bench/orderfile.sh), so they share pages instead
#    of being spread over 24 MB of text. Names the list does not know keep the default order.
AGENT_ORDER ?= $(CURDIR)/bench/berth-agent.order
AGENT_FLAGS ?= -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs -Xlinker --no-export-dynamic \
	-Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
	-Xlinker --symbol-ordering-file=$(AGENT_ORDER) -Xlinker --no-warn-symbol-ordering
agent:
	@# The order file is a linker argument, not an input SwiftPM tracks: relink when it is newer.
	@[ ! -e $(AGENT_BIN) ] || [ $(AGENT_BIN) -nt $(AGENT_ORDER) ] || rm -f $(AGENT_BIN)
	$(SWIFT) build -c release --static-swift-stdlib --product berth-agent $(AGENT_FLAGS)

# berthctl as static as the agent, for the package: the same flags, so the two share their objects
# (the order file only names agent functions; the linker places the rest as usual).
ctl:
	$(SWIFT) build -c release --static-swift-stdlib --product berthctl $(AGENT_FLAGS)

# The Debian package (berth_VERSION_ARCH.deb, see docs/operations.md), checked with lintian.
deb: agent ctl
	@SWIFT=$(SWIFT) scripts/deb.sh

rootfs: deps
	@scripts/rootfs.sh >/dev/null

# The package is built first: the package tests install it on a booted host (BERTH_DEB).
test: deps agent rootfs deb
	scripts/testhost.sh stop --all || true
	BERTH_AGENT_BIN=$(CURDIR)/$(AGENT_BIN) BERTH_DEB=$(CURDIR)/$$(scripts/deb.sh --name) BERTH_ROOTFS=$(ROOTFS) timeout --kill-after=30s $(TEST_TIMEOUT) $(SWIFT) test; status=$$?; \
	  scripts/testhost.sh stop --all >/dev/null 2>&1 || true; exit $$status

# Unit and CLI tests only (no root, no hosts): fast feedback while editing.
unit-test:
	BERTH_SKIP_HOSTS=1 $(SWIFT) test

# The two-host demo: needs the static agent, the test hosts' root filesystem and berthctl.
demo: deps agent rootfs build
	scripts/demo.sh

bench: deps agent rootfs build
	bench/noop.sh

# berthctl over 100, 1,000 and 10,000 generated hosts, and 1,000 agents publishing to one
# git daemon at once (docs/scale.md). Needs only git and GNU time; builds its own release binaries.
bench-fleet:
	SWIFT=$(SWIFT) bench/fleet-scale.sh

# Regenerates bench/berth-agent.order from a profiled pass; rerun `make agent bench` afterwards.
orderfile: deps agent rootfs build
	bench/orderfile.sh

install: agent ctl
	install -m 0755 $(AGENT_BIN) $(DESTDIR)$(PREFIX)/bin/berth-agent
	install -m 0755 $(CTL_BIN) $(DESTDIR)$(PREFIX)/bin/berthctl
	install -d $(DESTDIR)/etc/systemd/system $(DESTDIR)$(PREFIX)/lib/systemd/system-generators
	install -m 0644 systemd/berth-agent.service systemd/berth-agent.timer systemd/berth-agent.path systemd/berth-agent-run.service $(DESTDIR)/etc/systemd/system/
	install -m 0755 systemd/berth-agent-generator $(DESTDIR)$(PREFIX)/lib/systemd/system-generators/

clean:
	rm -rf .build
