"""ra: an embeddable remote-assistance engine — Python bindings over its C API.

A **host** opens an invitation (:meth:`Host.invite`) and gives the helper the
invitation (file, token or email) and, separately, the password; a **helper**
connects with both (:meth:`Helper.accept`). Or the two meet through a broker
with a short code (:class:`BrokerOptions`): in Easy Connect the host gets the
code (:meth:`Host.easy_connect`) and the helper types it
(:meth:`Helper.easy_connect`); in Quick Assist the helper gets it
(:meth:`Helper.assist`, then :meth:`AssistOffer.wait`) and the host types it
(:meth:`Host.join`). The host approves the connection, then — separately —
control. Both objects are context managers; their events come from
:meth:`Host.events` / :meth:`Helper.events` (iterators) or
``next_event(timeout)``. Every failure raises :class:`Error`.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Callable, Iterator, List, Optional, Sequence, Union

from . import _native as n

__all__ = [
    "Error", "Result", "Desk", "Screen", "Diagnosis", "DiagnosisCheck", "HostEventKind", "HelperEventKind", "InputKind", "Button", "Control",
    "Policy", "Invitation", "Host", "Helper", "HostEvent", "HelperEvent", "Frame", "Display",
    "InputEvent", "PointerMove", "Button", "Key", "Wheel", "Text", "Injector", "version",
    "key_code", "BrokerOptions", "AssistOffer", "CodeInfo", "Path", "Capturer",
    "CapturedFrame", "CursorShape", "CursorUpdate", "MAX_CLIPBOARD_BYTES", "MAX_CURSOR_SIDE",
]

MAX_CLIPBOARD_BYTES = 65536
"""Longest clipboard text, in bytes of UTF-8."""
MAX_CURSOR_SIDE = 128
"""Largest side of a pointer shape, in pixels."""

INFINITE = 0xFFFFFFFF


class Result(IntEnum):
    """The library's result codes (stable numbers; see ra.h)."""

    OK = 0
    TIMEOUT = 1
    CLOSED = 2
    NULL_POINTER = 100
    INVALID_HANDLE = 101
    INVALID_UTF8 = 102
    INVALID_ARGUMENT = 103
    BUFFER_TOO_SMALL = 104
    INVALID_STATE = 105
    WRONG_THREAD = 106
    UNSUPPORTED = 107
    INVALID_INVITATION = 200
    INVITATION_EXPIRED = 201
    INVALID_PASSWORD = 202
    INVALID_POLICY = 203
    IO = 204
    EMAIL = 205
    INVALID_CODE = 206
    POLICY = 300
    BIND = 301
    NO_ADDRESS = 302
    TLS = 303
    BROKER = 304
    BROKER_REFUSED = 305
    INVITE_FAILED = 399
    WRONG_PASSWORD = 400
    DENIED = 401
    INVITATION_CLOSED = 402
    UNKNOWN_SESSION = 403
    CERTIFICATE_MISMATCH = 404
    UNREACHABLE = 405
    CONNECTION_LOST = 406
    PROTOCOL = 407
    CODE_UNAVAILABLE = 408
    RATE_LIMITED = 409
    WRONG_CODE = 410
    CODE_EXPIRED = 411
    TOO_MANY_FAILURES = 412
    ACCEPT_FAILED = 499
    NO_SESSION = 500
    NOT_NOW = 501
    NOT_CONTROLLING = 502
    SESSION_CLOSED = 503
    COMMAND_FAILED = 599
    BACKEND = 600
    PANIC = 900
    INTERNAL = 901
    RUNTIME = 902


class Error(Exception):
    """A failed call: ``code`` (a :class:`Result` or a newer number), ``name``
    (``"RA_RESULT_WRONG_PASSWORD"``) and ``message`` (the library's detail)."""

    def __init__(self, code: int, message: str) -> None:
        self.code: Union[Result, int] = Result(code) if code in Result._value2member_map_ else code
        self.name: str = n.lib.ra_result_name(code).decode()
        self.message: str = message
        super().__init__(f"{self.name}: {message}")


def _check(result: int) -> None:
    if result != Result.OK:
        raise Error(result, n.lib.ra_last_error_message().decode("utf-8", "replace"))


def _text(value: Optional[bytes]) -> str:
    return value.decode("utf-8", "replace") if value is not None else ""


