"""What every module of the package shares: result codes, :class:`Error`,
:class:`CallbackError` and how exceptions raised in callbacks travel, owned
handles, and small conversions."""

from __future__ import annotations

import ctypes
import threading
import traceback
from enum import IntEnum
from typing import Any, Callable, ClassVar, Optional, Tuple, Type, TypeVar, Union

from . import _native as n

INFINITE = 0xFFFFFFFF
"""``RA_TIMEOUT_INFINITE``: wait as long as it takes."""
MAX_CLIPBOARD_BYTES = 65536
"""Longest clipboard text, in bytes of UTF-8."""
MAX_CURSOR_SIDE = 128
"""Largest side of a pointer shape, in pixels."""
MAX_INPUT_EVENTS = 1024
"""Most input events in one :meth:`ra.Helper.send_input` call."""
DISPLAY_ALL = 0xFFFFFFFF
"""``RA_DISPLAY_ALL``: every display at once (:meth:`ra.Helper.select_display`)."""

_LOG_ERROR = 1
_ORIGIN = b"ra.python"


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
    INVALID_RECEIPT = 207
    AUDIT_LOG_BROKEN = 208
    TICKET_INVALID = 209
    TICKET_EXPIRED = 210
    TICKET_USED = 211
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


def result_name(code: int) -> str:
    """The stable name of a result code (``"RA_RESULT_WRONG_PASSWORD"``)."""
    return n.lib.ra_result_name(int(code)).decode()


def result_message(code: int) -> str:
    """A short English message for a result code (``"wrong password"``), or
    ``"unknown result code"``; :attr:`Error.message` has the detail of a failure."""
    return n.lib.ra_result_message(int(code)).decode()


class Error(Exception):
    """A failed call: ``code`` (a :class:`Result` or a newer number), ``name``
    (``"RA_RESULT_WRONG_PASSWORD"``), ``message`` (the library's detail of
    this failure) and ``summary`` (the code's short message)."""

    def __init__(self, code: int, message: str) -> None:
        self.code: Union[Result, int] = Result(code) if code in Result._value2member_map_ else code
        self.name: str = result_name(code)
        self.summary: str = result_message(code)
        self.message: str = message
        super().__init__(f"{self.name}: {message}")


class CallbackError(Error):
    """A Python callback the library called (an injector, capturer or
    encoder, an event or log callback) raised ``original`` (also the
    ``__cause__``). It was caught where the library called, written to the
    library's log with its traceback, answered with an error code where the
    callback returns one, and is raised here, by the next call on the
    object that owns the callback. ``callback`` says which one; ``more``
    counts later failures folded into this one. Its ``code`` is
    :attr:`Result.BACKEND`."""

    def __init__(self, callback: str, original: BaseException, more: int = 0) -> None:
        self.callback: str = callback
        self.original: BaseException = original
        self.more: int = more
        detail = f"{callback} raised {type(original).__name__}: {original}"
        if more:
            detail += f" (and {more} more failure{'s' if more > 1 else ''} since)"
        super().__init__(Result.BACKEND, detail)
        self.__cause__ = original


def _check(result: int) -> None:
    if result != Result.OK:
        raise Error(result, n.lib.ra_last_error_message().decode("utf-8", "replace"))


def _describe(callback: str, error: BaseException) -> str:
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return f"{callback} raised {type(error).__name__}: {error}\n" + "".join(lines).rstrip()


def _log_error(text: str) -> None:
    """Writes a line into the library's log, as ``ra.python`` (never raises)."""
    try:
        n.lib.ra_log_message(_LOG_ERROR, _ORIGIN, text.encode("utf-8", "replace"))
    except Exception:  # pragma: no cover - the log is best effort
        pass


