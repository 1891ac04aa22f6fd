"""Python code the library calls: the log callback (and logging), a custom
encoder whose output the helper decodes, and the exception policy — what a
callback raises is logged with its traceback, answered with an error code,
and raised as ra.CallbackError by the owner's next call."""

import logging
import math
import sys
import threading

import pytest

import ra
import pcm_h264
from kit import WAIT, LogRecorder, connect, eventually, first_frame, wait_for


@pytest.fixture
def log():
    recorder = LogRecorder()
    ra.set_log_callback(recorder, ra.LogLevel.WARN)
    yield recorder
    ra.set_log_callback(None)


def test_the_log_callback_receives_lines(log):
    ra.log_message(ra.LogLevel.ERROR, "from Python", origin="ra.test")
    ra.log_message(ra.LogLevel.WARN, "no origin")
    ra.log_message(ra.LogLevel.DEBUG, "above the callback's level", origin="ra.test")
    assert log.matching("ra.test", "") == [(ra.LogLevel.ERROR, "ra.test", "from Python")]
    assert log.matching("app", "no origin") == [(ra.LogLevel.WARN, "app", "no origin")]
    with pytest.raises(ra.Error) as caught:
        ra.log_message(ra.LogLevel.OFF, "x")
    assert caught.value.code == ra.Result.INVALID_ARGUMENT
    ra.set_log_callback(None)
    ra.log_message(ra.LogLevel.ERROR, "nobody listens", origin="ra.test")
    assert len(log.matching("ra.test", "")) == 1


def test_the_log_goes_to_logging(caplog):
    caplog.set_level(logging.INFO, logger="ra")
    try:
        ra.log_to_logging(ra.LogLevel.INFO)
        ra.log_message(ra.LogLevel.WARN, "through logging", origin="ra.test")
    finally:
        ra.set_log_callback(None)
    record = next(r for r in caplog.records if "through logging" in r.getMessage())
    assert record.name == "ra" and record.levelno == logging.WARNING
    assert record.getMessage() == "ra.test: through logging" and record.ra_target == "ra.test"


def test_an_exception_in_the_log_callback(monkeypatch):
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def broken(level, target, message):
        raise KeyError("log boom")

    ra.set_log_callback(broken, ra.LogLevel.ERROR)
    try:
        ra.log_message(ra.LogLevel.ERROR, "trigger", origin="ra.test")
        assert len(unraisable) == 1 and isinstance(unraisable[0].exc_value, KeyError)
        with pytest.raises(ra.CallbackError) as caught:
            ra.log_message(ra.LogLevel.ERROR, "next call", origin="ra.test")
        assert isinstance(caught.value.__cause__, KeyError)
        assert caught.value.callback == "the log callback"
    finally:
        ra.set_log_callback(None)
    ra.log_message(ra.LogLevel.ERROR, "raised once only", origin="ra.test")


def next_callback_error(host):
    """Polls the host until both its BACKEND_ERROR event and the
    CallbackError a call raises have come (in either order); both."""
    error = event = None
    while error is None or event is None:
        try:
            got = host.next_event(WAIT)
        except ra.CallbackError as e:
            error = error or e
            continue
        assert got is not None, "no event in time"
        if got.kind == ra.HostEventKind.BACKEND_ERROR:
            event = event or got
    return error, event


class FailingInjector(ra.Injector):
    def inject(self, event):
        raise ValueError(f"cannot inject {event.kind.name}")


def test_an_exception_in_an_injector(log):
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64),
                        injector=FailingInjector()) as host:
        helper, events = connect(host)
        with helper:
            helper.request_control()
            host.grant_control(wait_for(events, ra.HostEventKind.CONTROL_REQUESTED).connection)
            wait_for(helper.events(timeout=WAIT), ra.HelperEventKind.CONTROL_GRANTED)
            helper.send_input([ra.Text("x")])
            error, event = next_callback_error(host)
            assert event.backend == ra.Backend.INJECTOR
            assert event.backend_result == ra.Result.BACKEND
            assert isinstance(error.__cause__, ValueError)
            assert str(error.__cause__) == "cannot inject TEXT"
            assert error.code == ra.Result.BACKEND and error.callback == "FailingInjector.inject"
            level, _, line = log.wait("ra.python", "cannot inject TEXT")
            assert level == ra.LogLevel.ERROR and "Traceback" in line and "FailingInjector" in line
            assert host.port > 0  # raised once: the host goes on


class BrokenScreen(ra.Capturer):
    """Fails once, then has nothing new to show."""

    def __init__(self):
        self.calls = 0
        self.idle = threading.Event()

    def next_frame(self, timeout):
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("no screen today")
        self.idle.wait(timeout)
        return None