def _take_string(pointer: ctypes.c_void_p) -> str:
    try:
        return ctypes.string_at(pointer.value).decode("utf-8", "replace") if pointer.value else ""
    finally:
        n.lib.ra_string_free(pointer)


def _ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return INFINITE
    return max(0, min(int(timeout * 1000), INFINITE - 1))


def version() -> str:
    """The version of the loaded library."""
    return n.lib.ra_version().decode()


def key_code(name: str) -> int:
    """The USB HID usage of a key by name (``"a"``, ``"enter"``, ``"ctrl"``)."""
    out = ctypes.c_uint32()
    _check(n.lib.ra_key_from_name(name.encode(), ctypes.byref(out)))
    return out.value


class HostEventKind(IntEnum):
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


class HelperEventKind(IntEnum):
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


class Path(IntEnum):
    """How a session travels (see :attr:`Helper.path`, :class:`CodeInfo`)."""

    UNKNOWN = 0
    DIRECT = 1
    RELAYED = 2


class Control(IntEnum):
    NONE = 0
    REQUESTED = 1
    GRANTED = 2


class InputKind(IntEnum):
    POINTER_MOVE = 1
    POINTER_MOVE_RELATIVE = 2
    BUTTON = 3
    WHEEL = 4
    KEY = 5
    TEXT = 6


class MouseButton(IntEnum):
    LEFT = 1
    RIGHT = 2
    MIDDLE = 3
    BACK = 4
    FORWARD = 5


@dataclass(frozen=True)
class InputEvent:
    """One input event (see :func:`PointerMove`, :func:`Button`, …)."""

    kind: InputKind
    x: int = 0
    y: int = 0
    button: int = 0
    key: int = 0
    pressed: bool = False
    text: Optional[str] = None


def PointerMove(x: int, y: int) -> InputEvent:  # noqa: N802 - reads like a type
    return InputEvent(InputKind.POINTER_MOVE, x=x, y=y)


def Button(button: MouseButton, pressed: bool) -> InputEvent:  # noqa: N802
    return InputEvent(InputKind.BUTTON, button=int(button), pressed=pressed)


def Key(code: Union[int, str], pressed: bool) -> InputEvent:  # noqa: N802
    return InputEvent(InputKind.KEY, key=key_code(code) if isinstance(code, str) else code,
                      pressed=pressed)


def Wheel(dx: int, dy: int) -> InputEvent:  # noqa: N802
    return InputEvent(InputKind.WHEEL, x=dx, y=dy)


def Text(text: str) -> InputEvent:  # noqa: N802
    return InputEvent(InputKind.TEXT, text=text)


class Injector:
    """Receives the helper's input on the host (override both methods).

    Called on the library's injection thread; an exception is reported to
    the host as a backend error."""

    def inject(self, event: InputEvent) -> None:
        raise NotImplementedError

    def release_all(self) -> None:
        """Release every key and button the helper holds."""


class _Handle:
    """An owned C handle, freed once by ``close``."""

    _free: Callable[[ctypes.c_void_p], int]

    def __init__(self, pointer: ctypes.c_void_p) -> None:
        self._ptr: Optional[ctypes.c_void_p] = pointer

    @property
    def _p(self) -> ctypes.c_void_p:
        if self._ptr is None:
            raise Error(Result.INVALID_HANDLE, "the object is closed")
        return self._ptr

    def close(self) -> None:
        if self._ptr is not None:
            pointer, self._ptr = self._ptr, None
            _check(type(self)._free(pointer))

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass


def _new(function, *args) -> ctypes.c_void_p:
    out = ctypes.c_void_p()
    _check(function(*args, ctypes.byref(out)))
    return out


@dataclass
class PolicySettings:
    allow_assistance: bool = True
    allow_control: bool = True
    allow_clipboard: bool = False
    max_invitation_lifetime: float = 6 * 3600.0
    approval_timeout: float = 60.0


