"""The host: an open invitation (or a short code), its backends, and the
session made through it."""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Optional, Sequence, Tuple, Union

from . import _native as n
from ._common import (Error, Result, _CallbackErrors, _check, _Handle, _ms, _new,
                      _take_string)
from .broker import BrokerOptions, CodeInfo, _code_info
from .capture import Capturer, Screen, _CapturerBridge
from .encode import BuiltinEncoder, Encoder, _EncoderBridge
from .events import HostEvent, _host_event
from .input import BuiltinInjector, Injector, _InjectorBridge
from .invitation import Invitation
from .policy import Policy
from .stats import SessionStats, _stats

__all__ = ["Desk", "Host", "HostEventCallback"]

HostEventCallback = Callable[[HostEvent], None]
"""Receives each host event on the host's own callback thread."""

PathLike = Union[str, "os.PathLike[str]"]


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

    def _apply(self, backends: ctypes.c_void_p) -> None:
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
    """The invite options and backends of a new host (freed on exit), and
    where its Python backends' exceptions go."""

    def __init__(self, host_name: str, listen: Optional[str], lifetime: Optional[float],
                 policy: Optional[Policy], synthetic_size: Tuple[int, int], frame_rate: float,
                 injector: Union[Injector, BuiltinInjector, None],
                 capturer: Optional[Capturer], desk: Optional[Desk] = None,
                 screen: Optional[Screen] = None,
                 encoder: Union[Encoder, BuiltinEncoder, None] = None,
                 addresses: Sequence[str] = (), audit_log: Optional[PathLike] = None,
                 rendezvous: Optional[BrokerOptions] = None) -> None:
        self.errors = _CallbackErrors()
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
            for address in addresses:
                _check(n.lib.ra_invite_options_add_address(self.options, address.encode()))
            if audit_log is not None:
                _check(n.lib.ra_invite_options_set_audit_log(self.options,
                                                             os.fsencode(audit_log)))
            if rendezvous is not None:
                _check(n.lib.ra_invite_options_set_rendezvous(self.options, rendezvous._p))
            if capturer is not None:
                _CapturerBridge(capturer, self.errors).install(self.backends)
            else:
                width, height = synthetic_size
                _check(n.lib.ra_host_backends_use_synthetic_capturer(self.backends, width,
                                                                      height, frame_rate))
            if isinstance(encoder, BuiltinEncoder):
                encoder._apply(self.backends)
            elif encoder is not None:
                _EncoderBridge(encoder, self.errors).install(self.backends)
            if isinstance(injector, BuiltinInjector):
                injector._apply(self.backends)
            elif injector is not None:
                _InjectorBridge(injector, self.errors).install(self.backends)
            if desk is not None:
                desk._apply(self.backends)
            if screen is not None:
                screen._apply(self.backends)
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self) -> "_Start":
        return self

    def __exit__(self, *exc: Any) -> None:
        n.lib.ra_host_backends_free(self.backends)
        n.lib.ra_invite_options_free(self.options)


