# Builds the two CNI plugins (static), the unit tests and the test tools.
#   make                 release build in build/
#   make SAN=1           ASan+UBSan build in build-san/ (dynamic: sanitizers need it)
#   make CC=clang        any C11 compiler; warnings are errors with gcc and clang
#   make check           unit tests (built with sanitizers)
#   make fuzz            libFuzzer targets in build-fuzz/ (clang, ASan+UBSan)
#   make install         plugins, installer, systemd units, man pages (PREFIX, DESTDIR,
#                        CNI_BIN_DIR); make uninstall removes them
#   make dist            $(BUILD)/cni-lan-VERSION.tar.gz of the committed tree
#   make image           the DaemonSet's image from stripped binaries (IMAGE, PODMAN)
#   make version         the version text every binary reports

CC ?= cc
SAN ?= 0
FUZZ ?= 0
ifeq ($(FUZZ),1)
CC := clang
BUILD ?= build-fuzz
endif
BUILD ?= $(if $(filter 1,$(SAN)),build-san,build)

PKGS := libnl-3.0 libnl-route-3.0 jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))

WARNINGS := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes \
	-Wpointer-arith -Wwrite-strings -Wvla -Wimplicit-fallthrough -Wundef -Wcast-qual \
	-Wno-missing-field-initializers
# Messages are cut to their buffers on purpose; gcc would flag every such snprintf.
ifeq ($(findstring clang,$(shell $(CC) --version 2>/dev/null | head -1)),)
WARNINGS += -Wno-format-truncation
endif
HARDEN := -fstack-protector-strong -fstack-clash-protection -D_FORTIFY_SOURCE=2 -fcf-protection
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) -Isrc $(PKG_CFLAGS)
LIBS := -lnl-route-3 -lnl-3 -ljansson -lpthread -lm

ifeq ($(FUZZ),1)
ALL_CFLAGS += -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS := -fsanitize=fuzzer,address,undefined
PLUGIN_LDFLAGS := -fsanitize=address,undefined
else ifeq ($(SAN),1)
ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS := -fsanitize=address,undefined
PLUGIN_LDFLAGS := $(ALL_LDFLAGS)
else
ALL_CFLAGS += $(HARDEN) -fPIE
ALL_LDFLAGS := -pie -Wl,-z,relro,-z,now
# Plugins are copied onto hosts that have none of our libraries.
PLUGIN_LDFLAGS := -static-pie -Wl,-z,relro,-z,now
endif

# The version every binary reports: VERSION, and the commit when built from git.
# Only this tree's own .git counts: a tarball from `make dist` carries the whole text
# in VERSION, and unpacked inside another repository must not take that one's commit.
# version.c is rewritten only when the text changes, so nothing relinks needlessly.
GIT_TREE := $(wildcard .git)
VERSION_TEXT := $(shell cat VERSION)$(if $(GIT_TREE),$(shell git describe --always --dirty --match=NONE 2>/dev/null | sed 's/^/+g/'))
VERSION_C := $(BUILD)/version.c
$(shell mkdir -p $(BUILD) && printf 'const char cnt_version[] = "%s";\n' '$(VERSION_TEXT)' | cmp -s - $(VERSION_C) || \
	printf 'const char cnt_version[] = "%s";\n' '$(VERSION_TEXT)' >$(VERSION_C))

