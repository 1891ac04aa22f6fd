"""A Python host sharing the real screen of the X display run.sh started
(``DISPLAY``, an Xvfb) with the library's screen capturer and system
injector, and a Python helper over loopback. The witness
(``RA_TEST_WITNESS``, ra-ffi/tests/c/witness.c) paints a window over the
whole screen, judges the helper's picture against it (luma PSNR) and
reports the clicks it gets."""

import os
import queue
import subprocess
import threading
import time
from typing import List, Optional

import pytest

import ra
from kit import WAIT, connect, eventually, wait_for


class Witness:
    """The witness program: lines read on a thread of their own, so that
    every wait has a deadline."""

    def __init__(self, program: str) -> None:
        self.process = subprocess.Popen([program], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)  # the end of its output

    def line(self, timeout: float = WAIT) -> str:
        """The next line; fails after ``timeout`` seconds or at the end."""
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the witness said nothing within {timeout} s") from None
        assert line is not None, f"the witness ended (exit {self.process.wait(5)})"
        return line

    def request(self, text: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()
        return self.line()

    def clicks(self, presses: int, releases: int, timeout: float = WAIT) -> List[List[int]]:
        """Reads press/release lines until that many of each came (or the
        deadline passed); then whatever else arrives within a short grace."""
        seen: List[List[int]] = []
        deadline = time.monotonic() + timeout

        def count(kind: str) -> int:
            return sum(1 for s in seen if s[0] == kind)

        while count("press") < presses or count("release") < releases:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            assert line is not None, "the witness ended"
            words = line.split()
            if words[0] in ("press", "release"):
                seen.append([words[0]] + [int(w) for w in words[1:]])
        # Anything extra (a second press) would come right behind.
        while True:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                break
            if line is None:
                break
            words = line.split()
            if words[0] in ("press", "release"):
                seen.append([words[0]] + [int(w) for w in words[1:]])
        return seen

    def stop(self) -> None:
        try:
            if self.process.poll() is None and self.process.stdin is not None:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.stdin.close()
            self.process.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()  # by PID: only the witness this test started
            self.process.wait(10)


@pytest.fixture
def witness():
    program = os.environ.get("RA_TEST_WITNESS")
    if not program or not os.environ.get("DISPLAY"):
        pytest.skip("RA_TEST_WITNESS and DISPLAY are not set "
                    "(ra-ffi/tests/run.sh starts an Xvfb and builds the witness)")
    w = Witness(program)
    try:
        yield w
    finally:
        w.stop()


def test_a_display_that_does_not_exist():
    with pytest.raises(ra.Error) as caught:
        ra.Host.invite(listen="127.0.0.1:0", screen=ra.Screen(":4095", inject_input=True))
    assert caught.value.code == ra.Result.BACKEND
    assert "cannot capture the screen of :4095" in caught.value.message


def test_the_real_screen_and_real_input(witness, tmp_path):
    ready = witness.line().split()
    assert ready[0] == "ready", ready
    width, height = int(ready[1]), int(ready[2])

    with ra.Host.invite(host_name="Python screen host", listen="127.0.0.1:0",
                        screen=ra.Screen(inject_input=True)) as host:
        helper, events = connect(host)
        with helper:
            helper_events = helper.events(timeout=WAIT)
            frame = wait_for(helper_events, ra.HelperEventKind.FRAME).frame
            assert (frame.width, frame.height) == (width, height)
            assert frame.stride == 4 * width  # tightly packed, as the witness reads it
            picture = tmp_path / "frame.bgra"
            picture.write_bytes(frame.data)
            answer = witness.request(f"psnr {picture} {width} {height}").split()
            assert answer[0] == "psnr", answer
            psnr = float(answer[1])
            print(f"decoded picture vs the screen: luma PSNR {psnr:.1f} dB")
            assert psnr >= 35.0

            helper.request_control()
            asked = wait_for(events, ra.HostEventKind.CONTROL_REQUESTED)
            host.grant_control(asked.connection)
            wait_for(helper_events, ra.HelperEventKind.CONTROL_GRANTED)
            helper.send_input([ra.PointerMove(123, 87), ra.Button(ra.MouseButton.LEFT, True),
                               ra.Button(ra.MouseButton.LEFT, False)])
            clicks = witness.clicks(presses=1, releases=1)
            print("the witness saw:", clicks)
            presses = [c for c in clicks if c[0] == "press"]
            releases = [c for c in clicks if c[0] == "release"]
            assert len(presses) == 1 and len(releases) == 1, clicks
            for _, button, x, y in presses + releases:
                assert button == 1 and abs(x - 123) <= 1 and abs(y - 87) <= 1, clicks

            # The library counts a frame as decoded just after handing it
            # over: the count may trail the frame event by a moment.
            eventually(lambda: helper.stats().frames_decoded >= 1, what="frames_decoded >= 1")
            host_stats, helper_stats = host.stats(), helper.stats()
            print(f"host: rtt {host_stats.rtt * 1e3:.2f} ms, {host_stats.bytes_sent} bytes sent, "
                  f"{host_stats.frames_sent} frames sent, "
                  f"{host_stats.input_events_injected} input injected; helper: "
                  f"{helper_stats.bytes_received} bytes received, "
                  f"{helper_stats.frames_decoded} frames decoded")
            assert host_stats.bytes_sent > 0 and host_stats.frames_sent >= 1
            assert 0 < host_stats.rtt < 0.5
            assert host_stats.input_events_injected >= 2
            assert helper_stats.frames_decoded >= 1 and helper_stats.bytes_received > 0
            assert helper_stats.input_events_sent == 3
