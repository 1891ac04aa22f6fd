"""The helper's input: events to send (:func:`PointerMove`, :func:`Button`,
…), and the host's injectors — one written in Python (:class:`Injector`) or
a built-in one (:class:`BuiltinInjector`)."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import List, Optional, Sequence, Set, Tuple, Union

from . import _native as n
from ._common import Result, _CallbackErrors, _check, _kind, key_code

__all__ = [
    "InputKind", "MouseButton", "InputEvent", "PointerMove", "PointerMoveRelative", "Button",
    "Key", "Wheel", "Text", "Injector", "BuiltinInjector",
]


class InputKind(IntEnum):
    """``RA_INPUT_*``: what an :class:`InputEvent` is."""

    POINTER_MOVE = 1
    POINTER_MOVE_RELATIVE = 2
    BUTTON = 3
    WHEEL = 4
    KEY = 5
    TEXT = 6


class MouseButton(IntEnum):
    """``RA_BUTTON_*``."""

    LEFT = 1
    RIGHT = 2
    MIDDLE = 3
    BACK = 4
    FORWARD = 5


@dataclass(frozen=True)
class InputEvent:
    """One input event (see :func:`PointerMove`, :func:`Button`, …); which
    fields count depends on ``kind``."""

    kind: InputKind
    x: int = 0
    y: int = 0
    button: int = 0
    key: int = 0
    pressed: bool = False
    text: Optional[str] = None


def PointerMove(x: int, y: int) -> InputEvent:  # noqa: N802 - reads like a type
    """Moves the pointer to (``x``, ``y``) in the shared display's pixels."""
    return InputEvent(InputKind.POINTER_MOVE, x=x, y=y)


def PointerMoveRelative(dx: int, dy: int) -> InputEvent:  # noqa: N802
    """Moves the pointer by (``dx``, ``dy``)."""
    return InputEvent(InputKind.POINTER_MOVE_RELATIVE, x=dx, y=dy)


def Button(button: MouseButton, pressed: bool) -> InputEvent:  # noqa: N802
    """Presses or releases a mouse button."""
    return InputEvent(InputKind.BUTTON, button=int(button), pressed=pressed)


def Key(code: Union[int, str], pressed: bool) -> InputEvent:  # noqa: N802
    """Presses or releases a key: a USB HID usage, or a name (:func:`ra.key_code`)."""
    return InputEvent(InputKind.KEY, key=key_code(code) if isinstance(code, str) else code,
                      pressed=pressed)


def Wheel(dx: int, dy: int) -> InputEvent:  # noqa: N802
    """Scrolls by (``dx``, ``dy``) notches."""
    return InputEvent(InputKind.WHEEL, x=dx, y=dy)


def Text(text: str) -> InputEvent:  # noqa: N802
    """Types ``text`` (whatever the keyboard layout)."""
    return InputEvent(InputKind.TEXT, text=text)


def _input_array(events: Sequence[InputEvent]) -> Tuple["ctypes.Array[n.InputEventData]",
                                                        List[Optional[bytes]]]:
    array = (n.InputEventData * max(1, len(events)))()
    keep: List[Optional[bytes]] = []
    for i, e in enumerate(events):
        text = e.text.encode() if e.text is not None else None
        keep.append(text)
        array[i] = n.InputEventData(int(e.kind), e.x, e.y, e.button, e.key, int(e.pressed), text)
    return array, keep


class Injector:
    """Receives the helper's input on the host (override both methods).

    Called on the library's injection thread, one call at a time. An
    exception is logged, answered with ``Result.BACKEND`` (the host gets a
    ``BACKEND_ERROR`` event) and raised as :class:`ra.CallbackError` by the
    host's next call."""

    def inject(self, event: InputEvent) -> None:
        """Injects one event."""
        raise NotImplementedError

    def release_all(self) -> None:
        """Release every key and button the helper holds."""


class BuiltinInjector(Enum):
    """The library's own injectors (``injector=`` of :meth:`ra.Host.invite`;
    :class:`ra.Screen` with ``inject_input`` injects into X)."""

    NULL = "null"
    """Drops the helper's input (the default)."""
    LOG = "log"
    """Prints the helper's input to standard output, one JSON object per line."""

    def _apply(self, backends: ctypes.c_void_p) -> None:
        if self is BuiltinInjector.NULL:
            _check(n.lib.ra_host_backends_use_null_injector(backends))
        else:
            _check(n.lib.ra_host_backends_use_log_injector(backends))


class _InjectorBridge:
    """Keeps a Python injector and its ctypes trampolines alive until the
    library calls destroy."""

    live: Set["_InjectorBridge"] = set()
    lock = threading.Lock()

    def __init__(self, injector: Injector, errors: _CallbackErrors) -> None:
        self.injector = injector
        self.errors = errors
        self.table = n.InjectorCallbacks(None, n.INJECT(self._inject),
                                         n.RELEASE_ALL(self._release_all),
                                         n.DESTROY(self._destroy))
        with self.lock:
            self.live.add(self)

    def _inject(self, _user_data: object, event: "ctypes._Pointer[n.InputEventData]") -> int:
        try:
            e = event.contents
            text = e.text.decode("utf-8", "replace") if e.text else None
            self.injector.inject(InputEvent(_kind(InputKind, e.kind) if e.kind else e.kind, e.x,
                                            e.y, e.button, e.key, bool(e.pressed), text))
            return Result.OK
        except BaseException as error:  # nothing may escape into C
            self.errors.add(f"{type(self.injector).__name__}.inject", error)
            return Result.BACKEND

    def _release_all(self, _user_data: object) -> int:
        try:
            self.injector.release_all()
            return Result.OK
        except BaseException as error:
            self.errors.add(f"{type(self.injector).__name__}.release_all", error)
            return Result.BACKEND

    def _destroy(self, _user_data: object) -> None:
        with self.lock:
            self.live.discard(self)

    def install(self, backends: ctypes.c_void_p) -> None:
        result = n.lib.ra_host_backends_set_injector(backends, ctypes.byref(self.table))
        if result != Result.OK:
            self._destroy(None)  # ownership stays here on failure
            _check(result)
