#!/bin/sh
# kver.sh - print the kernel version the VM tests use: the version of the
# linux-headers-<ver>-amd64 package that the linux-headers-amd64
# metapackage pulled in, as dpkg records it (never hard-coded: Debian bumps
# it, and the module's vermagic must match the booted image exactly).
# KTEST_KVER overrides it. Exit 1 when no headers are installed.
set -eu
if [ -n "${KTEST_KVER:-}" ]; then echo "$KTEST_KVER"; exit 0; fi
dep=$(dpkg-query -W -f '${Depends}' linux-headers-amd64 2>/dev/null |
      tr ',' '\n' | sed -n 's/^ *linux-headers-\([^ ]*-amd64\).*/\1/p' | head -n 1)
if [ -z "$dep" ] || [ ! -d "/usr/src/linux-headers-$dep" ]; then
    echo "kver.sh: linux-headers-amd64 is not installed (scripts/install-deps.sh)" >&2
    exit 1
fi
echo "$dep"
