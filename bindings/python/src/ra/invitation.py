"""Invitations: what a host hands to a helper (a file, a token, an email or
a ``mailto:`` link; never the password)."""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass
from typing import Optional, Sequence, Union

from . import _native as n
from ._common import _check, _Handle, _new, _take_string, _text

__all__ = ["Invitation", "InvitationInfo"]


@dataclass(frozen=True)
class InvitationInfo:
    """What an invitation says: the host's name, the session id, when it
    was made and when it expires (seconds since the Unix epoch), and how
    many addresses it lists."""

    host_name: str
    session_id: str
    created_at: int
    expires_at: int
    address_count: int


def _addresses(to: Sequence[str]) -> "ctypes.Array[ctypes.c_char_p]":
    return (ctypes.c_char_p * max(1, len(to)))(*[a.encode() for a in to])


class Invitation(_Handle):
    """What the host hands out: a file, a token or an email (never the password)."""

    _free = n.lib.ra_invitation_free

    @classmethod
    def from_token(cls, token: str) -> "Invitation":
        """Parses a token (``ra1-…``, as pasted; whitespace is ignored)."""
        return cls(_new(n.lib.ra_invitation_from_token, token.encode()))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Invitation":
        """Reads an invitation file (``.rainv``)."""
        return cls(_new(n.lib.ra_invitation_load, os.fsencode(path)))

    @classmethod
    def parse(cls, contents: Union[bytes, str]) -> "Invitation":
        """Parses the contents of an invitation file held in memory."""
        data = contents.encode() if isinstance(contents, str) else bytes(contents)
        return cls(_new(n.lib.ra_invitation_parse, data, len(data)))

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Writes the invitation file."""
        _check(n.lib.ra_invitation_save(self._p, os.fsencode(path)))

    def to_file_string(self) -> str:
        """The contents of the invitation file (what :meth:`save` writes)."""
        out = ctypes.c_void_p()
        _check(n.lib.ra_invitation_to_file_string(self._p, ctypes.byref(out)))
        return _take_string(out)

    @property
    def token(self) -> str:
        """The invitation as one line of text (``ra1-…``) to paste."""
        out = ctypes.c_void_p()
        _check(n.lib.ra_invitation_to_token(self._p, ctypes.byref(out)))
        return _take_string(out)

    def email(self, sender: str, to: Sequence[str], subject: Optional[str] = None) -> str:
        """An RFC 5322 message (.eml text) with the invitation attached."""
        out = ctypes.c_void_p()
        _check(n.lib.ra_invitation_to_email(self._p, sender.encode(), _addresses(to), len(to),
                                            subject.encode() if subject else None,
                                            ctypes.byref(out)))
        return _take_string(out)

    def mailto(self, to: Sequence[str] = ()) -> str:
        """A ``mailto:`` URI with the recipients, a subject and the token (a
        URI cannot carry the file)."""
        out = ctypes.c_void_p()
        _check(n.lib.ra_invitation_mailto(self._p, _addresses(to), len(to), ctypes.byref(out)))
        return _take_string(out)

    @property
    def info(self) -> InvitationInfo:
        """What the invitation says (host name, session id, times, addresses)."""
        i = n.InvitationInfo()
        _check(n.lib.ra_invitation_get_info(self._p, ctypes.byref(i)))
        return InvitationInfo(_text(i.host_name), _text(i.session_id), i.created_at_unix,
                              i.expires_at_unix, i.address_count)

    @property
    def host_name(self) -> str:
        """The host's name, as the invitation says it."""
        return self.info.host_name
