"""An outage as the Python bindings report it: the path between host and
helper goes dark (a relay in the test stops passing datagrams), both sides
get ``CONNECTION_INTERRUPTED``, and once it passes them again
``CONNECTION_RESTORED`` with how long it was silent; the session goes on."""

from __future__ import annotations

import socket
import threading
from typing import Optional, Tuple

import ra
from kit import connect, free_udp_port, wait_for


class DarkRelay:
    """Relays datagrams between one client and ``127.0.0.1:target`` while
    :attr:`dark` is clear; its threads stop on :meth:`close`."""

    def __init__(self, target: int) -> None:
        self.dark = threading.Event()
        self._stop = threading.Event()
        self._client: Optional[Tuple[str, int]] = None
        self._front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._front.bind(("127.0.0.1", 0))
        self._back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._back.bind(("127.0.0.1", 0))
        self._back.connect(("127.0.0.1", target))
        for s in (self._front, self._back):
            s.settimeout(0.1)
        self._threads = [threading.Thread(target=self._up), threading.Thread(target=self._down)]
        for thread in self._threads:
            thread.start()

    @property
    def address(self) -> str:
        host, port = self._front.getsockname()
        return f"{host}:{port}"

    def _up(self) -> None:
        while not self._stop.is_set():
            try:
                data, self._client = self._front.recvfrom(65536)
            except OSError:
                continue
            if not self.dark.is_set():
                self._back.send(data)

    def _down(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._back.recv(65536)
            except OSError:
                continue
            if self._client is not None and not self.dark.is_set():
                self._front.sendto(data, self._client)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._front.close()
        self._back.close()


def test_an_outage_is_told_both_sides_and_the_session_goes_on():
    port = free_udp_port()
    relay = DarkRelay(port)
    try:
        with ra.Host.invite(listen=f"127.0.0.1:{port}", addresses=[relay.address],
                            synthetic_size=(160, 120)) as host:
            helper, events = connect(host)
            with helper:
                helper_events = helper.events(timeout=30)
                wait_for(helper_events, ra.HelperEventKind.FRAME)
                relay.dark.set()
                wait_for(events, ra.HostEventKind.CONNECTION_INTERRUPTED)
                wait_for(helper_events, ra.HelperEventKind.CONNECTION_INTERRUPTED)
                relay.dark.clear()
                restored = wait_for(events, ra.HostEventKind.CONNECTION_RESTORED)
                assert restored.silent_for >= 3, restored
                back = wait_for(helper_events, ra.HelperEventKind.CONNECTION_RESTORED)
                assert back.silent_for >= 3, back
                # Video resumes, and the session still takes commands.
                wait_for(helper_events, ra.HelperEventKind.FRAME)
                helper.chat("still here")
                assert wait_for(events, ra.HostEventKind.CHAT).text == "still here"
    finally:
        relay.close()
