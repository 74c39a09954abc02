#!/bin/sh
# gen-pkgconfig.sh — print kvlabs.pc for an install prefix.
# Usage: gen-pkgconfig.sh PREFIX
set -eu
cat <<PC
prefix=$1
includedir=\${prefix}/include
libdir=\${prefix}/lib

Name: kvlabs
Description: kvlabs storage engines behind one contract (kvlabs/kv.h)
Version: 0.1.0
Cflags: -I\${includedir}
Libs: -L\${libdir} -lkvlabs
Libs.private: -lxxhash -lpthread -lm
PC