class Policy(_Handle):
    """The host's policy, enforced by the engine."""

    _free = n.lib.ra_policy_free

    def __init__(self, toml: Optional[str] = None) -> None:
        if toml is None:
            super().__init__(_new(n.lib.ra_policy_new))
        else:
            super().__init__(_new(n.lib.ra_policy_from_toml, toml.encode()))

    @property
    def settings(self) -> PolicySettings:
        s = n.PolicySettings()
        _check(n.lib.ra_policy_get(self._p, ctypes.byref(s)))
        return PolicySettings(bool(s.allow_assistance), bool(s.allow_control),
                              bool(s.allow_clipboard), s.max_invitation_lifetime_ms / 1000,
                              s.approval_timeout_ms / 1000)

    @settings.setter
    def settings(self, value: PolicySettings) -> None:
        s = n.PolicySettings(
            allow_assistance=int(value.allow_assistance),
            allow_control=int(value.allow_control),
            allow_clipboard=int(value.allow_clipboard),
            max_invitation_lifetime_ms=int(value.max_invitation_lifetime * 1000),
            approval_timeout_ms=int(value.approval_timeout * 1000),
        )
        _check(n.lib.ra_policy_set(self._p, ctypes.byref(s)))

    def to_toml(self) -> str:
        out = ctypes.c_void_p()
        _check(n.lib.ra_policy_to_toml(self._p, ctypes.byref(out)))
        return _take_string(out)


class Invitation(_Handle):
    """What the host hands out: a file, a token or an email (never the password)."""

    _free = n.lib.ra_invitation_free

    @classmethod
    def from_token(cls, token: str) -> "Invitation":
        return cls(_new(n.lib.ra_invitation_from_token, token.encode()))

    @classmethod
    def load(cls, path: str) -> "Invitation":
        return cls(_new(n.lib.ra_invitation_load, str(path).encode()))

    def save(self, path: str) -> None:
        _check(n.lib.ra_invitation_save(self._p, str(path).encode()))

    @property
    def token(self) -> str:
        out = ctypes.c_void_p()
        _check(n.lib.ra_invitation_to_token(self._p, ctypes.byref(out)))
        return _take_string(out)

    def email(self, sender: str, to: Sequence[str], subject: Optional[str] = None) -> str:
        """An RFC 5322 message (.eml text) with the invitation attached."""
        addresses = (ctypes.c_char_p * max(1, len(to)))(*[a.encode() for a in to])
        out = ctypes.c_void_p()
        _check(n.lib.ra_invitation_to_email(self._p, sender.encode(), addresses, len(to),
                                            subject.encode() if subject else None,
                                            ctypes.byref(out)))
        return _take_string(out)

    @property
    def host_name(self) -> str:
        info = n.InvitationInfo()
        _check(n.lib.ra_invitation_get_info(self._p, ctypes.byref(info)))
        return _text(info.host_name)


@dataclass(frozen=True)
class HostEvent:
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


def _kind(enum, value: int):
    return enum(value) if value in enum._value2member_map_ else enum(0)


def _host_event(pointer: ctypes.c_void_p) -> HostEvent:
    d = n.HostEventData()
    _check(n.lib.ra_host_event_get_data(pointer, ctypes.byref(d)))
    return HostEvent(_kind(HostEventKind, d.kind), d.connection, _text(d.helper_name),
                     _text(d.peer), _text(d.text), d.reason, _text(d.reason_name), d.attempts,
                     d.max_attempts, d.grant, d.x, d.y, d.backend, d.backend_result,
                     _text(d.description), bool(d.enabled), d.bytes)


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
    """A picture of the host's screen: BGRA ``data`` (copied), ``stride``
    bytes per row, and the rectangles that changed."""

    width: int
    height: int
    stride: int
    data: bytes
    damage: List[tuple] = field(default_factory=list)
    seq: int = 0
    latency_us: int = 0


@dataclass(frozen=True)
class Display:
    id: int
    name: str
    x: int
    y: int
    width: int
    height: int
    primary: bool


@dataclass(frozen=True)
class HelperEvent:
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


def _helper_event(pointer: ctypes.c_void_p) -> HelperEvent:
    d = n.HelperEventData()
    _check(n.lib.ra_helper_event_get_data(pointer, ctypes.byref(d)))
    kind = _kind(HelperEventKind, d.kind)
    frame = None
    if kind == HelperEventKind.FRAME:
        f = d.frame
        damage = [(f.damage[i].x, f.damage[i].y, f.damage[i].width, f.damage[i].height)
                  for i in range(f.damage_len)]
        frame = Frame(f.width, f.height, f.stride, ctypes.string_at(f.data, f.len), damage,
                      d.seq, d.latency_us)
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
                       bool(d.enabled), cursor)


