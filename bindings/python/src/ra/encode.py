"""How the host compresses its picture: the built-in OpenH264 encoder (the
default, :attr:`BuiltinEncoder.OPENH264`) or an encoder written in Python
(:class:`Encoder`), which must produce H.264 Annex B for the helper's
OpenH264 decoder."""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from enum import Enum
from typing import Optional, Set

from . import _native as n
from ._common import Result, _CallbackErrors, _check
from .events import Frame, _copy_frame

__all__ = ["EncodedFrame", "Encoder", "BuiltinEncoder"]


@dataclass(frozen=True)
class EncodedFrame:
    """What an :class:`Encoder` produced: H.264 Annex B ``data`` (empty:
    the frame is skipped) and whether it decodes without earlier frames."""

    data: bytes
    keyframe: bool = False


class Encoder:
    """An encoder written in Python (override :meth:`encode`). Called on the
    library's capture thread, one call at a time. An exception is logged,
    answered with ``Result.BACKEND`` (the host gets a ``BACKEND_ERROR``
    event; the engine then asks for a keyframe) and raised as
    :class:`ra.CallbackError` by the host's next call."""

    def encode(self, frame: Frame, force_keyframe: bool) -> Optional[EncodedFrame]:
        """Compresses ``frame`` (its pixels copied for you, rows packed), as
        a keyframe if ``force_keyframe``; None skips the frame."""
        raise NotImplementedError

    def set_bitrate(self, bits_per_second: int) -> None:
        """The rate controller's target (a hint)."""


class BuiltinEncoder(Enum):
    """The library's own encoders (``encoder=`` of :meth:`ra.Host.invite`)."""

    OPENH264 = "openh264"
    """OpenH264 (the default)."""

    def _apply(self, backends: ctypes.c_void_p) -> None:
        _check(n.lib.ra_host_backends_use_openh264_encoder(backends))


class _EncoderBridge:
    """Keeps a Python encoder, its trampolines and its last output (which
    the library reads until the next call) alive until destroy."""

    live: Set["_EncoderBridge"] = set()
    lock = threading.Lock()

    def __init__(self, encoder: Encoder, errors: _CallbackErrors) -> None:
        self.encoder = encoder
        self.errors = errors
        self.name = type(encoder).__name__
        self.output: Optional[bytes] = None
        self.table = n.EncoderCallbacks(None, n.ENCODE(self._encode),
                                        n.SET_BITRATE(self._set_bitrate),
                                        n.DESTROY(self._destroy))
        with self.lock:
            self.live.add(self)

    def _encode(self, _user_data: object, frame: "ctypes._Pointer[n.FrameData]",
                force_keyframe: int, out: "ctypes._Pointer[n.EncodedFrame]") -> int:
        try:
            encoded = self.encoder.encode(_copy_frame(frame.contents), bool(force_keyframe))
            data = bytes(encoded.data) if encoded is not None else b""
            self.output = data  # valid until the next call, as the library requires
            o = out.contents
            o.data = ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value if data else None
            o.len = len(data)
            o.keyframe = int(bool(encoded is not None and encoded.keyframe))
            return Result.OK
        except BaseException as error:  # nothing may escape into C
            self.errors.add(f"{self.name}.encode", error)
            return Result.BACKEND

    def _set_bitrate(self, _user_data: object, bits_per_second: int) -> None:
        try:
            self.encoder.set_bitrate(bits_per_second)
        except BaseException as error:
            self.errors.add(f"{self.name}.set_bitrate", error)

    def _destroy(self, _user_data: object) -> None:
        with self.lock:
            self.live.discard(self)

    def install(self, backends: ctypes.c_void_p) -> None:
        result = n.lib.ra_host_backends_set_encoder(backends, ctypes.byref(self.table))
        if result != Result.OK:
            self._destroy(None)  # ownership stays here on failure
            _check(result)
