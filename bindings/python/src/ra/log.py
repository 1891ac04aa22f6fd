"""The library's log: a Python callable or :mod:`logging` receives the
engine's messages (:func:`set_log_callback`, :func:`log_to_logging`), and an
application adds its own lines to the same log (:func:`log_message`)."""

from __future__ import annotations

import atexit
import logging
import sys
import threading
from enum import IntEnum
from typing import Callable, Optional

from . import _native as n
from ._common import _CallbackErrors, _check, _text

__all__ = ["LogLevel", "LogCallback", "set_log_callback", "log_message", "log_to_logging"]


class LogLevel(IntEnum):
    """``RA_LOG_*``: a message's level, or the most detailed level wanted."""

    OFF = 0
    ERROR = 1
    WARN = 2
    INFO = 3
    DEBUG = 4
    TRACE = 5


LogCallback = Callable[[LogLevel, str, str], None]
"""Receives ``(level, target, message)``: the module the message came from
(``"ra_core::session"``, or the origin given to :func:`log_message`) and the
message with its fields."""

_TO_LOGGING = {
    LogLevel.ERROR: logging.ERROR,
    LogLevel.WARN: logging.WARNING,
    LogLevel.INFO: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.TRACE: 5,
}

_lock = threading.Lock()
_trampoline: Optional[object] = None  # the installed ctypes callback, kept alive
_errors = _CallbackErrors()


def set_log_callback(callback: Optional[LogCallback],
                     max_level: LogLevel = LogLevel.INFO) -> None:
    """Sends the library's log messages up to ``max_level`` to ``callback``
    (None, or ``LogLevel.OFF``: stop). Replaces an earlier callback.

    The callback runs on whichever engine thread logs, possibly several at
    once, and must return quickly; blocking ``ra`` calls fail there
    (``Result.WRONG_THREAD``). An exception it raises is reported through
    :data:`sys.unraisablehook` (the library's log cannot take it: the
    library drops what is logged from inside the log callback) and raised
    as :class:`ra.CallbackError` by the next :func:`set_log_callback` or
    :func:`log_message`. ``Error(UNSUPPORTED)`` if the process has another
    Rust ``tracing`` subscriber."""
    global _trampoline
    _errors.raise_pending()

    def deliver(_user_data: object, level: int, target: Optional[bytes],
                message: Optional[bytes]) -> None:
        try:
            ra_level = LogLevel(level) if level in LogLevel._value2member_map_ else LogLevel.TRACE
            callback(ra_level, _text(target), _text(message))  # type: ignore[misc]
        except BaseException as error:  # nothing may escape into C
            _errors.add("the log callback", error, log=False)
            hook = getattr(sys, "unraisablehook", None)
            if hook is not None:
                try:
                    hook(_Unraisable(error, "Exception in ra's log callback", callback))
                except BaseException:
                    pass

    with _lock:
        if callback is None or max_level == LogLevel.OFF:
            _check(n.lib.ra_set_log_callback(n.LOG_CALLBACK(), None, LogLevel.OFF))
            _trampoline = None
            return
        trampoline = n.LOG_CALLBACK(deliver)
        _check(n.lib.ra_set_log_callback(trampoline, None, int(max_level)))
        _trampoline = trampoline  # the old one is no longer called once this returns


class _Unraisable:
    """The argument :data:`sys.unraisablehook` expects."""

    def __init__(self, error: BaseException, message: str, obj: object) -> None:
        self.exc_type = type(error)
        self.exc_value = error
        self.exc_traceback = error.__traceback__
        self.err_msg = message
        self.object = obj


def log_message(level: LogLevel, message: str, origin: Optional[str] = None) -> None:
    """Writes ``message`` into the library's log at ``level``, as coming
    from ``origin`` (None: ``"app"``), which the log callback receives as
    its target. Nothing happens when no callback listens or ``level`` is
    above its maximum. Raises what the log callback raised since the last
    call (:class:`ra.CallbackError`)."""
    _errors.raise_pending()
    _check(n.lib.ra_log_message(int(level), origin.encode() if origin is not None else None,
                                message.encode()))


def log_to_logging(max_level: LogLevel = LogLevel.INFO, logger: str = "ra") -> None:
    """Sends the library's log to :mod:`logging`: each message goes to the
    logger named ``logger`` at the matching level (TRACE is level 5), as
    ``"target: message"``, with the target also in the record's
    ``ra_target`` attribute."""
    destination = logging.getLogger(logger)

    def forward(level: LogLevel, target: str, message: str) -> None:
        destination.log(_TO_LOGGING.get(level, 5), "%s: %s", target, message,
                        extra={"ra_target": target})

    set_log_callback(forward, max_level)


def _stop_at_exit() -> None:
    # No engine thread may call into an interpreter that is going away.
    if _trampoline is not None:
        try:
            n.lib.ra_set_log_callback(n.LOG_CALLBACK(), None, LogLevel.OFF)
        except Exception:
            pass


atexit.register(_stop_at_exit)