class _InjectorBridge:
    """Keeps a Python injector and its ctypes trampolines alive until the
    library calls destroy."""

    live: "set[_InjectorBridge]" = set()
    lock = threading.Lock()

    def __init__(self, injector: Injector) -> None:
        self.injector = injector
        self.table = n.InjectorCallbacks(None, n.INJECT(self._inject),
                                         n.RELEASE_ALL(self._release_all),
                                         n.DESTROY(self._destroy))
        with self.lock:
            self.live.add(self)

    def _inject(self, _user_data, event) -> int:
        try:
            e = event.contents
            text = e.text.decode("utf-8", "replace") if e.text else None
            self.injector.inject(InputEvent(_kind(InputKind, e.kind) if e.kind else e.kind, e.x,
                                            e.y, e.button, e.key, bool(e.pressed), text))
            return Result.OK
        except Exception:  # nothing may escape into C
            return Result.BACKEND

    def _release_all(self, _user_data) -> int:
        try:
            self.injector.release_all()
            return Result.OK
        except Exception:
            return Result.BACKEND

    def _destroy(self, _user_data) -> None:
        with self.lock:
            self.live.discard(self)


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
    a time; an exception is reported to the host as a backend error."""

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

    live: "set[_CapturerBridge]" = set()
    lock = threading.Lock()

    def __init__(self, capturer: Capturer) -> None:
        self.capturer = capturer
        self.frame: Optional[bytes] = None
        self.shape: Optional[bytes] = None
        self.table = n.CapturerCallbacks(
            user_data=None, next_frame=n.NEXT_FRAME(self._next_frame),
            invalidate=n.INVALIDATE(self._invalidate), destroy=n.DESTROY(self._destroy),
            cursor=n.CURSOR(self._cursor))
        with self.lock:
            self.live.add(self)

    def _next_frame(self, _user_data, timeout_ms, frame) -> int:
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
        except Exception:  # nothing may escape into C
            return Result.BACKEND

    def _invalidate(self, _user_data) -> None:
        try:
            self.capturer.invalidate()
        except Exception:
            pass

    def _cursor(self, _user_data, update) -> int:
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
        except Exception:
            return Result.BACKEND

    def _destroy(self, _user_data) -> None:
        with self.lock:
            self.live.discard(self)


class BrokerOptions(_Handle):
    """How to reach the broker of the short-code flows (``"IP:PORT"``), and
    how its certificate is recognised: its ``fingerprint`` (``"sha256:…"``,
    as ``ra-broker serve`` prints it), or CA certificates (``ca_pem``) and
    the ``server_name`` they certify. Times are in seconds."""

    _free = n.lib.ra_broker_options_free

    def __init__(self, address: str, fingerprint: Optional[str] = None, *,
                 ca_pem: Optional[bytes] = None, server_name: Optional[str] = None,
                 bind: Optional[str] = None, try_direct: Optional[bool] = None,
                 direct_timeout: Optional[float] = None,
                 connect_timeout: Optional[float] = None,
                 code_lifetime: Optional[float] = None) -> None:
        super().__init__(_new(n.lib.ra_broker_options_new, address.encode()))
        try:
            if fingerprint is not None:
                _check(n.lib.ra_broker_options_set_fingerprint(self._p, fingerprint.encode()))
            if ca_pem is not None:
                _check(n.lib.ra_broker_options_set_ca(self._p, ca_pem, len(ca_pem),
                                                      (server_name or "").encode()))
            if bind is not None:
                _check(n.lib.ra_broker_options_set_bind(self._p, bind.encode()))
            if try_direct is not None:
                _check(n.lib.ra_broker_options_set_try_direct(self._p, int(try_direct)))
            for setter, seconds in [
                (n.lib.ra_broker_options_set_direct_timeout_ms, direct_timeout),
                (n.lib.ra_broker_options_set_connect_timeout_ms, connect_timeout),
                (n.lib.ra_broker_options_set_code_lifetime_ms, code_lifetime),
            ]:
                if seconds is not None:
                    _check(setter(self._p, int(seconds * 1000)))
        except Exception:
            self.close()
            raise

    def diagnose(self) -> "Diagnosis":
        """Runs the library's network and firewall checks against this broker
        ("verify the firewall"); blocks up to the connect timeout, twice at most."""
        raw = _new(n.lib.ra_diagnose, self._p)
        try:
            ok = ctypes.c_uint8()
            text = ctypes.c_char_p()
            _check(n.lib.ra_diagnosis_get_verdict(raw, ctypes.byref(ok), ctypes.byref(text)))
            count = ctypes.c_size_t()
            _check(n.lib.ra_diagnosis_get_check_count(raw, ctypes.byref(count)))
            checks = []
            for i in range(count.value):
                check = n.DiagnosisCheck()
                _check(n.lib.ra_diagnosis_get_check(raw, i, ctypes.byref(check)))
                checks.append(DiagnosisCheck(_text(check.name), bool(check.ok),
                                             _text(check.detail)))
            return Diagnosis(bool(ok.value), _text(text.value), checks)
        finally:
            n.lib.ra_diagnosis_free(raw)


@dataclass(frozen=True)
class DiagnosisCheck:
    """One check: ``udp_bind``, ``broker``, ``public_address``, ``nat_mapping``
    or ``firewall``; whether it passed and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Diagnosis:
    """What "verify the firewall" found: whether assistance can work from
    here, the one-line verdict, and the checks in reading order."""

    ok: bool
    verdict: str
    checks: List[DiagnosisCheck]


