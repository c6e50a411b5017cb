module yolk

go 1.26.0

toolchain go1.26.8

require (
	github.com/hugelgupf/p9 v0.3.0
	github.com/u-root/u-root v0.16.0
	github.com/usbarmory/tamago v1.26.0
	golang.org/x/arch v0.32.0
	golang.org/x/sys v0.49.0
)

require (
	github.com/dustin/go-humanize v1.0.1 // indirect
	github.com/pierrec/lz4/v4 v4.1.22 // indirect
	github.com/u-root/uio v0.0.0-20240224005618-d2acac8f3701 // indirect
)