class _CallbackErrors:
    """The exceptions the callbacks of one owner raised, waiting to be
    raised by the owner's next call: the first one, and how many followed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: Optional[Tuple[str, BaseException]] = None
        self._more = 0

    def add(self, callback: str, error: BaseException, log: bool = True) -> None:
        """Records ``error`` (raised by ``callback``), then logs it with its
        traceback (so whoever sees the log line finds the error pending)."""
        with self._lock:
            if self._first is None:
                self._first = (callback, error)
            else:
                self._more += 1
        if log:
            _log_error(_describe(callback, error))

    def pending(self) -> bool:
        """Whether an error waits to be raised."""
        with self._lock:
            return self._first is not None

    def raise_pending(self) -> None:
        """Raises the waiting :class:`CallbackError`, if any, and forgets it."""
        with self._lock:
            first, more = self._first, self._more
            self._first, self._more = None, 0
        if first is not None:
            callback, error = first
            raise CallbackError(callback, error, more) from error


def _guard(errors: _CallbackErrors, callback: str, function: Callable[..., Any],
           failed: Any = None) -> Callable[..., Any]:
    """Wraps a Python callable for the ctypes boundary: an exception in it
    is recorded in ``errors`` (and logged) and ``failed`` returned instead."""

    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except BaseException as error:  # nothing may escape into C
            errors.add(callback, error)
            return failed

    return call


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


E = TypeVar("E", bound=IntEnum)


def _kind(enum: Type[E], value: int) -> E:
    return enum(value) if value in enum._value2member_map_ else enum(0)


def _new(function: Callable[..., int], *args: Any) -> ctypes.c_void_p:
    out = ctypes.c_void_p()
    _check(function(*args, ctypes.byref(out)))
    return out


def version() -> str:
    """The version of the loaded library (``ra_version()``)."""
    return n.lib.ra_version().decode()


def key_code(name: str) -> int:
    """The USB HID usage of a key by name (``"a"``, ``"enter"``, ``"ctrl"``)."""
    out = ctypes.c_uint32()
    _check(n.lib.ra_key_from_name(name.encode(), ctypes.byref(out)))
    return out.value


class PanicPoint(IntEnum):
    """Where :func:`debug_inject_panic` makes the library panic once."""

    NONE = 0
    NEXT_CALL = 1
    NEXT_CALLBACK = 2


def debug_inject_panic(point: PanicPoint) -> None:
    """For tests of error handling only: the library panics once at
    ``point`` (the next call gives ``Result.PANIC``; the next backend
    callback a ``BACKEND_ERROR`` event), or no more (``PanicPoint.NONE``)."""
    _check(n.lib.ra_debug_inject_panic(int(point)))


class _Handle:
    """An owned C handle, freed once by ``close``. Every call through
    ``_p`` first raises what the owner's callbacks raised
    (:class:`CallbackError`)."""

    _free: ClassVar[Callable[[ctypes.c_void_p], int]]

    def __init__(self, pointer: ctypes.c_void_p,
                 errors: Optional[_CallbackErrors] = None) -> None:
        self._ptr: Optional[ctypes.c_void_p] = pointer
        self._errors = errors if errors is not None else _CallbackErrors()

    @property
    def _p(self) -> ctypes.c_void_p:
        if self._ptr is None:
            raise Error(Result.INVALID_HANDLE, "the object is closed")
        self._errors.raise_pending()
        return self._ptr

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._ptr is None

    def _after_free(self) -> None:
        """What to let go once the C handle is freed (callback trampolines)."""

    def close(self) -> None:
        """Frees the C object (once; later calls do nothing), then raises
        what a callback of this object raised and no call raised yet."""
        if self._ptr is not None:
            pointer, self._ptr = self._ptr, None
            try:
                _check(type(self)._free(pointer))
            finally:
                self._after_free()
        self._errors.raise_pending()

    def __enter__(self: "H") -> "H":
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is None:
            self.close()
            return
        # An exception is on its way out already: free, and let it go first
        # (a callback's failure was logged when it happened).
        try:
            self.close()
        except Error:
            pass

    def __del__(self) -> None:
        try:
            if self._ptr is not None:
                pointer, self._ptr = self._ptr, None
                type(self)._free(pointer)
                self._after_free()
        except Exception:
            pass


H = TypeVar("H", bound=_Handle)
