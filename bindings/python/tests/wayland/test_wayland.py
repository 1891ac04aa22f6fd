"""A Python host sharing a Wayland desktop: the headless GNOME desktop
run.sh started (one 640x480 virtual monitor; ``WAYLAND_DISPLAY``,
``XDG_RUNTIME_DIR`` and its own session bus set, no ``DISPLAY``). A
:class:`ra.Screen` for the session's own display picks Wayland by itself;
``WaylandApi.MUTTER`` opens the session without a dialog. Run apart from
the other tests (run.sh's Wayland step), which need an X display."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import ra  # noqa: E402
from kit import WAIT, connect, eventually, wait_for  # noqa: E402


def test_a_wayland_desktop_shared_and_controlled():
    assert os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY")
    screen = ra.Screen(inject_input=True, wayland_api=ra.WaylandApi.MUTTER)
    with ra.Host.invite(listen="127.0.0.1:0", screen=screen) as host:
        events = host.events(timeout=WAIT)
        # Said as the session starts: no panic key on Wayland.
        limited = next(iter(events))
        assert limited.kind == ra.HostEventKind.DESK_LIMITED, limited
        assert "Wayland" in limited.text
        helper, events = connect(host)
        with helper:
            helper_events = helper.events(timeout=WAIT)
            displays = wait_for(helper_events, ra.HelperEventKind.DISPLAYS).displays
            assert [(d.width, d.height) for d in displays] == [(640, 480)], displays
            frame = wait_for(helper_events, ra.HelperEventKind.FRAME).frame
            assert (frame.width, frame.height) == (640, 480)

            helper.request_control()
            asked = wait_for(events, ra.HostEventKind.CONTROL_REQUESTED)
            host.grant_control(asked.connection)
            wait_for(helper_events, ra.HelperEventKind.CONTROL_GRANTED)
            helper.send_input([ra.PointerMove(320, 240), ra.Button(ra.MouseButton.LEFT, True),
                               ra.Button(ra.MouseButton.LEFT, False), ra.Text("ok")])
            eventually(lambda: host.stats().input_events_injected >= 4,
                       what="4 input events injected into the Wayland session")


def test_an_unknown_api_is_refused():
    with_bad_api = ra.Screen(wayland_api=7)  # type: ignore[arg-type]
    try:
        ra.Host.invite(listen="127.0.0.1:0", screen=with_bad_api)
    except ra.Error as error:
        assert error.code == ra.Result.INVALID_ARGUMENT, error
    else:
        raise AssertionError("an unknown Wayland API was accepted")
