# yolk — see README.md.
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
GOSRC := $(shell find boot amd64 kernel linux cmd -name '*.go' -o -name '*.s') go.mod

.PHONY: all kernel clean
all: kernel
kernel: $(KERNEL)

$(KERNEL): $(GOSRC)
	@mkdir -p $(BUILD)
	$(GO) build -o $(BUILD)/kernel.raw -ldflags '$(LDFLAGS)' ./cmd/kernel
	GOOS= GOARCH= $(GO) run ./scripts/pvhnote -entry yolk/boot.pvhEntry -virt-base 0xffffffff80000000 $(BUILD)/kernel.raw $@

clean:
	rm -rf $(BUILD)
