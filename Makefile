# Builds the two CNI plugins (static), the unit tests and the test tools.
#   make                 release build in build/
#   make SAN=1           ASan+UBSan build in build-san/ (dynamic: sanitizers need it)
#   make CC=clang        any C11 compiler; warnings are errors with gcc and clang
#   make check           unit tests (built with sanitizers)
#   make fuzz            libFuzzer targets in build-fuzz/ (clang, ASan+UBSan)

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
# version.c is rewritten only when the text changes, so nothing relinks needlessly.
VERSION_TEXT := $(shell cat VERSION)$(shell git describe --always --dirty --match=NONE 2>/dev/null | sed 's/^/+g/')
VERSION_C := $(BUILD)/version.c
$(shell mkdir -p $(BUILD) && printf 'const char cnt_version[] = "%s";\n' '$(VERSION_TEXT)' | cmp -s - $(VERSION_C) || \
	printf 'const char cnt_version[] = "%s";\n' '$(VERSION_TEXT)' >$(VERSION_C))

CNI_SRCS := $(wildcard src/cni/*.c) $(wildcard src/util/*.c) $(wildcard src/netns/*.c) $(wildcard src/rtnl/*.c) $(wildcard src/dhcp4/*.c)
CNI_OBJS := $(CNI_SRCS:%.c=$(BUILD)/%.o) $(BUILD)/version.o
CNI_LIB := $(BUILD)/libcnicore.a

MACVLAN_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/macvlan/*.c))
# The dhcp binary: the plugin (src/dhcp) and the daemon (src/dhcpd); everything but
# its main() is a library that unit tests and fuzzers link too.
DHCP_SRCS := $(wildcard src/dhcp/*.c) $(filter-out src/dhcpd/main.c,$(wildcard src/dhcpd/*.c src/dhcpd/*/*.c))
DHCP_OBJS := $(DHCP_SRCS:%.c=$(BUILD)/%.o)
DHCP_LIB := $(BUILD)/libdhcp.a

PLUGINS := $(BUILD)/macvlan $(BUILD)/dhcp $(BUILD)/cni-install
TOOLS := $(BUILD)/tests/ipam-shim
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

FUZZ_SRCS := $(wildcard fuzz/fuzz_*.c)
FUZZERS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all unit-tests check fuzz clean
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

$(BUILD)/dhcp: $(BUILD)/src/dhcpd/main.o $(DHCP_LIB) $(CNI_LIB)
	@echo "  LD      $@"
	@$(CC) $(PLUGIN_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/cni-install: $(BUILD)/src/install/main.o $(CNI_LIB)
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

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
