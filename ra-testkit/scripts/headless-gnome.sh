#!/usr/bin/env bash
# A headless GNOME (mutter) Wayland desktop for the tests: PipeWire,
# WirePlumber (it links PipeWire consumers to mutter's streams) and mutter
# with one virtual monitor per argument (WIDTHxHEIGHT), software rendering.
#
# Run inside a private `dbus-run-session` with a private, empty
# XDG_RUNTIME_DIR (ra_testkit::gnome::HeadlessGnome does both), and with
# WAYLAND_DISPLAY and XDG_CURRENT_DESKTOP=GNOME set before the bus starts so
# that the services it activates (xdg-desktop-portal, its GNOME backend)
# find the desktop. With RA_GNOME_XWAYLAND=1 mutter also runs Xwayland (X
# clients on the desktop; package xwayland). Prints one line once mutter's
# RemoteDesktop API answers:
#   ready BUS=<address> RUNTIME=<dir> WAYLAND=<socket name> MUTTER=<pid>[ X11=<display>]
# then keeps the desktop until its stdin closes (10 minutes at most), and
# stops what it started, by PID. Logs go to $XDG_RUNTIME_DIR/../*.log.
set -u
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ -d "${XDG_RUNTIME_DIR:-}" ] ||
    { echo "headless-gnome.sh: run inside dbus-run-session with XDG_RUNTIME_DIR set" >&2; exit 2; }
export WAYLAND_DISPLAY=${WAYLAND_DISPLAY:-wayland-ra}
unset DISPLAY
logs=$(dirname "$XDG_RUNTIME_DIR")
pids=()
# Stops what it started, by PID: TERM, then KILL for what is still running
# 5 s later (mutter has been seen to ignore TERM while busy).
stop() {
    [ ${#pids[@]} -gt 0 ] || return 0
    kill "${pids[@]}" 2>/dev/null
    for _ in $(seq 50); do
        local alive=0 pid
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null && alive=1
        done
        [ $alive = 0 ] && break
        sleep 0.1
    done
    kill -KILL "${pids[@]}" 2>/dev/null
    wait 2>/dev/null
}
trap stop EXIT

# Waits up to 10 s for a socket to appear.
wait_for_socket() {
    for _ in $(seq 200); do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    return 1
}

pipewire >"$logs/pipewire.log" 2>&1 &
pids+=($!)
# WirePlumber gives up at once when PipeWire is not there yet: without it
# nothing links a consumer to mutter's streams.
wait_for_socket "$XDG_RUNTIME_DIR/pipewire-0" ||
    { echo "headless-gnome.sh: no PipeWire socket; see $logs/pipewire.log" >&2; exit 1; }
wireplumber >"$logs/wireplumber.log" 2>&1 &
pids+=($!)
monitors=()
for monitor in "$@"; do
    monitors+=(--virtual-monitor "$monitor")
done
if [ "${RA_GNOME_XWAYLAND:-}" = 1 ]; then
    # Mutter gives the program after "--" the Xwayland display (and its
    # cookie), and quits when it exits: it lets the user's own clients in
    # without the cookie (xhost, package x11-xserver-utils), says the
    # display and its PID through a pipe, then waits (stopped with the rest,
    # by PID).
    x11_pipe=$XDG_RUNTIME_DIR/x11-display
    mkfifo "$x11_pipe"
    mutter --headless --wayland "${monitors[@]}" --wayland-display "$WAYLAND_DISPLAY" -- \
        bash -c 'xhost "+si:localuser:$(id -un)" >/dev/null; echo "$DISPLAY $$" >"$0"; exec sleep 600' \
        "$x11_pipe" \
        >"$logs/mutter.log" 2>&1 &
    pids+=($!)
    x11_display="" x11_holder=""
    read -r -t 60 x11_display x11_holder <"$x11_pipe" ||
        { echo "headless-gnome.sh: mutter started no Xwayland; see $logs/mutter.log" >&2; exit 1; }
    pids+=("$x11_holder")
else
    mutter --headless --wayland --no-x11 "${monitors[@]}" --wayland-display "$WAYLAND_DISPLAY" \
        >"$logs/mutter.log" 2>&1 &
    pids+=($!)
fi

# Mutter owns its name once its D-Bus API is up (an event, not a guess).
if ! gdbus wait --session --timeout 60 org.gnome.Mutter.RemoteDesktop; then
    echo "headless-gnome.sh: mutter did not come up; see $logs/mutter.log" >&2
    exit 1
fi
if ! gdbus wait --session --timeout 60 org.gnome.Mutter.ScreenCast; then
    echo "headless-gnome.sh: mutter has no ScreenCast API; see $logs/mutter.log" >&2
    exit 1
fi
wait_for_socket "$XDG_RUNTIME_DIR/$WAYLAND_DISPLAY" ||
    { echo "headless-gnome.sh: no Wayland socket; see $logs/mutter.log" >&2; exit 1; }
kill -0 "${pids[1]}" 2>/dev/null ||
    { echo "headless-gnome.sh: WirePlumber stopped; see $logs/wireplumber.log" >&2; exit 1; }
echo "ready BUS=$DBUS_SESSION_BUS_ADDRESS RUNTIME=$XDG_RUNTIME_DIR WAYLAND=$WAYLAND_DISPLAY MUTTER=${pids[2]}${x11_display:+ X11=$x11_display}"
read -r -t 600 _ || true