def test_an_exception_in_a_capturer(log):
    with ra.Host.invite(listen="127.0.0.1:0", capturer=BrokenScreen()) as host:
        helper, _ = connect(host)  # the capturer runs while a helper watches
        error, event = next_callback_error(host)
        helper.close()
        assert event.backend == ra.Backend.CAPTURER
        assert isinstance(error.__cause__, RuntimeError)
        assert "BrokenScreen.next_frame raised RuntimeError: no screen today" in str(error)
        log.wait("ra.python", "no screen today")


class Still(ra.Capturer):
    """A picture that never changes: one frame, and another when asked."""

    def __init__(self, width, height):
        pixels = bytearray()
        for y in range(height):
            for x in range(width):
                pixels += bytes([(x * 2) % 256, (y * 2) % 256, ((x + y) * 3) % 256, 255])
        self.frame = ra.CapturedFrame(width, height, bytes(pixels))
        self.dirty = threading.Event()
        self.dirty.set()

    def next_frame(self, timeout):
        if self.dirty.wait(timeout):
            self.dirty.clear()
            return self.frame
        return None

    def invalidate(self):
        self.dirty.set()


class PcmEncoder(ra.Encoder):
    """Every frame an IDR picture of uncompressed macroblocks (pcm_h264)."""

    def __init__(self):
        self.frames = []
        self.bitrates = []

    def encode(self, frame, force_keyframe):
        self.frames.append((frame.width, frame.height, force_keyframe))
        data = pcm_h264.encode_idr(frame.data, frame.width, frame.height, frame.stride,
                                   len(self.frames))
        return ra.EncodedFrame(data, keyframe=True)

    def set_bitrate(self, bits_per_second):
        self.bitrates.append(bits_per_second)


def luma_psnr(a, b, width, height):
    error = 0.0
    for i in range(0, width * height * 4, 4):
        error += (pcm_h264.luma(a[i], a[i + 1], a[i + 2])
                  - pcm_h264.luma(b[i], b[i + 1], b[i + 2])) ** 2
    mse = error / (width * height)
    return 99.0 if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def test_a_custom_encoder_reaches_the_helpers_decoder():
    screen, encoder = Still(128, 96), PcmEncoder()
    with ra.Host.invite(listen="127.0.0.1:0", capturer=screen, encoder=encoder) as host:
        helper, _ = connect(host)
        with helper:
            frame = first_frame(helper)
            assert (frame.width, frame.height) == (128, 96)
            psnr = luma_psnr(screen.frame.data, frame.data, 128, 96)
            print(f"Python I_PCM encoder -> helper's decoder: luma PSNR {psnr:.1f} dB")
            assert psnr >= 40
            assert encoder.frames[0] == (128, 96, True)
            eventually(lambda: helper.stats().frames_decoded >= 1, what="frames_decoded >= 1")
            assert host.stats().frames_sent >= 1


class FailingEncoder(ra.Encoder):
    def __init__(self):
        self.calls = 0

    def encode(self, frame, force_keyframe):
        """Fails once, then skips every frame."""
        self.calls += 1
        if self.calls == 1:
            raise OSError(f"encoder on fire ({frame.width}x{frame.height})")
        return None


def test_an_exception_in_an_encoder(log):
    encoder = FailingEncoder()
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 48), encoder=encoder) as host:
        helper, _ = connect(host)  # the encoder runs while a helper watches
        error, event = next_callback_error(host)
        helper.close()
        assert event.backend == ra.Backend.ENCODER
        assert event.backend_result == ra.Result.BACKEND
        assert isinstance(error.__cause__, OSError)
        assert "encoder on fire (64x48)" in str(error)
        log.wait("ra.python", "encoder on fire")
    assert encoder.calls >= 1


def test_an_exception_in_an_event_callback(log):
    called = threading.Event()

    def on_event(event):
        if event.kind != ra.HostEventKind.CONNECTION_REQUEST:
            return
        called.set()
        raise LookupError(f"cannot handle {event.kind.name}")

    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64)) as host:
        host.set_event_callback(on_event)
        token, password = host.invitation.token, host.password
        thread = threading.Thread(target=lambda: pytest.raises(
            ra.Error, ra.Helper.accept, ra.Invitation.from_token(token), password,
            approval_timeout=1))
        thread.start()
        assert called.wait(WAIT)
        log.wait("ra.python", "cannot handle CONNECTION_REQUEST")
        with pytest.raises(ra.CallbackError) as caught:
            host.port
        assert isinstance(caught.value.__cause__, LookupError)
        assert caught.value.callback == "the host's event callback"
        thread.join(WAIT)
        host.set_event_callback(None)
