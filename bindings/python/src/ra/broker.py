"""Short codes through a broker (Easy Connect, Quick Assist): how to reach
the broker (:class:`BrokerOptions`), the codes (:class:`CodeInfo`), and the
network check ("verify the firewall", :meth:`BrokerOptions.diagnose`)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Callable, List, Optional

from . import _native as n
from ._common import _check, _Handle, _kind, _new, _text
from .events import Path

__all__ = ["BrokerOptions", "CodeInfo", "Diagnosis", "DiagnosisCheck"]


class BrokerOptions(_Handle):
    """How to reach the broker of the short-code flows (``"IP:PORT"``), and
    how its certificate is recognised: its ``fingerprint`` (``"sha256:…"``,
    as ``ra-broker serve`` prints it), or CA certificates (``ca_pem``) and
    the ``server_name`` they certify. Times are in seconds."""

    _free = n.lib.ra_broker_options_free

    def __init__(self, address: str, fingerprint: Optional[str] = None, *,
                 ca_pem: Optional[bytes] = None, server_name: Optional[str] = None,
                 bind: Optional[str] = None, try_direct: Optional[bool] = None,
                 direct_timeout: Optional[float] = None,
                 connect_timeout: Optional[float] = None,
                 code_lifetime: Optional[float] = None) -> None:
        super().__init__(_new(n.lib.ra_broker_options_new, address.encode()))
        try:
            if fingerprint is not None:
                _check(n.lib.ra_broker_options_set_fingerprint(self._p, fingerprint.encode()))
            if ca_pem is not None:
                _check(n.lib.ra_broker_options_set_ca(self._p, ca_pem, len(ca_pem),
                                                      (server_name or "").encode()))
            if bind is not None:
                _check(n.lib.ra_broker_options_set_bind(self._p, bind.encode()))
            if try_direct is not None:
                _check(n.lib.ra_broker_options_set_try_direct(self._p, int(try_direct)))
            for setter, seconds in [
                (n.lib.ra_broker_options_set_direct_timeout_ms, direct_timeout),
                (n.lib.ra_broker_options_set_connect_timeout_ms, connect_timeout),
                (n.lib.ra_broker_options_set_code_lifetime_ms, code_lifetime),
            ]:
                if seconds is not None:
                    _check(setter(self._p, int(seconds * 1000)))
        except Exception:
            self.close()
            raise

    def diagnose(self) -> "Diagnosis":
        """Runs the library's network and firewall checks against this broker
        ("verify the firewall"); blocks up to the connect timeout, twice at most."""
        raw = _new(n.lib.ra_diagnose, self._p)
        try:
            ok = ctypes.c_uint8()
            text = ctypes.c_char_p()
            _check(n.lib.ra_diagnosis_get_verdict(raw, ctypes.byref(ok), ctypes.byref(text)))
            count = ctypes.c_size_t()
            _check(n.lib.ra_diagnosis_get_check_count(raw, ctypes.byref(count)))
            checks = []
            for i in range(count.value):
                check = n.DiagnosisCheck()
                _check(n.lib.ra_diagnosis_get_check(raw, i, ctypes.byref(check)))
                checks.append(DiagnosisCheck(_text(check.name), bool(check.ok),
                                             _text(check.detail)))
            return Diagnosis(bool(ok.value), _text(text.value), checks)
        finally:
            n.lib.ra_diagnosis_free(raw)


@dataclass(frozen=True)
class DiagnosisCheck:
    """One check: ``udp_bind``, ``broker``, ``public_address``, ``nat_mapping``
    or ``firewall``; whether it passed and what was found."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Diagnosis:
    """What "verify the firewall" found: whether assistance can work from
    here, the one-line verdict, and the checks in reading order."""

    ok: bool
    verdict: str
    checks: List[DiagnosisCheck]


@dataclass(frozen=True)
class CodeInfo:
    """A short code (``"ABC-DEF-GHJ-KMN"``), when it expires (seconds since
    the Unix epoch) and how the session travels."""

    code: str
    expires_at: int
    path: Path


def _code_info(function: Callable[..., int], pointer: Any) -> CodeInfo:
    info = n.CodeInfo()
    _check(function(pointer, ctypes.byref(info)))
    return CodeInfo(_text(info.code), info.expires_at_unix, _kind(Path, info.path))