class Host(_Handle):
    """An open invitation — or a short code — and the session made through
    it. ``close()`` (or leaving the ``with`` block) ends the session and
    tells the helper.

    Backends (``invite``, ``easy_connect`` and ``join`` take the same ones):
    ``capturer`` (a :class:`ra.Capturer`; default: the synthetic test
    pattern of ``synthetic_size`` at ``frame_rate``; ``screen`` shares a
    real X screen instead), ``encoder`` (a :class:`ra.Encoder` or
    :attr:`ra.BuiltinEncoder.OPENH264`, the default), ``injector`` (a
    :class:`ra.Injector` or a :class:`ra.BuiltinInjector`; default: input
    is dropped) and ``desk``. Options: ``host_name``, ``lifetime`` (seconds),
    ``policy``, ``addresses`` (``"IP:PORT"`` written into the invitation
    instead of those of the listening socket) and ``audit_log`` (a file the
    session's audit log is appended to, JSON lines).

    What a Python backend or the event callback raises is logged and then
    raised by the host's next call as :class:`ra.CallbackError`."""

    _free = n.lib.ra_host_free

    def __init__(self, pointer: ctypes.c_void_p,
                 errors: Optional[_CallbackErrors] = None) -> None:
        super().__init__(pointer, errors)
        self._callback: Optional[Any] = None

    @classmethod
    def invite(cls, host_name: str = "ra host", listen: str = "0.0.0.0:0",
               lifetime: Optional[float] = None, policy: Optional[Policy] = None,
               synthetic_size: Tuple[int, int] = (1280, 720), frame_rate: float = 30.0,
               injector: Union[Injector, BuiltinInjector, None] = None,
               capturer: Optional[Capturer] = None, desk: Optional[Desk] = None,
               screen: Optional[Screen] = None,
               encoder: Union[Encoder, BuiltinEncoder, None] = None,
               addresses: Sequence[str] = (), audit_log: Optional[PathLike] = None,
               rendezvous: Optional[BrokerOptions] = None) -> "Host":
        """Opens an invitation listening on ``listen`` (backends and options
        as the class says); blocks until it listens. With ``rendezvous``, the
        invitation also names that broker: a helper that cannot reach this
        machine (NAT, firewall) connects by hole punching or the relay."""
        with _Start(host_name, listen, lifetime, policy, synthetic_size, frame_rate, injector,
                    capturer, desk, screen, encoder, addresses, audit_log,
                    rendezvous) as start:
            return cls(_new(n.lib.ra_host_invite, start.options, start.backends), start.errors)

    @classmethod
    def easy_connect(cls, broker: BrokerOptions, host_name: str = "ra host",
                     lifetime: Optional[float] = None, policy: Optional[Policy] = None,
                     synthetic_size: Tuple[int, int] = (1280, 720), frame_rate: float = 30.0,
                     injector: Union[Injector, BuiltinInjector, None] = None,
                     capturer: Optional[Capturer] = None,
                     desk: Optional[Desk] = None, screen: Optional[Screen] = None,
                     encoder: Union[Encoder, BuiltinEncoder, None] = None,
                     audit_log: Optional[PathLike] = None) -> "Host":
        """**Easy Connect**: registers a code with the broker; read
        :attr:`code_info` to the helper, who types it. Backends as for
        :meth:`invite`."""
        with _Start(host_name, None, lifetime, policy, synthetic_size, frame_rate, injector,
                    capturer, desk, screen, encoder, (), audit_log) as start:
            return cls(_new(n.lib.ra_host_easy_connect, broker._p, start.options,
                            start.backends), start.errors)

    @classmethod
    def join(cls, broker: BrokerOptions, code: str, host_name: str = "ra host",
             lifetime: Optional[float] = None, policy: Optional[Policy] = None,
             synthetic_size: Tuple[int, int] = (1280, 720), frame_rate: float = 30.0,
             injector: Union[Injector, BuiltinInjector, None] = None,
             capturer: Optional[Capturer] = None, desk: Optional[Desk] = None,
             screen: Optional[Screen] = None,
             encoder: Union[Encoder, BuiltinEncoder, None] = None,
             audit_log: Optional[PathLike] = None) -> "Host":
        """**Quick Assist**: connects to the helper whose ``code`` the user
        typed; the helper then asks to connect as usual."""
        with _Start(host_name, None, lifetime, policy, synthetic_size, frame_rate, injector,
                    capturer, desk, screen, encoder, (), audit_log) as start:
            return cls(_new(n.lib.ra_host_join, broker._p, code.encode(), start.options,
                            start.backends), start.errors)

    @classmethod
    def resume_from_ticket(cls, path: PathLike, key: bytes, policy: Policy,
                           synthetic_size: Tuple[int, int] = (1280, 720),
                           frame_rate: float = 30.0,
                           injector: Union[Injector, BuiltinInjector, None] = None,
                           capturer: Optional[Capturer] = None, desk: Optional[Desk] = None,
                           screen: Optional[Screen] = None,
                           encoder: Union[Encoder, BuiltinEncoder, None] = None,
                           audit_log: Optional[PathLike] = None) -> "Host":
        """Re-opens the session of the resume ticket in the file ``path``,
        sealed with ``key`` (32 bytes), after the host's application or
        machine restarted: the ticket is taken out of the file (used once);
        the helper reconnects by itself, its ``CONNECTION_REQUEST`` has
        :attr:`ra.HostEvent.resumes` set and needs approval, and control
        needs a new grant. ``policy`` must allow resume tickets. Raises
        :class:`Error` with ``TICKET_USED``, ``TICKET_EXPIRED``,
        ``TICKET_INVALID``, ``POLICY`` or ``BIND``. Backends as for
        :meth:`invite`."""
        with _Start("ra host", None, None, policy, synthetic_size, frame_rate, injector,
                    capturer, desk, screen, encoder, (), audit_log) as start:
            return cls(_new(n.lib.ra_host_resume_from_ticket, os.fsencode(path), bytes(key),
                            len(key), start.options, start.backends), start.errors)

    def issue_resume_ticket(self, key: bytes, lifetime: float, path: PathLike) -> None:
        """Issues a single-use resume ticket for the live session, valid for
        ``lifetime`` seconds (the policy caps it, at most 15 minutes), sealed
        with ``key`` (32 bytes), into the file ``path`` (readable by its
        owner only). The helper is told and reconnects by itself when the
        host comes back with :meth:`resume_from_ticket`. Raises
        :class:`Error` (``POLICY`` unless the policy has
        ``allow_resume_tickets``, ``NO_SESSION`` without an approved
        helper)."""
        _check(n.lib.ra_host_issue_resume_ticket(self._p, bytes(key), len(key),
                                                 int(lifetime * 1000), os.fsencode(path)))

    @property
    def code_info(self) -> CodeInfo:
        """The code of a host started from one (Error INVALID_STATE otherwise)."""
        return _code_info(n.lib.ra_host_get_code_info, self._p)

    @property
    def invitation(self) -> Invitation:
        """The invitation to hand out (Error INVALID_STATE for a code's host)."""
        return Invitation(_new(n.lib.ra_host_get_invitation, self._p))

    @property
    def password(self) -> str:
        """The password to tell the helper apart from the invitation."""
        out = ctypes.c_void_p()
        _check(n.lib.ra_host_get_password(self._p, ctypes.byref(out)))
        return _take_string(out)

    @property
    def port(self) -> int:
        """The UDP port the invitation listens on."""
        out = ctypes.c_uint16()
        _check(n.lib.ra_host_get_port(self._p, ctypes.byref(out)))
        return out.value

    def stats(self) -> SessionStats:
        """The session's statistics so far (never blocks)."""
        return _stats(n.lib.ra_host_get_stats, self._p)

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

    def set_event_callback(self, callback: Optional[HostEventCallback]) -> None:
        """Delivers every event to ``callback`` on a thread of the host's own
        instead of :meth:`next_event` (polling is refused meanwhile); None
        goes back to polling. Replacing or removing it waits for a running
        call to finish, so do not call this from the callback. The callback
        may call the host's other methods, ``close`` included; what it
        raises is logged and raised by the host's next call."""
        pointer = self._p
        if callback is None:
            _check(n.lib.ra_host_set_event_callback(pointer, n.HOST_EVENT_CALLBACK(), None))
            self._callback = None
            return
        errors = self._errors

        def deliver(_user_data: object, event: ctypes.c_void_p) -> None:
            try:
                callback(_host_event(event))
            except BaseException as error:  # nothing may escape into C
                errors.add("the host's event callback", error)

        trampoline = n.HOST_EVENT_CALLBACK(deliver)
        _check(n.lib.ra_host_set_event_callback(pointer, trampoline, None))
        self._callback = trampoline  # alive until replaced or the host is freed

    def approve(self, connection: int) -> None:
        """Lets a helper in after ``CONNECTION_REQUEST``; the session starts view-only."""
        _check(n.lib.ra_host_approve(self._p, connection))

    def deny(self, connection: int) -> None:
        """Turns a helper away after ``CONNECTION_REQUEST``."""
        _check(n.lib.ra_host_deny(self._p, connection))

    def grant_control(self, connection: int) -> None:
        """Gives the helper control of the input after ``CONTROL_REQUESTED``."""
        _check(n.lib.ra_host_grant_control(self._p, connection))

    def grant_control_with(self, connection: int, scopes: int,
                           duration: Optional[float] = None) -> None:
        """Gives the helper control of ``scopes`` (:class:`Scope` bits; only
        those it asked for) for ``duration`` seconds (``None``: until
        revoked; the policy caps it). At the end control is revoked
        (reason ``expired``) and what the helper held is released."""
        ms = 0 if duration is None else max(1, int(duration * 1000))
        _check(n.lib.ra_host_grant_control_with(self._p, connection, int(scopes), ms))

    def deny_control(self, connection: int) -> None:
        """Refuses the helper's request for control."""
        _check(n.lib.ra_host_deny_control(self._p, connection))

    def revoke(self) -> None:
        """Takes control back."""
        _check(n.lib.ra_host_revoke(self._p))

    def revoke_panic_key(self) -> None:
        """Takes control back as the local panic key does (reason ``panic_key``)."""
        _check(n.lib.ra_host_revoke_panic_key(self._p))

    def local_input_seen(self, hold_ms: int) -> None:
        """The local user is busy: the helper's input is held back for ``hold_ms``."""
        _check(n.lib.ra_host_local_input_seen(self._p, hold_ms))

    def pause(self) -> None:
        """Pauses the picture and the helper's input."""
        _check(n.lib.ra_host_pause(self._p))

    def resume(self) -> None:
        """Resumes after :meth:`pause`."""
        _check(n.lib.ra_host_resume(self._p))

    def chat(self, text: str) -> None:
        """Sends a chat message to the helper."""
        _check(n.lib.ra_host_chat(self._p, text.encode()))

    def end(self) -> None:
        """Ends the session (the helper gets ``ENDED``, reason ``host_ended``)."""
        _check(n.lib.ra_host_end(self._p))

    def close_invitation(self) -> None:
        """Accepts no more connections through the invitation (a helper who
        tries gets ``Error(INVITATION_CLOSED)``); a running session goes on."""
        _check(n.lib.ra_host_close_invitation(self._p))

    def set_policy(self, policy: Policy) -> None:
        """Replaces the policy (copied), for the running session too."""
        _check(n.lib.ra_host_set_policy(self._p, policy._p))

    def set_clipboard_sharing(self, enabled: bool) -> None:
        """Shares the clipboard (text, both ways) or stops; needs a policy
        with ``allow_clipboard``."""
        _check(n.lib.ra_host_set_clipboard_sharing(self._p, int(enabled)))

    def set_redactions(self, rects: Sequence[Tuple[int, int, int, int]]) -> None:
        """Masks these desktop rectangles ``(x, y, width, height)`` besides the
        policy's ``redact`` (an empty list unmasks them): painted black before
        encoding, pointer input inside them dropped, the helper told
        (``HelperEventKind.REDACTIONS``). ``Result.INVALID_ARGUMENT`` for an
        empty rectangle or too many."""
        array = (n.Rect * max(1, len(rects)))(*[n.Rect(x, y, w, h) for x, y, w, h in rects])
        _check(n.lib.ra_host_set_redactions(self._p, array if rects else None, len(rects)))

    def set_redacted_windows(self, classes: Sequence[str]) -> None:
        """Masks the windows of these classes (X11 ``WM_CLASS``, without
        case) wherever they move, besides the policy's ``redact_windows``
        (an empty list: none); needs the real X11 screen.
        ``Result.INVALID_ARGUMENT`` for an empty or too long class, or too
        many."""
        array = (ctypes.c_char_p * max(1, len(classes)))(*[c.encode() for c in classes])
        _check(n.lib.ra_host_set_redacted_windows(self._p, array if classes else None,
                                                  len(classes)))

    def send_clipboard(self, text: str) -> None:
        """Sends the host's clipboard text to the helper (sharing must be on)."""
        _check(n.lib.ra_host_send_clipboard(self._p, text.encode()))
