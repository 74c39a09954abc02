#!/bin/sh
# fetch-kernel.sh - make sure the VM's kernel image is in the cache, and
# print its path: build/cache/ktest/vmlinux-<ver>.
#
# Usage: fetch-kernel.sh CACHE_DIR
#
# <ver> is scripts/ktest/kver.sh's (the installed headers' version: the
# module's vermagic must match the booted kernel exactly). The image comes
# from Debian's own package through apt (`apt-get download
# linux-image-<ver>`, falling back to the -unsigned package name); only
# boot/vmlinuz-<ver> is extracted, and its xz payload is decompressed once
# here (python3's lzma), because qemu boots the plain ELF vmlinux directly
# (PVH entry) and decompressing under TCG emulation costs about 20 s per
# boot. CACHE_DIR survives `make clean` (only distclean removes it).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=$1
ver=$(sh "$here/kver.sh")
img="$cache/vmlinux-$ver"
if [ -s "$img" ]; then echo "$img"; exit 0; fi
mkdir -p "$cache"
tmp=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp" # apt's download sandbox (user _apt) must be able to write here
( cd "$tmp" && { apt-get download "linux-image-$ver" >&2 ||
                 apt-get download "linux-image-$ver-unsigned" >&2; } )
deb=$(ls "$tmp"/linux-image-*.deb | head -n 1)
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/vmlinuz-$ver"
python3 - "$tmp/boot/vmlinuz-$ver" "$tmp/vmlinux" <<'PY'
import lzma, sys
data = open(sys.argv[1], 'rb').read()
at = data.find(b'\xfd7zXZ\x00')
if at < 0:
    sys.exit('fetch-kernel.sh: no xz payload in ' + sys.argv[1])
elf = lzma.LZMADecompressor().decompress(data[at:])
if elf[:4] != b'\x7fELF':
    sys.exit('fetch-kernel.sh: the payload is not an ELF vmlinux')
open(sys.argv[2], 'wb').write(elf)
PY
mv "$tmp/vmlinux" "$img"
echo "$img"
