"""What the host and the helper hear: event kinds, events, frames and the
pointer. Events are plain frozen dataclasses, copied out of the library."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import List, Optional, Tuple

from . import _native as n
from ._common import _check, _kind, _text

__all__ = [
    "HostEventKind", "HelperEventKind", "Path", "Control", "PointerKind", "Backend",
    "HostEvent", "HelperEvent", "Frame", "Display", "CursorShape", "CursorUpdate", "Scope",
    "VerifiedHelper", "unverified_helper_warning",
]


class HostEventKind(IntEnum):
    """``RA_HOST_EVENT_*``; numbers this binding does not know arrive as ``OTHER``."""

    OTHER = 0
    CONNECTION_REQUEST = 1
    AUTH_FAILED = 2
    CONNECTED = 3
    CONTROL_REQUESTED = 4
    CONTROL_GRANTED = 5
    CONTROL_DENIED = 6
    CONTROL_REVOKED = 7
    PAUSED = 8
    RESUMED = 9
    CHAT = 10
    POINTER = 11
    ENDED = 12
    INVITATION_CLOSED = 13
    BACKEND_ERROR = 14
    CLIPBOARD_SHARING = 15
    CLIPBOARD = 16
    PANIC_KEY = 17
    CLIPBOARD_SENT = 18
    DESK_LIMITED = 19
    CONNECTION_REFUSED = 20
    RECEIPT = 21
    DISPLAY_SELECTED = 22
    DISPLAY_REFUSED = 23
    REDACTIONS_CHANGED = 24
    CONNECTION_INTERRUPTED = 25
    CONNECTION_RESTORED = 26


class HelperEventKind(IntEnum):
    """``RA_HELPER_EVENT_*``; numbers this binding does not know arrive as ``OTHER``."""

    OTHER = 0
    AUTHENTICATED = 1
    CONNECTED = 2
    CONTROL_GRANTED = 3
    CONTROL_DENIED = 4
    CONTROL_REVOKED = 5
    PAUSED = 6
    RESUMED = 7
    CHAT = 8
    DISPLAYS = 9
    ENDED = 10
    FRAME = 11
    CURSOR = 12
    CLIPBOARD_SHARING = 13
    CLIPBOARD = 14
    RECEIPT = 15
    RECEIPT_REFUSED = 16
    REDACTIONS = 17
    CONNECTION_INTERRUPTED = 18
    CONNECTION_RESTORED = 19
    RESUME_OFFERED = 20
    RESUMING = 21


class Path(IntEnum):
    """How a session travels (see :attr:`ra.Helper.path`, :class:`ra.CodeInfo`)."""

    UNKNOWN = 0
    DIRECT = 1
    RELAYED = 2


class Control(IntEnum):
    """The helper's control of the host's input."""

    NONE = 0
    REQUESTED = 1
    GRANTED = 2


class PointerKind(IntEnum):
    """A pointer mark the helper shows on the host's screen (:meth:`ra.Helper.pointer`)."""

    LASER = 1
    CLICK = 2
    HIDE = 3


class Backend(IntEnum):
    """Which backend failed (:attr:`HostEvent.backend` of ``BACKEND_ERROR``)."""

    NONE = 0
    CAPTURER = 1
    ENCODER = 2
    INJECTOR = 3
    DESK = 4


