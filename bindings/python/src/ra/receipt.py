"""Checking what a session left behind: its signed consent receipt and the
host's hash-chained audit log (the same checks as ``ra-audit verify-receipt``
and ``ra-audit verify``)."""

from __future__ import annotations

import ctypes
import json
import os
from typing import Any, Dict, Optional, Union

from . import _native as n
from ._common import _check, _take_string
from .invitation import Invitation

__all__ = ["verify_receipt", "verify_audit_log"]


def _bytes(receipt: Union[str, bytes]) -> bytes:
    return receipt.encode() if isinstance(receipt, str) else bytes(receipt)


def verify_receipt(receipt: Union[str, bytes], invitation: Optional[Invitation] = None,
                   organisation_key: Optional[str] = None) -> Dict[str, Any]:
    """Checks a consent receipt (a ``RECEIPT`` event's ``text``, or a receipt
    file's contents): the host's signature, the helper's countersignature if
    any; with ``invitation``, that it is signed by the host certificate the
    invitation pins and of its session; with ``organisation_key``
    (``raorg1-…``), that the helper was verified as one of that
    organisation's.

    Returns what it records: ``session_id``, ``host_name``,
    ``host_certificate``, ``helper_name``, ``verified`` (a dict or ``None``),
    ``countersigned``, ``approved_at``, ``grants``, ``grants_not_listed``,
    ``ended_at``, ``end_reason``, ``audit_head``. Raises :class:`ra.Error`
    (``Result.INVALID_RECEIPT`` with the reason) otherwise."""
    data = _bytes(receipt)
    out = ctypes.c_void_p()
    _check(n.lib.ra_receipt_verify(data, len(data), invitation._p if invitation else None,
                                   organisation_key.encode() if organisation_key else None,
                                   ctypes.byref(out)))
    report: Dict[str, Any] = json.loads(_take_string(out))
    return report


def verify_audit_log(path: Union[str, "os.PathLike[str]"],
                     receipt: Optional[Union[str, bytes]] = None) -> Dict[str, Any]:
    """Checks the hash chain of every session in the audit log at ``path``
    (no line edited, deleted, inserted or reordered); with the ``receipt`` of
    a session in it, also that the log reaches the chain head the receipt
    records (lines cut from the end). Returns ``{"lines": …, "sessions":
    [{"session_id": …, "head": …}]}``; raises :class:`ra.Error`
    (``Result.AUDIT_LOG_BROKEN`` naming the line, ``Result.IO``) otherwise."""
    data = _bytes(receipt) if receipt is not None else None
    out = ctypes.c_void_p()
    _check(n.lib.ra_audit_verify(os.fsencode(path), data, len(data) if data else 0,
                                 ctypes.byref(out)))
    report: Dict[str, Any] = json.loads(_take_string(out))
    return report
