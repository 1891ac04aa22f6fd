#!/usr/bin/env bash
# Installs what building and running the demo, or testing ra, needs on Debian
# (run as root, or with sudo available): `setup.sh demo` or `setup.sh test`.
# Idempotent: installs only what is missing.
set -euo pipefail

# What to set up for: `demo` (./scripts/demo.sh: build the programs and run
# them on a virtual display) or `test` (everything ./scripts/test.sh runs; the
# default).
purpose=${1:-test}

# The demo: build ra and run it on a virtual X display.
packages=(
    build-essential   # cc/c++ for ring and the bundled OpenH264
    pkg-config
    nasm              # OpenH264's assembly: without it encoding is 2-3x slower
    xvfb              # a virtual X display when there is none
    libpipewire-0.3-dev # the Wayland capturer (PipeWire), built into the programs
    libclang-dev      # bindgen, for the PipeWire bindings
    ca-certificates   # rustup, when Rust is missing
    curl
)

case $purpose in
demo) ;;
test)
    packages+=(
        x11-utils         # xwd, xdpyinfo
        x11-xserver-utils # xrandr, xsetroot, xhost
        # ra-viewer's window (winit + softbuffer load these with dlopen at run
        # time; building needs no -dev package):
        libx11-xcb1
        libxcursor1
        libxrandr2
        libxi6
        libxkbcommon-x11-0
        ffmpeg            # the baseline of ra-screen-bench (x11grab + libx264); no test needs it
        xwayland          # ra-screen-bench --desktop wayland draws its scenes through it; no test needs it
        # Only for ra-capture's optional `xcap` feature (found by building it):
        libgbm-dev
        libwayland-dev
        libxcb1-dev
        # The C API's tests (ra-ffi/tests/run.sh): sanitizers come with gcc.
        valgrind            # the C session test, checked for leaks
        libxcb-xinput-dev   # the C desk test plays the person at the desk
        libxcb-xtest0-dev
        mono-complete       # the C# bindings: mcs and mono
        python3-venv        # the Python bindings, installed with pip into a venv
        python3-pip
        python3-pytest
        python3-setuptools  # builds the Python package without a download
        python3-wheel       # and its platform wheel (pip depends on it; named for clarity)
        g++                 # the C++ wrapper
        cmake               # the CMake package config
        # ra-broker's tests: a real Redis for the multi-node registry, network
        # namespaces with NAT (iproute2 + nftables), iptables for diagnose's check.
        redis-server
        iproute2
        nftables
        iptables
        git
        # The Wayland tests: a headless GNOME desktop (ra-testkit/scripts/
        # headless-gnome.sh) in a private dbus-run-session, and a client that
        # logs the input it gets (weston-eventdemo).
        mutter
        pipewire
        wireplumber
        dbus                # dbus-run-session
        libglib2.0-bin      # gdbus wait
        weston              # weston-eventdemo
        xdg-desktop-portal  # the portal path, with its GNOME dialog
        xdg-desktop-portal-gnome
        # The Wayland capturer's test takes a reference screenshot of the
        # PipeWire stream with GStreamer (pipewiresrc ! videoconvert).
        gstreamer1.0-pipewire
        gstreamer1.0-tools
        gstreamer1.0-plugins-base
        gstreamer1.0-plugins-good
    )
    ;;
*)
    echo "setup: unknown purpose $purpose (demo or test)" >&2
    exit 2
    ;;
esac

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo_cmd=()
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
    echo "setup: installing ${missing[*]}" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Rust: ra needs 1.89 or newer (edition 2024).
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: installing Rust with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal --component rustfmt,clippy
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
version=$(rustc --version | awk '{print $2}')
if [ "$(printf '%s\n' 1.89.0 "$version" | sort -V | head -n1)" != 1.89.0 ]; then
    if command -v rustup >/dev/null 2>&1; then
        rustup toolchain install stable --profile minimal --component rustfmt,clippy
        rustup default stable
    else
        echo "setup: rustc $version is too old; ra needs 1.89 or newer" >&2
        exit 1
    fi
fi

# The test command's short fuzzing runs (scripts/fuzz.sh): cargo fuzz, on the
# nightly toolchain (its sanitizer flags are nightly-only).
if [ "$purpose" = test ]; then
    if ! cargo +nightly --version >/dev/null 2>&1; then
        if command -v rustup >/dev/null 2>&1; then
            echo "setup: installing the nightly toolchain (for cargo fuzz)" >&2
            rustup toolchain install nightly --profile minimal
        else
            echo "setup: cargo fuzz needs the nightly toolchain, and rustup is missing" >&2
            exit 1
        fi
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "setup: installing cargo-fuzz" >&2
        cargo install cargo-fuzz --locked --quiet
    fi
fi