@dataclass(frozen=True)
class HostEvent:
    """One event of the host; which fields count depends on ``kind``."""

    kind: HostEventKind
    connection: int
    helper_name: str
    peer: str
    text: str
    reason: int
    reason_name: str
    attempts: int
    max_attempts: int
    grant: int
    x: int
    y: int
    backend: int
    backend_result: int
    description: str
    enabled: bool = False
    """Clipboard sharing is now on (:attr:`HostEventKind.CLIPBOARD_SHARING`)."""
    bytes: int = 0
    """The length of the text sent (:attr:`HostEventKind.CLIPBOARD_SENT`)."""
    pointer_kind: int = 0
    """The mark the helper showed (:attr:`HostEventKind.POINTER`; a :class:`PointerKind`)."""
    scopes: int = 0
    """:class:`Scope` bits asked for (``CONTROL_REQUESTED``) or given (``CONTROL_GRANTED``)."""
    expires_at: Optional[float] = None
    """When a grant ends by itself, seconds since the Unix epoch (``CONTROL_GRANTED``)."""
    verified: Optional["VerifiedHelper"] = None
    """Who vouches for the helper (``CONNECTION_REQUEST``), or None."""
    identity_problem: str = ""
    """Why an identity the helper showed was not accepted (``CONNECTION_REQUEST``)."""
    warning: str = ""
    """The standard warning to show with an unverified helper (``CONNECTION_REQUEST``)."""
    countersigned: bool = False
    """The receipt in :attr:`text` is countersigned by the helper (``RECEIPT``)."""
    display: int = 0
    """The display (``DISPLAY_SELECTED``, ``DISPLAY_REFUSED``): its id, or
    :data:`DISPLAY_ALL`."""
    redactions: List[Tuple[int, int, int, int]] = field(default_factory=list)
    """The mask (``REDACTIONS_CHANGED``): ``(x, y, width, height)`` in desktop
    coordinates; the masked window classes are in :attr:`text`, one per line."""
    silent_for: float = 0.0
    """How long nothing arrived, in seconds (``CONNECTION_RESTORED``)."""
    resumes: Optional[str] = None
    """The session (hex id) a ``CONNECTION_REQUEST`` resumes, when the host
    was re-opened from a resume ticket (:meth:`ra.Host.resume_from_ticket`):
    say so to the host's user. None for an ordinary request."""


class Scope(IntFlag):
    """What a grant of control covers (``RA_SCOPE_*``)."""

    POINTER = 1
    KEYBOARD = 2
    CLIPBOARD = 4
    ALL = 7


@dataclass(frozen=True)
class VerifiedHelper:
    """A helper whose organisation-signed identity the host verified."""

    organisation: str
    organisation_key: str
    helper: str
    helper_key: str
    expires: float
    """Seconds since the Unix epoch."""


def unverified_helper_warning() -> str:
    """The SDK's standard warning for a helper whose identity is not verified."""
    return _text(n.lib.ra_unverified_helper_warning())


def _host_event(pointer: ctypes.c_void_p) -> HostEvent:
    d = n.HostEventData()
    _check(n.lib.ra_host_event_get_data(pointer, ctypes.byref(d)))
    pointer_kind = (PointerKind(d.pointer_kind)
                    if d.pointer_kind in PointerKind._value2member_map_ else d.pointer_kind)
    verified = (VerifiedHelper(_text(d.organisation), _text(d.organisation_key),
                               _text(d.verified_helper), _text(d.helper_key),
                               d.identity_expires_ms / 1000) if d.verified else None)
    return HostEvent(_kind(HostEventKind, d.kind), d.connection, _text(d.helper_name),
                     _text(d.peer), _text(d.text), d.reason, _text(d.reason_name), d.attempts,
                     d.max_attempts, d.grant, d.x, d.y, d.backend, d.backend_result,
                     _text(d.description), bool(d.enabled), d.bytes, pointer_kind, d.scopes,
                     d.expires_at_ms / 1000 if d.expires_at_ms else None, verified,
                     _text(d.identity_problem), _text(d.warning), bool(d.countersigned),
                     d.display,
                     [(r.x, r.y, r.width, r.height)
                      for r in (d.redactions[i] for i in range(d.redactions_len))]
                     if d.redactions else [],
                     d.silent_ms / 1000,
                     _text(d.resumes) if d.resumes else None)


@dataclass(frozen=True)
class CursorShape:
    """A pointer image: **premultiplied** BGRA ``pixels``, rows packed
    (``4 * width`` bytes apart), the hotspot at (``hot_x``, ``hot_y``)."""

    width: int
    height: int
    hot_x: int
    hot_y: int
    pixels: bytes


@dataclass(frozen=True)
class CursorUpdate:
    """The host's pointer: its hotspot at (``x``, ``y``) in the captured
    display, whether it is shown, and its new ``shape`` if it changed (None:
    keep drawing the previous one)."""

    x: int
    y: int
    visible: bool = True
    shape: Optional[CursorShape] = None