@dataclass(frozen=True)
class CodeInfo:
    """A short code (``"ABC-DEF-GHJ-KMN"``), when it expires (seconds since
    the Unix epoch) and how the session travels."""

    code: str
    expires_at: int
    path: Path


def _code_info(function, pointer) -> CodeInfo:
    info = n.CodeInfo()
    _check(function(pointer, ctypes.byref(info)))
    return CodeInfo(_text(info.code), info.expires_at_unix, _kind(Path, info.path))


@dataclass(frozen=True)
class Screen:
    """The real screen of an X ``display`` (``None``: ``$DISPLAY``), shared
    instead of the synthetic pattern; with ``inject_input`` the helper's
    input is injected there for real (under a grant only)."""

    display: Optional[str] = None
    inject_input: bool = False

    def _apply(self, backends) -> None:
        display = self.display.encode() if self.display is not None else None
        _check(n.lib.ra_host_backends_use_screen_capturer(backends, display))
        if self.inject_input:
            _check(n.lib.ra_host_backends_use_system_injector(backends, display))


@dataclass(frozen=True)
class Desk:
    """The host's desk, run by the library on an X ``display`` (``None``:
    ``$DISPLAY``): a ``panic_key`` combination (``None``: none) that takes
    control back, "the local user wins" for ``local_user_wins_ms`` after the
    local user's own input (0: off), and the system ``clipboard``, kept in
    step with the helper's while the host shares it."""

    display: Optional[str] = None
    panic_key: Optional[str] = None
    local_user_wins_ms: int = 0
    clipboard: bool = False

    def _apply(self, backends) -> None:
        display = self.display.encode() if self.display is not None else None
        if self.panic_key is not None:
            _check(n.lib.ra_host_backends_set_panic_key(backends, display,
                                                        self.panic_key.encode()))
        if self.local_user_wins_ms:
            _check(n.lib.ra_host_backends_set_local_user_wins_ms(backends, display,
                                                                 self.local_user_wins_ms))
        if self.clipboard:
            _check(n.lib.ra_host_backends_use_system_clipboard(backends, display))


class _Start:
    """The invite options and backends of a new host (freed on exit)."""

    def __init__(self, host_name: str, listen: Optional[str], lifetime: Optional[float],
                 policy: Optional[Policy], synthetic_size: tuple, frame_rate: float,
                 injector: Optional[Injector], capturer: Optional[Capturer],
                 desk: Optional[Desk] = None, screen: Optional[Screen] = None) -> None:
        self.options = _new(n.lib.ra_invite_options_new)
        self.backends = _new(n.lib.ra_host_backends_new)
        try:
            _check(n.lib.ra_invite_options_set_host_name(self.options, host_name.encode()))
            if listen is not None:
                _check(n.lib.ra_invite_options_set_listen(self.options, listen.encode()))
            if lifetime is not None:
                _check(n.lib.ra_invite_options_set_lifetime_ms(self.options,
                                                               int(lifetime * 1000)))
            if policy is not None:
                _check(n.lib.ra_invite_options_set_policy(self.options, policy._p))
            if capturer is not None:
                bridge = _CapturerBridge(capturer)
                result = n.lib.ra_host_backends_set_capturer(self.backends,
                                                             ctypes.byref(bridge.table))
                if result != Result.OK:
                    bridge._destroy(None)  # ownership stays here on failure
                    _check(result)
            else:
                width, height = synthetic_size
                _check(n.lib.ra_host_backends_use_synthetic_capturer(self.backends, width,
                                                                      height, frame_rate))
            if injector is not None:
                bridge = _InjectorBridge(injector)
                result = n.lib.ra_host_backends_set_injector(self.backends,
                                                             ctypes.byref(bridge.table))
                if result != Result.OK:
                    bridge._destroy(None)
                    _check(result)
            if desk is not None:
                desk._apply(self.backends)
            if screen is not None:
                screen._apply(self.backends)
        except Exception:
            self.__exit__()
            raise

    def __enter__(self) -> "_Start":
        return self

    def __exit__(self, *exc) -> None:
        n.lib.ra_host_backends_free(self.backends)
        n.lib.ra_invite_options_free(self.options)


