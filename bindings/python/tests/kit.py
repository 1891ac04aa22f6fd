"""What the tests share: waiting for events with a deadline, letting a
helper in, a free port, and a log recorder."""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable, Iterable, List, Optional, Tuple, TypeVar

import ra

T = TypeVar("T")
WAIT = 30.0
"""Seconds any one wait may take before the test fails."""


def wait_for(events: Iterable[T], kind: object) -> T:
    """The first event of ``kind`` (the iterator's timeout bounds the wait)."""
    for event in events:
        if event.kind == kind:  # type: ignore[attr-defined]
            return event
    raise AssertionError(f"the events ended before {kind!r}")


def connect(host: ra.Host, name: str = "Python helper", **options: object):
    """A helper let into ``host``'s invitation, and the host's events."""
    events = host.events(timeout=WAIT)
    accepted = {}
    token = host.invitation.token
    password = host.password

    def accept() -> None:
        try:
            accepted["helper"] = ra.Helper.accept(ra.Invitation.from_token(token), password,
                                                  name=name, **options)
        except BaseException as error:  # reported by the test's thread
            accepted["error"] = error

    thread = threading.Thread(target=accept)
    thread.start()
    host.approve(wait_for(events, ra.HostEventKind.CONNECTION_REQUEST).connection)
    thread.join(WAIT)
    if "error" in accepted:
        raise accepted["error"]
    return accepted["helper"], events


def eventually(predicate: Callable[[], T], timeout: float = WAIT, what: str = "") -> T:
    """Polls ``predicate`` (a figure the library only exposes by polling,
    such as the statistics) until it is true, failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    gate = threading.Event()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what or predicate}")
        gate.wait(0.02)


def free_udp_port() -> int:
    """A UDP port on loopback nobody uses right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LogRecorder:
    """The library's log lines, as the log callback receives them."""

    def __init__(self) -> None:
        self.lines: List[Tuple[ra.LogLevel, str, str]] = []
        self.lock = threading.Condition()

    def __call__(self, level: ra.LogLevel, target: str, message: str) -> None:
        with self.lock:
            self.lines.append((level, target, message))
            self.lock.notify_all()

    def matching(self, target: str, text: str) -> List[Tuple[ra.LogLevel, str, str]]:
        with self.lock:
            return [line for line in self.lines if line[1] == target and text in line[2]]

    def wait(self, target: str, text: str, timeout: float = WAIT) -> Tuple[ra.LogLevel, str, str]:
        with self.lock:
            assert self.lock.wait_for(lambda: any(
                line[1] == target and text in line[2] for line in self.lines), timeout), \
                f"no log line from {target} with {text!r}"
        return self.matching(target, text)[0]


def first_frame(helper: ra.Helper) -> ra.Frame:
    frame: Optional[ra.Frame] = wait_for(helper.events(timeout=WAIT),
                                         ra.HelperEventKind.FRAME).frame
    assert frame is not None
    return frame
