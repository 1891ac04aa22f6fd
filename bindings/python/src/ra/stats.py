"""A session's statistics (:meth:`ra.Host.stats`, :meth:`ra.Helper.stats`)."""

from __future__ import annotations

import ctypes
from dataclasses import dataclass
from typing import Any, Callable

from . import _native as n
from ._common import _check

__all__ = ["SessionStats"]


@dataclass(frozen=True)
class SessionStats:
    """A session's statistics. Each side fills what it knows (the host its
    encoder, rate controller and injected input; the helper its decoder and
    the input it sent); what a side cannot know is 0. Counters only grow.
    Times are **float seconds** (``rtt``, ``encode_time_*``,
    ``decode_time_*``); rates per second."""

    rtt: float
    """Smoothed round-trip time to the peer, in seconds (0: no peer yet)."""
    packets_sent: int
    """UDP packets sent to the peer."""
    packets_lost: int
    """Of those, how many were lost."""
    loss: float
    """``packets_lost / packets_sent``, 0.0 to 1.0."""
    bytes_sent: int
    """UDP bytes sent to the peer."""
    bytes_received: int
    """UDP bytes received from the peer."""
    target_bitrate: int
    """Bits per second the rate controller asks of the encoder (the helper: as the last frame said)."""
    target_frame_rate: float
    """Frames per second the rate controller allows (the helper: as the last frame said)."""
    frames_sent: int
    """Host: frames put on the wire."""
    frames_decoded: int
    """Helper: frames decoded and handed to the application."""
    frames_dropped: int
    """Host: frames encoded but not delivered. Helper: frames that arrived but were not shown."""
    encode_time_last: float
    """Host: time to encode the last frame, in seconds."""
    encode_time_mean: float
    """Host: mean time to encode a frame, in seconds."""
    decode_time_last: float
    """Helper: time to decode the last frame, in seconds."""
    decode_time_mean: float
    """Helper: mean time to decode a frame, in seconds."""
    input_events_sent: int
    """Helper: input events sent."""
    input_events_injected: int
    """Host: input events injected."""
    input_events_held_back: int
    """Host: input events from the helper held back or dropped (no grant,
    paused, the local user busy, over the rate limit, invalid)."""
    messages_dropped: int = 0
    """Host: the helper's control messages dropped over their rate limits
    (chat, pointer marks, keyframe requests, display selections, clipboard,
    control requests). Helper: the host's display lists and pointer updates
    dropped over theirs."""
    events_dropped: int = 0
    """Events dropped because the application did not take them in time (at
    most 1024 wait; the oldest chat lines, pointer marks, clipboard texts,
    display lists, cursor updates and frames go first)."""


def _stats(function: Callable[..., int], pointer: Any) -> SessionStats:
    s = n.SessionStats()
    _check(function(pointer, ctypes.byref(s)))
    return SessionStats(
        rtt=s.rtt_us / 1e6, packets_sent=s.packets_sent, packets_lost=s.packets_lost,
        loss=s.loss, bytes_sent=s.bytes_sent, bytes_received=s.bytes_received,
        target_bitrate=s.target_bitrate, target_frame_rate=s.target_frame_rate,
        frames_sent=s.frames_sent, frames_decoded=s.frames_decoded,
        frames_dropped=s.frames_dropped, encode_time_last=s.encode_us_last / 1e6,
        encode_time_mean=s.encode_us_mean / 1e6, decode_time_last=s.decode_us_last / 1e6,
        decode_time_mean=s.decode_us_mean / 1e6, input_events_sent=s.input_events_sent,
        input_events_injected=s.input_events_injected,
        input_events_held_back=s.input_events_held_back,
        messages_dropped=s.messages_dropped, events_dropped=s.events_dropped)