class Host(_Handle):
    """An open invitation — or a short code — and the session made through
    it. ``close()`` (or leaving the ``with`` block) ends the session and
    tells the helper."""

    _free = n.lib.ra_host_free

    @classmethod
    def invite(cls, host_name: str = "ra host", listen: str = "0.0.0.0:0",
               lifetime: Optional[float] = None, policy: Optional[Policy] = None,
               synthetic_size: tuple = (1280, 720), frame_rate: float = 30.0,
               injector: Optional[Injector] = None,
               capturer: Optional[Capturer] = None, desk: Optional[Desk] = None,
               screen: Optional[Screen] = None) -> "Host":
        """Opens an invitation with ``capturer`` (default: the synthetic test
        pattern of ``synthetic_size``; ``screen`` shares a real X screen
        instead), the OpenH264 encoder, ``injector`` (default: input is
        dropped) and ``desk`` (default: none)."""
        with _Start(host_name, listen, lifetime, policy, synthetic_size, frame_rate, injector,
                    capturer, desk, screen) as start:
            return cls(_new(n.lib.ra_host_invite, start.options, start.backends))

    @classmethod
    def easy_connect(cls, broker: BrokerOptions, host_name: str = "ra host",
                     lifetime: Optional[float] = None, policy: Optional[Policy] = None,
                     synthetic_size: tuple = (1280, 720), frame_rate: float = 30.0,
                     injector: Optional[Injector] = None,
                     capturer: Optional[Capturer] = None,
                     desk: Optional[Desk] = None, screen: Optional[Screen] = None) -> "Host":
        """**Easy Connect**: registers a code with the broker; read
        :attr:`code_info` to the helper, who types it. Backends as for
        :meth:`invite`."""
        with _Start(host_name, None, lifetime, policy, synthetic_size, frame_rate, injector,
                    capturer, desk, screen) as start:
            return cls(_new(n.lib.ra_host_easy_connect, broker._p, start.options,
                            start.backends))

    @classmethod
    def join(cls, broker: BrokerOptions, code: str, host_name: str = "ra host",
             lifetime: Optional[float] = None, policy: Optional[Policy] = None,
             synthetic_size: tuple = (1280, 720), frame_rate: float = 30.0,
             injector: Optional[Injector] = None,
             capturer: Optional[Capturer] = None, desk: Optional[Desk] = None,
             screen: Optional[Screen] = None) -> "Host":
        """**Quick Assist**: connects to the helper whose ``code`` the user
        typed; the helper then asks to connect as usual."""
        with _Start(host_name, None, lifetime, policy, synthetic_size, frame_rate, injector,
                    capturer, desk, screen) as start:
            return cls(_new(n.lib.ra_host_join, broker._p, code.encode(), start.options,
                            start.backends))

    @property
    def code_info(self) -> CodeInfo:
        """The code of a host started from one (Error INVALID_STATE otherwise)."""
        return _code_info(n.lib.ra_host_get_code_info, self._p)

    @property
    def invitation(self) -> Invitation:
        return Invitation(_new(n.lib.ra_host_get_invitation, self._p))

    @property
    def password(self) -> str:
        out = ctypes.c_void_p()
        _check(n.lib.ra_host_get_password(self._p, ctypes.byref(out)))
        return _take_string(out)

    @property
    def port(self) -> int:
        out = ctypes.c_uint16()
        _check(n.lib.ra_host_get_port(self._p, ctypes.byref(out)))
        return out.value

    def next_event(self, timeout: Optional[float] = None) -> Optional[HostEvent]:
        """The next event, or None after ``timeout`` seconds (None: wait).
        Raises :class:`Error` (``Result.CLOSED``) once the host has closed."""
        out = ctypes.c_void_p()
        result = n.lib.ra_host_next_event(self._p, _ms(timeout), ctypes.byref(out))
        if result == Result.TIMEOUT:
            return None
        _check(result)
        try:
            return _host_event(out)
        finally:
            n.lib.ra_host_event_free(out)

    def events(self, timeout: Optional[float] = None) -> Iterator[HostEvent]:
        """Events until the host closes; raises TimeoutError if none comes
        within ``timeout`` seconds."""
        while True:
            try:
                event = self.next_event(timeout)
            except Error as e:
                if e.code == Result.CLOSED:
                    return
                raise
            if event is None:
                raise TimeoutError(f"no host event within {timeout} s")
            yield event

    def approve(self, connection: int) -> None:
        _check(n.lib.ra_host_approve(self._p, connection))

    def deny(self, connection: int) -> None:
        _check(n.lib.ra_host_deny(self._p, connection))

    def grant_control(self, connection: int) -> None:
        _check(n.lib.ra_host_grant_control(self._p, connection))

    def deny_control(self, connection: int) -> None:
        _check(n.lib.ra_host_deny_control(self._p, connection))

    def revoke(self) -> None:
        _check(n.lib.ra_host_revoke(self._p))

    def revoke_panic_key(self) -> None:
        """Takes control back as the local panic key does (reason ``panic_key``)."""
        _check(n.lib.ra_host_revoke_panic_key(self._p))

    def local_input_seen(self, hold_ms: int) -> None:
        """The local user is busy: the helper's input is held back for ``hold_ms``."""
        _check(n.lib.ra_host_local_input_seen(self._p, hold_ms))

    def pause(self) -> None:
        _check(n.lib.ra_host_pause(self._p))

    def resume(self) -> None:
        _check(n.lib.ra_host_resume(self._p))

    def chat(self, text: str) -> None:
        _check(n.lib.ra_host_chat(self._p, text.encode()))

    def end(self) -> None:
        _check(n.lib.ra_host_end(self._p))

    def close_invitation(self) -> None:
        _check(n.lib.ra_host_close_invitation(self._p))

    def set_policy(self, policy: Policy) -> None:
        _check(n.lib.ra_host_set_policy(self._p, policy._p))

    def set_clipboard_sharing(self, enabled: bool) -> None:
        """Shares the clipboard (text, both ways) or stops; needs a policy
        with ``allow_clipboard``."""
        _check(n.lib.ra_host_set_clipboard_sharing(self._p, int(enabled)))

    def send_clipboard(self, text: str) -> None:
        """Sends the host's clipboard text to the helper (sharing must be on)."""
        _check(n.lib.ra_host_send_clipboard(self._p, text.encode()))