@dataclass(frozen=True)
class Frame:
    """A picture of the host's screen: BGRA ``data`` copied out of the
    library (``ra_frame_copy``) with ``stride`` bytes per row — rows packed,
    ``stride == 4 * width`` — and the rectangles ``(x, y, width, height)``
    that changed."""

    width: int
    height: int
    stride: int
    data: bytes
    damage: List[Tuple[int, int, int, int]] = field(default_factory=list)
    seq: int = 0
    latency_us: int = 0
    display: int = 0
    captured_at_us: int = 0


def _copy_frame(f: n.FrameData, seq: int = 0, latency_us: int = 0) -> Frame:
    """A frame the library lends, copied (``ra_frame_copy``, rows packed)."""
    stride = 4 * f.width
    buffer = ctypes.create_string_buffer(stride * f.height)
    _check(n.lib.ra_frame_copy(ctypes.byref(f), buffer, len(buffer), stride))
    damage = [(f.damage[i].x, f.damage[i].y, f.damage[i].width, f.damage[i].height)
              for i in range(f.damage_len)]
    return Frame(f.width, f.height, stride, buffer.raw, damage, seq, latency_us, f.display,
                 f.captured_at_us)


@dataclass(frozen=True)
class Display:
    """One of the host's displays (:attr:`HelperEventKind.DISPLAYS`)."""

    id: int
    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool


@dataclass(frozen=True)
class HelperEvent:
    """One event of the helper; which fields count depends on ``kind``."""

    kind: HelperEventKind
    host_name: str = ""
    text: str = ""
    reason: int = 0
    reason_name: str = ""
    grant: int = 0
    displays: List[Display] = field(default_factory=list)
    selected_display: int = 0
    frame: Optional[Frame] = None
    description: str = ""
    enabled: bool = False
    """Clipboard sharing is now on (:attr:`HelperEventKind.CLIPBOARD_SHARING`)."""
    cursor: Optional[CursorUpdate] = None
    """The pointer (:attr:`HelperEventKind.CURSOR`), its shape copied."""
    encoded_bytes: int = 0
    """The size of the frame on the wire (:attr:`HelperEventKind.FRAME`)."""
    scopes: int = 0
    """:class:`Scope` bits the grant covers (``CONTROL_GRANTED``)."""
    expires_in: Optional[float] = None
    """How long the grant lasts, in seconds (``CONTROL_GRANTED``), or None;
    how long the resume ticket is valid (``RESUME_OFFERED``)."""
    countersigned: bool = False
    """The receipt in :attr:`text` is countersigned by this helper (``RECEIPT``)."""
    redactions: List[Tuple[int, int, int, int]] = field(default_factory=list)
    """The parts of the picture the host masks, ``(x, y, width, height)`` in
    picture pixels (``REDACTIONS``; empty once nothing is masked)."""
    silent_for: float = 0.0
    """How long nothing arrived, in seconds (``CONNECTION_RESTORED``)."""


def _helper_event(pointer: ctypes.c_void_p) -> HelperEvent:
    d = n.HelperEventData()
    _check(n.lib.ra_helper_event_get_data(pointer, ctypes.byref(d)))
    kind = _kind(HelperEventKind, d.kind)
    frame = _copy_frame(d.frame, d.seq, d.latency_us) if kind == HelperEventKind.FRAME else None
    displays = [Display(x.id, _text(x.name), x.bounds.x, x.bounds.y, x.bounds.width,
                        x.bounds.height, bool(x.primary))
                for x in (d.displays[i] for i in range(d.displays_len))]
    cursor = None
    if kind == HelperEventKind.CURSOR:
        c = d.cursor
        shape = None
        if c.shape.pixels:
            shape = CursorShape(c.shape.width, c.shape.height, c.shape.hot_x, c.shape.hot_y,
                                ctypes.string_at(c.shape.pixels, c.shape.len))
        cursor = CursorUpdate(c.x, c.y, bool(c.visible), shape)
    return HelperEvent(kind, _text(d.host_name), _text(d.text), d.reason, _text(d.reason_name),
                       d.grant, displays, d.selected_display, frame, _text(d.description),
                       bool(d.enabled), cursor, d.encoded_bytes, d.scopes,
                       d.expires_in_ms / 1000 if d.expires_in_ms else None,
                       bool(d.countersigned),
                       [(r.x, r.y, r.width, r.height)
                        for r in (d.redactions[i] for i in range(d.redactions_len))],
                       d.silent_ms / 1000)
