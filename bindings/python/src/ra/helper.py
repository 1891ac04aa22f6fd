"""The helper: accepting an invitation or a code, and the session."""

from __future__ import annotations

import ctypes
from typing import Any, Callable, Iterator, Optional, Sequence

from . import _native as n
from ._common import Error, Result, _check, _Handle, _kind, _ms, _new, _take_string
from .broker import BrokerOptions, CodeInfo, _code_info
from .events import Control, HelperEvent, Path, PointerKind, _helper_event
from .input import InputEvent, _input_array
from .invitation import Invitation
from .stats import SessionStats, _stats

__all__ = ["Helper", "AssistOffer", "HelperEventCallback"]

HelperEventCallback = Callable[[HelperEvent], None]
"""Receives each helper event — frames included — on the helper's own thread."""


def _accept_options(name: str, approval_timeout: Optional[float],
                    connect_timeout: Optional[float],
                    identity: Optional[str] = None) -> ctypes.c_void_p:
    options = _new(n.lib.ra_accept_options_new)
    try:
        _check(n.lib.ra_accept_options_set_name(options, name.encode()))
        if identity is not None:
            _check(n.lib.ra_accept_options_set_identity(options, identity.encode()))
        if approval_timeout is not None:
            _check(n.lib.ra_accept_options_set_approval_timeout_ms(
                options, int(approval_timeout * 1000)))
        if connect_timeout is not None:
            _check(n.lib.ra_accept_options_set_connect_timeout_ms(
                options, int(connect_timeout * 1000)))
    except BaseException:
        n.lib.ra_accept_options_free(options)
        raise
    return options


class Helper(_Handle):
    """A helper's live session. ``close()`` ends it and tells the host.

    Options of the ways in: ``name`` (what the host sees),
    ``approval_timeout`` (seconds to wait for the host user to let the
    helper in) and ``connect_timeout`` (seconds to try each address of the
    invitation before the next)."""

    _free = n.lib.ra_helper_free

    def __init__(self, pointer: ctypes.c_void_p) -> None:
        super().__init__(pointer)
        self._callback: Optional[Any] = None

    @classmethod
    def accept(cls, invitation: Invitation, password: str, name: str = "ra helper",
               approval_timeout: Optional[float] = None,
               connect_timeout: Optional[float] = None,
               identity: Optional[str] = None) -> "Helper":
        """Connects and waits until the host lets the helper in. ``identity``
        is the text of the helper's identity file (``ra-org issue``), shown to
        the host inside the authenticated channel."""
        options = _accept_options(name, approval_timeout, connect_timeout, identity)
        try:
            return cls(_new(n.lib.ra_helper_accept, invitation._p, password.encode(), options))
        finally:
            n.lib.ra_accept_options_free(options)

    @classmethod
    def easy_connect(cls, broker: BrokerOptions, code: str, name: str = "ra helper",
                     approval_timeout: Optional[float] = None,
                     connect_timeout: Optional[float] = None,
                     identity: Optional[str] = None) -> "Helper":
        """**Easy Connect**: connects with the ``code`` the host read out and
        waits until the host lets the helper in (``identity`` as for
        :meth:`accept`)."""
        options = _accept_options(name, approval_timeout, connect_timeout, identity)
        try:
            return cls(_new(n.lib.ra_helper_easy_connect, broker._p, code.encode(), options))
        finally:
            n.lib.ra_accept_options_free(options)

    @staticmethod
    def assist(broker: BrokerOptions, name: str = "ra helper",
               approval_timeout: Optional[float] = None,
               connect_timeout: Optional[float] = None,
               identity: Optional[str] = None) -> "AssistOffer":
        """**Quick Assist**: registers a code to read to the host; wait for
        the session with :meth:`AssistOffer.wait` (``identity`` as for
        :meth:`accept`)."""
        options = _accept_options(name, approval_timeout, connect_timeout, identity)
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
        """The host's name."""
        out = ctypes.c_void_p()
        _check(n.lib.ra_helper_get_host_name(self._p, ctypes.byref(out)))
        return _take_string(out)

    @property
    def control(self) -> Control:
        """Whether the helper has control of the input, or asked for it."""
        out = ctypes.c_uint32()
        _check(n.lib.ra_helper_get_control_state(self._p, ctypes.byref(out)))
        return Control(out.value)

    def stats(self) -> SessionStats:
        """The session's statistics so far (never blocks)."""
        return _stats(n.lib.ra_helper_get_stats, self._p)

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

    def set_event_callback(self, callback: Optional[HelperEventCallback]) -> None:
        """Delivers every event — frames included, their pixels copied — to
        ``callback`` on a thread of the helper's own instead of
        :meth:`next_event` (polling is refused meanwhile); None goes back to
        polling. Replacing or removing it waits for a running call to
        finish, so do not call this from the callback. What the callback
        raises is logged and raised by the helper's next call."""
        pointer = self._p
        if callback is None:
            _check(n.lib.ra_helper_set_event_callback(pointer, n.HELPER_EVENT_CALLBACK(), None))
            self._callback = None
            return
        errors = self._errors

        def deliver(_user_data: object, event: ctypes.c_void_p) -> None:
            try:
                callback(_helper_event(event))
            except BaseException as error:  # nothing may escape into C
                errors.add("the helper's event callback", error)

        trampoline = n.HELPER_EVENT_CALLBACK(deliver)
        _check(n.lib.ra_helper_set_event_callback(pointer, trampoline, None))
        self._callback = trampoline  # alive until replaced or the helper is freed

    def request_control(self) -> None:
        """Asks the host for control; the answer comes as ``CONTROL_GRANTED`` or ``_DENIED``."""
        _check(n.lib.ra_helper_request_control(self._p))

    def request_control_scopes(self, scopes: int) -> None:
        """Asks the host for control of only ``scopes`` (:class:`Scope` bits);
        the host may give less."""
        _check(n.lib.ra_helper_request_control_scopes(self._p, int(scopes)))

    def release_control(self) -> None:
        """Gives control back."""
        _check(n.lib.ra_helper_release_control(self._p))

    def send_input(self, events: Sequence[InputEvent]) -> None:
        """Sends input events (needs control; ``Error(NOT_CONTROLLING)`` otherwise)."""
        array, _keep = _input_array(events)
        _check(n.lib.ra_helper_send_input(self._p, array, len(events)))

    def pointer(self, x: int, y: int, kind: PointerKind = PointerKind.LASER) -> None:
        """Shows a pointer mark at (``x``, ``y``) on the host's screen (the
        host gets a ``POINTER`` event); needs no control."""
        _check(n.lib.ra_helper_pointer(self._p, x, y, int(kind)))

    def chat(self, text: str) -> None:
        """Sends a chat message to the host."""
        _check(n.lib.ra_helper_chat(self._p, text.encode()))

    def select_display(self, display: int) -> None:
        """Asks the host to capture another display (an id of
        ``DISPLAYS``, or :data:`ra.DISPLAY_ALL`)."""
        _check(n.lib.ra_helper_select_display(self._p, display))

    def request_keyframe(self) -> None:
        """Asks for a whole picture."""
        _check(n.lib.ra_helper_request_keyframe(self._p))

    def send_clipboard(self, text: str) -> None:
        """Sends the helper's clipboard text to the host (the host must share it)."""
        _check(n.lib.ra_helper_send_clipboard(self._p, text.encode()))

    def end(self) -> None:
        """Ends the session (the host gets ``ENDED``, reason ``helper_ended``)."""
        _check(n.lib.ra_helper_end(self._p))


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