def _input_array(events: Sequence[InputEvent]):
    array = (n.InputEventData * max(1, len(events)))()
    keep = []
    for i, e in enumerate(events):
        text = e.text.encode() if e.text is not None else None
        keep.append(text)
        array[i] = n.InputEventData(int(e.kind), e.x, e.y, e.button, e.key, int(e.pressed), text)
    return array, keep


class Helper(_Handle):
    """A helper's live session. ``close()`` ends it and tells the host."""

    _free = n.lib.ra_helper_free

    @classmethod
    def accept(cls, invitation: Invitation, password: str, name: str = "ra helper",
               approval_timeout: Optional[float] = None) -> "Helper":
        """Connects and waits until the host lets the helper in."""
        options = _accept_options(name, approval_timeout)
        try:
            return cls(_new(n.lib.ra_helper_accept, invitation._p, password.encode(), options))
        finally:
            n.lib.ra_accept_options_free(options)

    @classmethod
    def easy_connect(cls, broker: BrokerOptions, code: str, name: str = "ra helper",
                     approval_timeout: Optional[float] = None) -> "Helper":
        """**Easy Connect**: connects with the ``code`` the host read out and
        waits until the host lets the helper in."""
        options = _accept_options(name, approval_timeout)
        try:
            return cls(_new(n.lib.ra_helper_easy_connect, broker._p, code.encode(), options))
        finally:
            n.lib.ra_accept_options_free(options)

    @staticmethod
    def assist(broker: BrokerOptions, name: str = "ra helper",
               approval_timeout: Optional[float] = None) -> "AssistOffer":
        """**Quick Assist**: registers a code to read to the host; wait for
        the session with :meth:`AssistOffer.wait`."""
        options = _accept_options(name, approval_timeout)
        try:
            return AssistOffer(_new(n.lib.ra_helper_assist, broker._p, options))
        finally:
            n.lib.ra_accept_options_free(options)

    @property
    def path(self) -> Path:
        """How the session travels (direct, or through the broker's relay)."""
        out = ctypes.c_uint32()
        _check(n.lib.ra_helper_get_path(self._p, ctypes.byref(out)))
        return _kind(Path, out.value)

    @property
    def host_name(self) -> str:
        out = ctypes.c_void_p()
        _check(n.lib.ra_helper_get_host_name(self._p, ctypes.byref(out)))
        return _take_string(out)

    @property
    def control(self) -> Control:
        out = ctypes.c_uint32()
        _check(n.lib.ra_helper_get_control_state(self._p, ctypes.byref(out)))
        return Control(out.value)

    def next_event(self, timeout: Optional[float] = None) -> Optional[HelperEvent]:
        """The next event (frames included), or None after ``timeout``.
        Raises :class:`Error` (``Result.CLOSED``) once the session is over."""
        out = ctypes.c_void_p()
        result = n.lib.ra_helper_next_event(self._p, _ms(timeout), ctypes.byref(out))
        if result == Result.TIMEOUT:
            return None
        _check(result)
        try:
            return _helper_event(out)
        finally:
            n.lib.ra_helper_event_free(out)

    def events(self, timeout: Optional[float] = None) -> Iterator[HelperEvent]:
        """Events until the session is over; TimeoutError if none comes in time."""
        while True:
            try:
                event = self.next_event(timeout)
            except Error as e:
                if e.code == Result.CLOSED:
                    return
                raise
            if event is None:
                raise TimeoutError(f"no helper event within {timeout} s")
            yield event

    def request_control(self) -> None:
        _check(n.lib.ra_helper_request_control(self._p))

    def release_control(self) -> None:
        _check(n.lib.ra_helper_release_control(self._p))

    def send_input(self, events: Sequence[InputEvent]) -> None:
        array, _keep = _input_array(events)
        _check(n.lib.ra_helper_send_input(self._p, array, len(events)))

    def chat(self, text: str) -> None:
        _check(n.lib.ra_helper_chat(self._p, text.encode()))

    def select_display(self, display: int) -> None:
        _check(n.lib.ra_helper_select_display(self._p, display))

    def request_keyframe(self) -> None:
        _check(n.lib.ra_helper_request_keyframe(self._p))

    def send_clipboard(self, text: str) -> None:
        """Sends the helper's clipboard text to the host (the host must share it)."""
        _check(n.lib.ra_helper_send_clipboard(self._p, text.encode()))

    def end(self) -> None:
        _check(n.lib.ra_helper_end(self._p))


