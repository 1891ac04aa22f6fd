"""ra: an embeddable remote-assistance engine — Python bindings over its C API.

A **host** opens an invitation (:meth:`Host.invite`) and gives the helper the
invitation (file, token, email or ``mailto:`` link) and, separately, the
password; a **helper** connects with both (:meth:`Helper.accept`). Or the two
meet through a broker with a short code (:class:`BrokerOptions`): in Easy
Connect the host gets the code (:meth:`Host.easy_connect`) and the helper
types it (:meth:`Helper.easy_connect`); in Quick Assist the helper gets it
(:meth:`Helper.assist`, then :meth:`AssistOffer.wait`) and the host types it
(:meth:`Host.join`). The host approves the connection, then — separately —
control. Both objects are context managers; their events come from
:meth:`Host.events` / :meth:`Helper.events` (iterators), ``next_event(timeout)``
or a callback (``set_event_callback``). ``stats()`` gives a
:class:`SessionStats`. Every failure raises :class:`Error`.

**The library.** Importing ``ra`` loads ``libra_ffi.so``: the file named by
``$RA_LIBRARY`` if set (nothing else is then tried), else the copy bundled in
the package (a wheel carries one), else the system's ``libra_ffi.so.0``.
Its version (:func:`library_version`) must suit the package's
(:data:`__version__`): the same major version and, before 1.0, the same
minor one; otherwise the import raises :class:`IncompatibleLibraryError` (an
``ImportError``) naming both versions and the library's path.
:func:`library_path` says which file was loaded.

**Exceptions in callbacks.** The library calls Python code on its own threads:
a :class:`Injector`, :class:`Capturer` or :class:`Encoder`, an event callback,
the log callback. An exception raised there is never swallowed: it is caught
where the library called, written to the library's log (level ERROR, target
``ra.python``, with the traceback — see :func:`set_log_callback`), answered
with ``Result.BACKEND`` where the callback returns a code (the host then gets
a ``BACKEND_ERROR`` event), and raised as :class:`CallbackError` (its
``__cause__`` the original exception) by the next call on the object that
owns the callback — the :class:`Host` for its backends and event callback,
the :class:`Helper` for its event callback, :func:`set_log_callback` /
:func:`log_message` for the log callback (which also goes to
:data:`sys.unraisablehook`, as the log cannot take it). ``close()`` frees the
object first, then raises what is still pending.
"""

from __future__ import annotations

from . import _native
from ._common import (DISPLAY_ALL, INFINITE, MAX_CLIPBOARD_BYTES, MAX_CURSOR_SIDE,
                      MAX_INPUT_EVENTS, CallbackError, Error, PanicPoint, Result,
                      debug_inject_panic, key_code, result_message, result_name, version)
from ._version import IncompatibleLibraryError, __version__, compatible
from .broker import BrokerOptions, CodeInfo, Diagnosis, DiagnosisCheck
from .capture import CapturedFrame, Capturer, Screen, WaylandApi
from .encode import BuiltinEncoder, EncodedFrame, Encoder
from .events import (Backend, Control, CursorShape, CursorUpdate, Display, Frame,
                     HelperEvent, HelperEventKind, HostEvent, HostEventKind, Path, PointerKind,
                     Scope, VerifiedHelper, unverified_helper_warning)
from .helper import AssistOffer, Helper, HelperEventCallback
from .host import Desk, Host, HostEventCallback
from .input import (BuiltinInjector, Button, InputEvent, InputKind, Injector, Key,
                    MouseButton, PointerMove, PointerMoveRelative, Text, Wheel)
from .invitation import Invitation, InvitationInfo
from .log import LogCallback, LogLevel, log_message, log_to_logging, set_log_callback
from .policy import Policy, PolicySettings
from .receipt import verify_audit_log, verify_receipt
from .stats import SessionStats

__all__ = [
    "__version__", "library_version", "library_path", "version", "compatible",
    "IncompatibleLibraryError", "Error", "CallbackError", "Result", "result_name",
    "result_message", "key_code", "debug_inject_panic", "PanicPoint",
    "INFINITE", "MAX_CLIPBOARD_BYTES", "MAX_CURSOR_SIDE", "MAX_INPUT_EVENTS", "DISPLAY_ALL",
    "Policy", "PolicySettings", "Invitation", "InvitationInfo",
    "verify_receipt", "verify_audit_log",
    "Host", "HostEventCallback", "Desk", "Screen", "WaylandApi", "Helper", "HelperEventCallback",
    "AssistOffer", "BrokerOptions", "CodeInfo", "Diagnosis", "DiagnosisCheck",
    "HostEvent", "HostEventKind", "HelperEvent", "HelperEventKind", "Frame", "Display",
    "Scope", "VerifiedHelper", "unverified_helper_warning",
    "CursorShape", "CursorUpdate", "Path", "Control", "PointerKind", "Backend",
    "InputEvent", "InputKind", "MouseButton", "PointerMove", "PointerMoveRelative", "Button",
    "Key", "Wheel", "Text", "Injector", "BuiltinInjector",
    "Capturer", "CapturedFrame", "Encoder", "EncodedFrame", "BuiltinEncoder",
    "SessionStats", "LogLevel", "LogCallback", "set_log_callback", "log_message",
    "log_to_logging",
]


def library_version() -> str:
    """The version of the loaded ``libra_ffi.so`` (``ra_version()``), checked
    against :data:`__version__` at import."""
    return version()


def library_path() -> str:
    """The file the library was loaded from (its real path)."""
    return _native.library_path
