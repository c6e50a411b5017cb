# yolk — see README.md.
# Go from PATH, else the usual install location.
export PATH := $(PATH):/usr/local/go/bin
GO ?= go
export GOOS := linux
export GOARCH := amd64
export CGO_ENABLED := 0

BUILD := build
KERNEL := $(BUILD)/kernel.elf
# The kernel is linked in the higher half: text at 0xffffffff80201000
# (headers at physical 0x200000). -T takes a signed value.
KERNEL_TEXT := -2145382400
LDFLAGS := -T $(KERNEL_TEXT) -R 0x1000
GOSRC := $(shell find . -path ./examples -prune -o -path ./build -prune -o \( -name '*.go' -o -name '*.s' \) -print) go.mod go.sum

.PHONY: all kernel examples debs run debug bench gostd test unit-test setup generate check-generated clean
all: kernel
kernel: $(KERNEL)

# Programs under examples/, built static-PIE into build/examples/ (again
# only when a source changed).
EXAMPLE_SRC := $(shell find examples -type f) scripts/build-examples
examples: $(BUILD)/examples/.built
$(BUILD)/examples/.built: $(EXAMPLE_SRC)
	GOOS= GOARCH= CGO_ENABLED= scripts/build-examples $(BUILD)/examples
	@touch $@

# Debian's dynamically linked busybox, unpacked (not installed: its
# package conflicts with busybox-static, which the tests use too); the
# QEMU tests run it with `make debs`.
debs: $(BUILD)/debs/busybox/bin/busybox
$(BUILD)/debs/busybox/bin/busybox: scripts/debextract
	scripts/debextract busybox $(BUILD)/debs/busybox
	@touch $@

APP ?= helloworld
ARGS ?=
ACCEL ?=
MEM ?= 256M
MACHINE ?= microvm
RUNFLAGS = -k $(KERNEL) -i $(BUILD)/examples/$(APP) -m $(MEM) -M $(MACHINE) $(if $(ACCEL),-A $(ACCEL)) $(if $(ARGS),-a "$(ARGS)")

# make run APP=helloworld [ARGS="..."] [ACCEL=kvm|tcg] [MEM=256M] [MACHINE=microvm|q35]
# make's own status can only say failure (2); the program's status is
# printed when it is not 0 (qemu/run returns it exactly).
run: setup kernel examples
	@test -e $(BUILD)/examples/$(APP) || { echo "make run: no example named $(APP) (see ls examples/)"; exit 2; }
	@qemu/run $(RUNFLAGS) || { s=$$?; echo "make run: $(APP) exited with status $$s"; exit $$s; }

# make debug APP=...: boot paused with a gdb server and attach gdb with the
# kernel's and the program's symbols.
debug: setup kernel examples
	scripts/gdb $(RUNFLAGS)

$(KERNEL): $(GOSRC)
	@mkdir -p $(BUILD)
	$(GO) build -o $(BUILD)/kernel.raw -ldflags '$(LDFLAGS)' ./cmd/kernel
	GOOS= GOARCH= $(GO) run ./scripts/pvhnote -entry yolk/boot.pvhEntry -virt-base 0xffffffff80000000 -trim crypto/internal/fips140/drbg.memory $(BUILD)/kernel.raw $@

# make bench [ROUNDS=5] [NETROUNDS=3] [ACCEL=kvm|tcg] [MEM=512M]: yolk
# against a Linux VM (Debian's kernel, fetched by scripts/linuxvm) on the
# same QEMU, the order alternating; writes docs/benchmarks.md and
# docs/benchmarks.svg (scripts/bench, ROUNDS rounds), then docs/network.md
# (scripts/netbench, NETROUNDS rounds). scripts/benchprogs builds lua,
# gojq, speedtest1 and xz the first time (a minute or two). About 14
# minutes under TCG on an idle 2-core machine. Not part of make test.
NETROUNDS ?= 3
bench: setup kernel examples
	scripts/bench
	ROUNDS=$(NETROUNDS) scripts/netbench

# make gostd [PKGS="os net ..."]: the Go standard library's own tests of
# files, processes, signals, time and sockets, run under yolk (-R /): a
# table of passed and failed tests per package. Not part of make test
# (about 10 minutes under TCG).
gostd: setup kernel
	scripts/gostd $(PKGS)

# make test: everything — vet, generated files current, unit tests, and
# the QEMU tests (TCG is enough).
test: setup check-generated
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	# framepointer is off: trap.s and entry.s load BP with the interrupted
	# context's value, which is their job.
	$(GO) vet -framepointer=false ./...
	# -parallel 2: each QEMU boot gets about a core (the self-test checks
	# timing: time.Sleep(10ms) within [10, 40] ms).
	# -timeout: the QEMU tests take 5 minutes on an idle 2-core machine
	# under TCG and more on a loaded one; go test's default 10 minutes
	# would cut a slow but passing run short.
	YOLK_REQUIRE_QEMU=1 $(GO) test -count=1 -parallel 2 -timeout 40m ./...
	# The unit tests again under the race detector (it needs cgo); the
	# QEMU tests in tests/ run the kernel, not this process's code.
	CGO_ENABLED=1 $(GO) test -race -count=1 $$($(GO) list ./... | grep -v '^yolk/tests')

unit-test:
	$(GO) test ./...
	CGO_ENABLED=1 $(GO) test -race $$($(GO) list ./... | grep -v '^yolk/tests')

# Installs what is missing (quiet when nothing is); run, debug and test
# depend on it, so a fresh machine needs no other step.
setup:
	@scripts/setup

# Regenerate checked-in generated files.
generate:
	$(GO) generate ./...

# Fail when a generated file is stale.
check-generated:
	@$(GO) generate ./... && git diff --exit-code --stat -- '*_gen.go' '*_gen.s' README.md || \
		{ echo "generated files are stale: run make generate and commit"; exit 1; }

clean:
	rm -rf $(BUILD)
