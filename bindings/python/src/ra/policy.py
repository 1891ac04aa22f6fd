"""The host's policy (what a helper may do), enforced by the engine."""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Optional, Union

from . import _native as n
from ._common import _check, _Handle, _new, _take_string

__all__ = ["PolicySettings", "Policy"]


@dataclass
class PolicySettings:
    """The policy's settings as plain values; times in seconds."""

    allow_assistance: bool = True
    allow_control: bool = True
    allow_clipboard: bool = False
    max_invitation_lifetime: float = 6 * 3600.0
    approval_timeout: float = 60.0
    allow_resume_tickets: bool = False
    """The host may issue resume tickets (:meth:`ra.Host.issue_resume_ticket`)."""
    max_resume_ticket_lifetime: float = 15 * 60.0
    """The longest a resume ticket stays valid (at most 15 minutes)."""


class Policy(_Handle):
    """The host's policy: the defaults, or TOML text (``"allow_clipboard =
    true"``); :meth:`load` reads a policy file."""

    _free = n.lib.ra_policy_free

    def __init__(self, toml: Optional[str] = None) -> None:
        if toml is None:
            super().__init__(_new(n.lib.ra_policy_new))
        else:
            super().__init__(_new(n.lib.ra_policy_from_toml, toml.encode()))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Policy":
        """Reads a policy file (TOML): ``Error(IO)`` when it cannot be read,
        ``Error(INVALID_POLICY)`` when it is not a policy."""
        policy = cls.__new__(cls)
        _Handle.__init__(policy, _new(n.lib.ra_policy_load, os.fsencode(path)))
        return policy

    @property
    def settings(self) -> PolicySettings:
        """The settings (a copy: assign it back to change them)."""
        s = n.PolicySettings()
        _check(n.lib.ra_policy_get(self._p, ctypes.byref(s)))
        return PolicySettings(bool(s.allow_assistance), bool(s.allow_control),
                              bool(s.allow_clipboard), s.max_invitation_lifetime_ms / 1000,
                              s.approval_timeout_ms / 1000, bool(s.allow_resume_tickets),
                              s.max_resume_ticket_lifetime_ms / 1000)

    @settings.setter
    def settings(self, value: PolicySettings) -> None:
        s = n.PolicySettings(
            allow_assistance=int(value.allow_assistance),
            allow_control=int(value.allow_control),
            allow_clipboard=int(value.allow_clipboard),
            max_invitation_lifetime_ms=int(value.max_invitation_lifetime * 1000),
            approval_timeout_ms=int(value.approval_timeout * 1000),
            allow_resume_tickets=int(value.allow_resume_tickets),
            max_resume_ticket_lifetime_ms=int(value.max_resume_ticket_lifetime * 1000),
        )
        _check(n.lib.ra_policy_set(self._p, ctypes.byref(s)))

    def to_toml(self) -> str:
        """The policy as TOML text, as a policy file holds it."""
        out = ctypes.c_void_p()
        _check(n.lib.ra_policy_to_toml(self._p, ctypes.byref(out)))
        return _take_string(out)
