"""ra: an embeddable remote-assistance engine — Python bindings over its C API.

A **host** opens an invitation (:meth:`Host.invite`) and gives the helper the
invitation (file, token or email) and, separately, the password; a **helper**
connects with both (:meth:`Helper.accept`). The host approves the connection,
then — separately — control. Both objects are context managers; their events
come from :meth:`Host.events` / :meth:`Helper.events` (iterators) or
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
    "Error", "Result", "HostEventKind", "HelperEventKind", "InputKind", "Button", "Control",
    "Policy", "Invitation", "Host", "Helper", "HostEvent", "HelperEvent", "Frame", "Display",
    "InputEvent", "PointerMove", "Button", "Key", "Wheel", "Text", "Injector", "version",
    "key_code",
]

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
    POLICY = 300
    BIND = 301
    NO_ADDRESS = 302
    TLS = 303
    INVITE_FAILED = 399
    WRONG_PASSWORD = 400
    DENIED = 401
    INVITATION_CLOSED = 402
    UNKNOWN_SESSION = 403
    CERTIFICATE_MISMATCH = 404
    UNREACHABLE = 405
    CONNECTION_LOST = 406
    PROTOCOL = 407
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
        s = n.PolicySettings(int(value.allow_assistance), int(value.allow_control),
                             int(value.allow_clipboard), int(value.max_invitation_lifetime * 1000),
                             int(value.approval_timeout * 1000))
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


def _kind(enum, value: int):
    return enum(value) if value in enum._value2member_map_ else enum(0)


def _host_event(pointer: ctypes.c_void_p) -> HostEvent:
    d = n.HostEventData()
    _check(n.lib.ra_host_event_get_data(pointer, ctypes.byref(d)))
    return HostEvent(_kind(HostEventKind, d.kind), d.connection, _text(d.helper_name),
                     _text(d.peer), _text(d.text), d.reason, _text(d.reason_name), d.attempts,
                     d.max_attempts, d.grant, d.x, d.y, d.backend, d.backend_result,
                     _text(d.description))


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
    return HelperEvent(kind, _text(d.host_name), _text(d.text), d.reason, _text(d.reason_name),
                       d.grant, displays, d.selected_display, frame, _text(d.description))


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


class Host(_Handle):
    """An open invitation and the session made through it. ``close()`` (or
    leaving the ``with`` block) ends the session and tells the helper."""

    _free = n.lib.ra_host_free

    @classmethod
    def invite(cls, host_name: str = "ra host", listen: str = "0.0.0.0:0",
               lifetime: Optional[float] = None, policy: Optional[Policy] = None,
               synthetic_size: tuple = (1280, 720), frame_rate: float = 30.0,
               injector: Optional[Injector] = None) -> "Host":
        """Opens an invitation with the synthetic test-pattern capturer, the
        OpenH264 encoder and ``injector`` (default: input is dropped)."""
        options = _new(n.lib.ra_invite_options_new)
        backends = _new(n.lib.ra_host_backends_new)
        try:
            _check(n.lib.ra_invite_options_set_host_name(options, host_name.encode()))
            _check(n.lib.ra_invite_options_set_listen(options, listen.encode()))
            if lifetime is not None:
                _check(n.lib.ra_invite_options_set_lifetime_ms(options, int(lifetime * 1000)))
            if policy is not None:
                _check(n.lib.ra_invite_options_set_policy(options, policy._p))
            width, height = synthetic_size
            _check(n.lib.ra_host_backends_use_synthetic_capturer(backends, width, height,
                                                                  frame_rate))
            if injector is not None:
                bridge = _InjectorBridge(injector)
                result = n.lib.ra_host_backends_set_injector(backends, ctypes.byref(bridge.table))
                if result != Result.OK:
                    bridge._destroy(None)  # ownership stays here on failure
                    _check(result)
            return cls(_new(n.lib.ra_host_invite, options, backends))
        finally:
            n.lib.ra_host_backends_free(backends)
            n.lib.ra_invite_options_free(options)

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
        options = _new(n.lib.ra_accept_options_new)
        try:
            _check(n.lib.ra_accept_options_set_name(options, name.encode()))
            if approval_timeout is not None:
                _check(n.lib.ra_accept_options_set_approval_timeout_ms(
                    options, int(approval_timeout * 1000)))
            return cls(_new(n.lib.ra_helper_accept, invitation._p, password.encode(), options))
        finally:
            n.lib.ra_accept_options_free(options)

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

    def end(self) -> None:
        _check(n.lib.ra_helper_end(self._p))