def _accept_options(name: str, approval_timeout: Optional[float]) -> ctypes.c_void_p:
    options = _new(n.lib.ra_accept_options_new)
    try:
        _check(n.lib.ra_accept_options_set_name(options, name.encode()))
        if approval_timeout is not None:
            _check(n.lib.ra_accept_options_set_approval_timeout_ms(
                options, int(approval_timeout * 1000)))
    except Exception:
        n.lib.ra_accept_options_free(options)
        raise
    return options


class AssistOffer(_Handle):
    """A code a helper registered (:meth:`Helper.assist`), waiting for the
    host to type it. ``close()`` gives it up."""

    _free = n.lib.ra_assist_offer_free

    @property
    def code_info(self) -> CodeInfo:
        """The code to read to the host, and when it expires."""
        return _code_info(n.lib.ra_assist_offer_get_code_info, self._p)

    def wait(self, timeout: Optional[float] = None) -> Optional[Helper]:
        """The session once a host typed the code and let the helper in, or
        None after ``timeout`` seconds (None: wait)."""
        out = ctypes.c_void_p()
        result = n.lib.ra_assist_offer_wait(self._p, _ms(timeout), ctypes.byref(out))
        if result == Result.TIMEOUT:
            return None
        _check(result)
        return Helper(out)
