#!/usr/bin/env bash
# Installs the C library, include/ra.h, the C++ wrapper ra.hpp (and ra/*.hpp), ra.pc and the
# CMake package config under PREFIX:  ra-ffi/install.sh PREFIX [debug|release]
# (after cargo build). The shared library is installed under its versioned
# name, libra_ffi.so.X.Y.Z, with the links libra_ffi.so.X (its SONAME: what
# programs load) and libra_ffi.so (what the linker finds).
set -euo pipefail
prefix=${1:?usage: install.sh PREFIX [debug|release]}
profile=${2:-release}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}/$profile
version=$(sed -n 's/^#define RA_VERSION "\(.*\)"/\1/p' "$root/include/ra.h")
mkdir -p "$prefix/lib/pkgconfig" "$prefix/lib/cmake/ra" "$prefix/include"
major=${version%%.*}
install -m 644 "$root/include/ra.h" "$prefix/include/ra.h"
install -m 644 "$root/bindings/cpp/include/ra.hpp" "$prefix/include/ra.hpp"
mkdir -p "$prefix/include/ra"
install -m 644 "$root"/bindings/cpp/include/ra/*.hpp "$prefix/include/ra/"
install -m 755 "$target/libra_ffi.so" "$prefix/lib/libra_ffi.so.$version"
ln -sfn "libra_ffi.so.$version" "$prefix/lib/libra_ffi.so.$major"
ln -sfn "libra_ffi.so.$major" "$prefix/lib/libra_ffi.so"
install -m 644 "$target/libra_ffi.a" "$prefix/lib/libra_ffi.a"
prefix_abs=$(cd "$prefix" && pwd)
sed -e "s|@PREFIX@|$prefix_abs|" -e "s|@VERSION@|$version|" "$root/ra-ffi/ra.pc.in" >"$prefix/lib/pkgconfig/ra.pc"
install -m 644 "$root/ra-ffi/cmake/raConfig.cmake" "$prefix/lib/cmake/ra/raConfig.cmake"
sed -e "s|@VERSION@|$version|" "$root/ra-ffi/cmake/raConfigVersion.cmake.in" >"$prefix/lib/cmake/ra/raConfigVersion.cmake"
echo "installed ra $version into $prefix_abs"
