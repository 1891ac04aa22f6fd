"""Where the host's picture comes from: a capturer written in Python
(:class:`Capturer`), the real screen — an X display or, on a Wayland
desktop, the session's own screen (:class:`Screen`) — or the library's
synthetic test pattern (the default)."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from enum import IntEnum
from typing import Optional, Set

from . import _native as n
from ._common import Result, _CallbackErrors, _check
from .events import CursorUpdate

__all__ = ["CapturedFrame", "Capturer", "Screen", "WaylandApi"]


@dataclass(frozen=True)
class CapturedFrame:
    """A picture a :class:`Capturer` returns: BGRA ``data``, ``stride`` bytes
    per row (0: ``4 * width``), the whole picture marked as changed."""

    width: int
    height: int
    data: bytes
    stride: int = 0
    display: int = 0


class Capturer:
    """A screen source written in Python (override :meth:`next_frame`; the
    others are optional). Called on the library's capture thread, one call at
    a time. An exception is logged, answered with ``Result.BACKEND`` (the host
    gets a ``BACKEND_ERROR`` event) and raised as :class:`ra.CallbackError`
    by the host's next call."""

    def next_frame(self, timeout: float) -> Optional[CapturedFrame]:
        """Waits up to ``timeout`` seconds for the picture to change; None
        when nothing changed. May return None early when only the pointer
        changed, so that :meth:`cursor` is asked at once."""
        raise NotImplementedError

    def invalidate(self) -> None:
        """The next :meth:`next_frame` must return the whole picture."""

    def cursor(self) -> Optional[CursorUpdate]:
        """The pointer's change since the last call, or None (called after
        every :meth:`next_frame` while a helper watches)."""
        return None


class _CapturerBridge:
    """Keeps a Python capturer, its trampolines and the memory it lent the
    library (the last frame, the last pointer shape) alive until the library
    calls destroy."""

    live: Set["_CapturerBridge"] = set()
    lock = threading.Lock()

    def __init__(self, capturer: Capturer, errors: _CallbackErrors) -> None:
        self.capturer = capturer
        self.errors = errors
        self.name = type(capturer).__name__
        self.frame: Optional[bytes] = None
        self.shape: Optional[bytes] = None
        self.table = n.CapturerCallbacks(
            user_data=None, next_frame=n.NEXT_FRAME(self._next_frame),
            invalidate=n.INVALIDATE(self._invalidate), destroy=n.DESTROY(self._destroy),
            cursor=n.CURSOR(self._cursor))
        with self.lock:
            self.live.add(self)

    def _next_frame(self, _user_data: object, timeout_ms: int,
                    frame: "ctypes._Pointer[n.FrameData]") -> int:
        try:
            f = self.capturer.next_frame(timeout_ms / 1000)
            if f is None:
                return Result.TIMEOUT
            data = bytes(f.data)
            self.frame = data  # valid until the next call, as the library requires
            out = frame.contents
            out.data = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value
            out.len = len(data)
            out.width, out.height = f.width, f.height
            out.stride = f.stride or 4 * f.width
            out.damage, out.damage_len, out.captured_at_us = None, 0, 0
            out.display = f.display
            return Result.OK
        except BaseException as error:  # nothing may escape into C
            self.errors.add(f"{self.name}.next_frame", error)
            return Result.BACKEND

    def _invalidate(self, _user_data: object) -> None:
        try:
            self.capturer.invalidate()
        except BaseException as error:
            self.errors.add(f"{self.name}.invalidate", error)

    def _cursor(self, _user_data: object, update: "ctypes._Pointer[n.CursorUpdate]") -> int:
        try:
            u = self.capturer.cursor()
            if u is None:
                return Result.TIMEOUT
            out = update.contents
            out.x, out.y, out.visible = u.x, u.y, int(u.visible)
            if u.shape is not None:
                pixels = bytes(u.shape.pixels)
                self.shape = pixels
                out.shape.pixels = ctypes.cast(ctypes.c_char_p(pixels), ctypes.c_void_p).value
                out.shape.len = len(pixels)
                out.shape.width, out.shape.height = u.shape.width, u.shape.height
                out.shape.hot_x, out.shape.hot_y = u.shape.hot_x, u.shape.hot_y
            return Result.OK
        except BaseException as error:
            self.errors.add(f"{self.name}.cursor", error)
            return Result.BACKEND

    def _destroy(self, _user_data: object) -> None:
        with self.lock:
            self.live.discard(self)

    def install(self, backends: ctypes.c_void_p) -> None:
        result = n.lib.ra_host_backends_set_capturer(backends, ctypes.byref(self.table))
        if result != Result.OK:
            self._destroy(None)  # ownership stays here on failure
            _check(result)


class WaylandApi(IntEnum):
    """How :class:`Screen` opens its session on a Wayland desktop
    (``RA_WAYLAND_API_*``)."""

    #: The xdg-desktop-portal: the desktop's own dialog asks the person at
    #: the desk (the host waits for the answer; it goes into the audit log).
    PORTAL = 1
    #: GNOME's own API (mutter), no dialog: for privileged components and tests.
    MUTTER = 2


@dataclass(frozen=True)
class Screen:
    """The real screen shared instead of the synthetic pattern: the X
    ``display``, or with ``None`` the session's own — on a Wayland desktop
    its PipeWire streams through a remote-desktop session opened as
    ``wayland_api`` says, otherwise ``$DISPLAY``. With ``inject_input`` the
    helper's input is injected there for real (under a grant only; on
    Wayland through the same session, and the host's first event is
    ``HostEventKind.DESK_LIMITED``: no panic key there). A screen that
    cannot be used (or a refused dialog) makes the host fail to start with
    ``Error(BACKEND)``."""

    display: Optional[str] = None
    inject_input: bool = False
    wayland_api: WaylandApi = WaylandApi.PORTAL

    def _apply(self, backends: ctypes.c_void_p) -> None:
        display = self.display.encode() if self.display is not None else None
        _check(n.lib.ra_host_backends_set_wayland_api(backends, int(self.wayland_api)))
        _check(n.lib.ra_host_backends_use_screen_capturer(backends, display))
        if self.inject_input:
            _check(n.lib.ra_host_backends_use_system_injector(backends, display))