CNI_SRCS := $(wildcard src/cni/*.c) $(wildcard src/util/*.c) $(wildcard src/netns/*.c) $(wildcard src/rtnl/*.c) $(wildcard src/dhcp4/*.c)
CNI_OBJS := $(CNI_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/version.o
CNI_LIB := $(BUILD)/libcnicore.a

MACVLAN_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/macvlan/*.c))
# The dhcp binary: the plugin (src/dhcp) and the daemon (src/dhcpd); everything but
# its main() is a library that unit tests and fuzzers link too.
DHCP_SRCS := $(wildcard src/dhcp/*.c) $(filter-out src/dhcpd/main.c,$(wildcard src/dhcpd/*.c src/dhcpd/*/*.c)) \
	$(wildcard src/doctor/*.c)
DHCP_OBJS := $(DHCP_SRCS:%.c=$(BUILD)/%.o)
DHCP_LIB := $(BUILD)/libdhcp.a

PLUGINS := $(BUILD)/macvlan $(BUILD)/dhcp $(BUILD)/cni-install
TOOLS := $(BUILD)/tests/ipam-shim
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZERS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all unit-tests check fuzz clean install uninstall dist image version
all: $(PLUGINS) $(TOOLS)

$(BUILD)/version.o: $(VERSION_C)
	@$(CC) $(ALL_CFLAGS) -include util/version.h -c -o $@ $<

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	@$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(CNI_LIB): $(CNI_OBJS)
	@echo "  AR      $@"
	@rm -f $@ && $(AR) rcs $@ $^

$(DHCP_LIB): $(DHCP_OBJS)
	@echo "  AR      $@"
	@rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/macvlan: $(MACVLAN_OBJS) $(CNI_LIB)
	@echo "  LD      $@"
	@$(CC) $(PLUGIN_LDFLAGS) -o $@ $^ $(LIBS)

# `dhcp doctor` reads a network configuration with the macvlan plugin's own parser.
$(BUILD)/dhcp: $(BUILD)/src/dhcpd/main.o $(BUILD)/src/macvlan/config.o $(DHCP_LIB) $(CNI_LIB)
	@echo "  LD      $@"
	@$(CC) $(PLUGIN_LDFLAGS) -o $@ $^ $(LIBS)

# The installer checks a configuration with the plugins' own parsers before installing it.
$(BUILD)/cni-install: $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/install/*.c)) $(BUILD)/src/macvlan/config.o \
		$(DHCP_LIB) $(CNI_LIB)
	@echo "  LD      $@"
	@$(CC) $(PLUGIN_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/ipam-shim: $(BUILD)/tests/tools/ipam-shim.o $(CNI_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(DHCP_LIB) $(CNI_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

unit-tests: $(UNIT_TESTS)

fuzz:
	@$(MAKE) --no-print-directory FUZZ=1 fuzzers

.PHONY: fuzzers
fuzzers: $(FUZZERS)

# The daemon's own parsers are fuzzed too.
$(BUILD)/fuzz/%: $(BUILD)/fuzz/%.o $(DHCP_LIB) $(CNI_LIB)
	@mkdir -p $(dir $@)
	@echo "  LD      $@"
	@$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

check: $(UNIT_TESTS)
	@failed=0; for t in $(UNIT_TESTS); do $$t || failed=1; done; exit $$failed

clean:
	rm -rf build build-san build-clang build-fuzz

version:
	@echo '$(VERSION_TEXT)'

# ---- install: the plugins where runtimes look for them (and where the systemd
# service starts the daemon from), the rest under PREFIX; DESTDIR stages a package.
PREFIX ?= /usr/local
CNI_BIN_DIR ?= /opt/cni/bin
SBINDIR ?= $(PREFIX)/sbin
UNITDIR ?= $(PREFIX)/lib/systemd/system
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/cni-lan
UNITS := deploy/systemd/cni-dhcp.service deploy/systemd/cni-dhcp.socket
MAN5 := man/cni-macvlan.5 man/cni-dhcp.5
MAN8 := man/dhcp.8

# The units name /opt/cni/bin: installed, they name CNI_BIN_DIR, where the daemon is.
install: $(BUILD)/macvlan $(BUILD)/dhcp $(BUILD)/cni-install
	install -d $(DESTDIR)$(CNI_BIN_DIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/macvlan $(BUILD)/dhcp $(DESTDIR)$(CNI_BIN_DIR)/
	install -m 0755 $(BUILD)/cni-install $(DESTDIR)$(SBINDIR)/
	for unit in $(UNITS); do \
		sed 's|/opt/cni/bin|$(CNI_BIN_DIR)|g' $$unit >$(DESTDIR)$(UNITDIR)/$${unit##*/} && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$${unit##*/} || exit 1; \
	done
	install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 LICENSE $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(CNI_BIN_DIR)/macvlan $(DESTDIR)$(CNI_BIN_DIR)/dhcp $(DESTDIR)$(SBINDIR)/cni-install \
		$(addprefix $(DESTDIR)$(UNITDIR)/,$(notdir $(UNITS))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(MAN5))) \
		$(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN8))) $(DESTDIR)$(DOCDIR)/LICENSE
	[ ! -d $(DESTDIR)$(DOCDIR) ] || rmdir --ignore-fail-on-non-empty $(DESTDIR)$(DOCDIR)

# ---- dist: the committed tree (git archive HEAD), its VERSION holding the whole
# version text, so that a build from the tarball reports what this one does.
# Reproducible: names sorted, owner root, every file's time the commit's.
DIST_VERSION = $(shell git show HEAD:VERSION)+g$(shell git describe --always --match=NONE)
DIST_NAME = cni-lan-$(DIST_VERSION)
DIST_STAGE = $(BUILD)/dist-stage

dist:
	@[ -n "$(GIT_TREE)" ] || { echo "make dist: no .git here: a tarball is made from a git checkout" >&2; exit 1; }
	$(if $(filter %-dirty,$(VERSION_TEXT)),@echo "make dist: uncommitted changes are left out: the tarball holds the last commit" >&2)
	rm -rf $(DIST_STAGE) && mkdir -p $(DIST_STAGE)
	git archive --format=tar --prefix=$(DIST_NAME)/ -o $(DIST_STAGE)/head.tar HEAD
	tar -x -C $(DIST_STAGE) -f $(DIST_STAGE)/head.tar
	printf '%s\n' '$(DIST_VERSION)' >$(DIST_STAGE)/$(DIST_NAME)/VERSION
	tar -C $(DIST_STAGE) --sort=name --owner=0 --group=0 --numeric-owner --mode=go-w \
		--mtime=@$$(git log -1 --format=%ct HEAD) --use-compress-program='gzip -9n' \
		-cf $(DIST_STAGE)/dist.tar.gz $(DIST_NAME)
	mv $(DIST_STAGE)/dist.tar.gz $(BUILD)/$(DIST_NAME).tar.gz
	rm -rf $(DIST_STAGE)
	@echo "  DIST    $(BUILD)/$(DIST_NAME).tar.gz"

# ---- image: the DaemonSet's image (deploy/Containerfile) from stripped copies of
# the static binaries, with OCI labels. A tag cannot hold "+": it becomes "-". Paths
# given to PODMAN are absolute: a wrapper (nsenter, a remote client) may run elsewhere.
PODMAN ?= podman
STRIP ?= strip
IMAGE ?= cni-lan:$(subst +,-,$(VERSION_TEXT))
# Any credentials in the remote's URL stay out of the label.
IMAGE_SOURCE ?= $(shell git remote get-url origin 2>/dev/null | sed 's|//[^/@]*@|//|')
IMAGE_REVISION ?= $(if $(GIT_TREE),$(shell git rev-parse HEAD),$(shell sed -n 's/^.*+g\([0-9a-f]*\).*$$/\1/p' VERSION))
IMAGE_STAGE = $(BUILD)/image

image: $(BUILD)/macvlan $(BUILD)/dhcp $(BUILD)/cni-install
	rm -rf $(IMAGE_STAGE) && mkdir -p $(IMAGE_STAGE)/bin
	for b in macvlan dhcp cni-install; do $(STRIP) --strip-all -o $(IMAGE_STAGE)/bin/$$b $(BUILD)/$$b || exit 1; done
	$(PODMAN) build -f $(CURDIR)/deploy/Containerfile -t $(IMAGE) --build-arg BIN_DIR=bin \
		--build-arg VERSION='$(VERSION_TEXT)' --build-arg REVISION='$(IMAGE_REVISION)' \
		--build-arg SOURCE='$(IMAGE_SOURCE)' $(abspath $(IMAGE_STAGE))
	@$(PODMAN) images --format '  IMAGE   {{.Repository}}:{{.Tag}} {{.Size}}' $(IMAGE)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
