"""The rest of the C API through the binding, each with a real effect:
result messages, policy files, the invitation's forms and addresses, the
accept connect timeout, closing the invitation, the audit log, the helper's
pointer mark, statistics, the built-in injectors and encoder, event
callbacks and frames copied out of the library."""

import json
import queue
import time
import urllib.parse

import pytest

import ra
from kit import WAIT, connect, eventually, first_frame, free_udp_port, wait_for

# A documentation address (RFC 5737): nothing answers there.
NOWHERE = "192.0.2.1:4444"


def test_result_messages():
    assert ra.result_message(ra.Result.WRONG_PASSWORD) == "wrong password"
    assert ra.result_name(ra.Result.WRONG_PASSWORD) == "RA_RESULT_WRONG_PASSWORD"
    assert ra.result_message(12345) == "unknown result code"
    with pytest.raises(ra.Error) as caught:
        ra.Invitation.from_token("not a token")
    assert caught.value.summary == ra.result_message(ra.Result.INVALID_INVITATION)


def test_policy_from_a_file(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text("allow_clipboard = true\nallow_control = false\n")
    with ra.Policy.load(path) as policy:
        settings = policy.settings
        assert settings.allow_clipboard and not settings.allow_control
        assert "allow_clipboard = true" in policy.to_toml()
    with pytest.raises(ra.Error) as caught:
        ra.Policy.load(tmp_path / "missing.toml")
    assert caught.value.code == ra.Result.IO
    (tmp_path / "bad.toml").write_text("allow_everything = 1\n")
    with pytest.raises(ra.Error) as caught:
        ra.Policy.load(tmp_path / "bad.toml")
    assert caught.value.code == ra.Result.INVALID_POLICY


def test_the_forms_of_an_invitation(tmp_path):
    with ra.Host.invite(host_name="Forms host", listen="127.0.0.1:0",
                        synthetic_size=(64, 64)) as host:
        invitation = host.invitation
        token = invitation.token
        text = invitation.to_file_string()
        assert text.splitlines()[2] == "ra-invitation: 1"
        assert f"address: 127.0.0.1:{host.port}" in text
        invitation.save(tmp_path / "help.rainv")
        assert (tmp_path / "help.rainv").read_text() == text
        assert ra.Invitation.parse(text).token == token
        assert ra.Invitation.parse(text.encode()).token == token
        assert ra.Invitation.load(tmp_path / "help.rainv").token == token
        with pytest.raises(ra.Error) as caught:
            ra.Invitation.parse(b"ra-invitation: 1\n")
        assert caught.value.code == ra.Result.INVALID_INVITATION

        info = invitation.info
        assert info.host_name == "Forms host" and info.address_count == 1
        assert len(info.session_id) == 32 and info.session_id in text
        assert info.created_at < info.expires_at

        link = invitation.mailto(["alice@example.com", "bob@example.com"])
        assert link.startswith("mailto:alice@example.com,bob@example.com?")
        assert token in urllib.parse.unquote(link)
        assert ra.Invitation.parse(text).mailto().startswith("mailto:?")
        eml = invitation.email("host@example.com", ["alice@example.com"], "Help me")
        assert "Subject: Help me" in eml


def test_addresses_and_the_connect_timeout():
    port = free_udp_port()
    # The invitation lists a dead address first, then the real one: with a
    # short connect timeout the helper moves on to the second in time.
    with ra.Host.invite(listen=f"127.0.0.1:{port}", synthetic_size=(64, 64),
                        addresses=[NOWHERE, f"127.0.0.1:{port}"]) as host:
        invitation = host.invitation
        assert invitation.info.address_count == 2
        lines = invitation.to_file_string().splitlines()
        assert [x for x in lines if x.startswith("address: ")] == [
            f"address: {NOWHERE}", f"address: 127.0.0.1:{port}"]
        start = time.monotonic()
        helper, _ = connect(host, connect_timeout=0.3)
        elapsed = time.monotonic() - start
        with helper:
            assert helper.host_name == "ra host"
        assert 0.3 <= elapsed < 10, elapsed
    # Only the dead address: the helper gives up after about the timeout.
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64),
                        addresses=[NOWHERE]) as host:
        start = time.monotonic()
        with pytest.raises(ra.Error) as caught:
            ra.Helper.accept(host.invitation, host.password, connect_timeout=0.3)
        assert caught.value.code == ra.Result.UNREACHABLE
        assert NOWHERE in caught.value.message
        assert time.monotonic() - start < 10
    with pytest.raises(ra.Error) as caught:
        ra.Helper.accept(ra.Invitation.parse(lines_to_text(lines)), "x", connect_timeout=0)
    assert caught.value.code == ra.Result.INVALID_ARGUMENT


def lines_to_text(lines):
    return "\n".join(lines) + "\n"


def test_a_closed_invitation_lets_nobody_in():
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64)) as host:
        events = host.events(timeout=WAIT)
        host.close_invitation()
        closed = wait_for(events, ra.HostEventKind.INVITATION_CLOSED)
        assert closed.reason_name == "closed_by_host"
        with pytest.raises(ra.Error) as caught:
            ra.Helper.accept(host.invitation, host.password, connect_timeout=5)
        assert caught.value.code == ra.Result.INVITATION_CLOSED


def test_the_audit_log(tmp_path):
    audit = tmp_path / "audit.jsonl"
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64), audit_log=audit) as host:
        session_id = host.invitation.info.session_id
        helper, events = connect(host, name="Audited helper")
        with helper:
            helper.end()
            wait_for(events, ra.HostEventKind.ENDED)
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    kinds = [r["event"] for r in records]
    assert kinds[0] == "invitation_opened"
    assert "connection_request" in kinds and "approved" in kinds and "ended" in kinds
    assert all(r["session_id"] == session_id for r in records)
    assert any(r.get("helper") == "Audited helper" for r in records)


def test_the_helpers_pointer_mark():
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64)) as host:
        helper, events = connect(host)
        with helper:
            helper.pointer(10, 20, ra.PointerKind.CLICK)
            mark = wait_for(events, ra.HostEventKind.POINTER)
            assert (mark.x, mark.y, mark.pointer_kind) == (10, 20, ra.PointerKind.CLICK)
            helper.pointer(0, 0, ra.PointerKind.HIDE)
            assert wait_for(events, ra.HostEventKind.POINTER).pointer_kind == ra.PointerKind.HIDE
            with pytest.raises(ra.Error) as caught:
                helper.pointer(1, 1, 99)
            assert caught.value.code == ra.Result.INVALID_ARGUMENT


def test_statistics_and_frames_copied():
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(96, 64),
                        encoder=ra.BuiltinEncoder.OPENH264) as host:
        helper, _ = connect(host)
        with helper:
            frame = first_frame(helper)
            assert (frame.width, frame.height, frame.stride) == (96, 64, 96 * 4)
            assert len(frame.data) == 96 * 4 * 64
            assert frame.damage and frame.seq >= 0
            # The library counts a frame as decoded just after handing it
            # over, so the count may trail the event by a moment.
            helper_stats = eventually(
                lambda: (lambda s: s if s.frames_decoded >= 1 else None)(helper.stats()),
                what="frames_decoded >= 1")
            assert isinstance(helper_stats, ra.SessionStats)
            assert helper_stats.bytes_received > 0
            assert helper_stats.decode_time_mean > 0
            host_stats = eventually(lambda: (lambda s: s if s.rtt > 0 else None)(host.stats()),
                                    what="a round trip")
            assert host_stats.frames_sent >= 1 and host_stats.bytes_sent > 0
            assert 0 < host_stats.rtt < 0.5 and host_stats.target_bitrate > 0
            assert host_stats.encode_time_mean > 0
            with pytest.raises(AttributeError):
                host_stats.rtt = 1.0  # frozen


def test_the_log_injector_prints_input(capfd):
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64),
                        injector=ra.BuiltinInjector.LOG) as host:
        helper, events = connect(host)
        with helper:
            helper.request_control()
            host.grant_control(wait_for(events, ra.HostEventKind.CONTROL_REQUESTED).connection)
            wait_for(helper.events(timeout=WAIT), ra.HelperEventKind.CONTROL_GRANTED)
            helper.send_input([ra.PointerMove(31, 17), ra.Text("hi")])
            eventually(lambda: host.stats().input_events_injected >= 2, what="injected input")
    printed = [json.loads(line) for line in capfd.readouterr().out.splitlines()
               if line.startswith("{")]
    assert any(p.get("x") == 31 and p.get("y") == 17 for p in printed), printed
    assert any(p.get("text") == "hi" for p in printed), printed


def test_the_null_injector_drops_input(capfd):
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64),
                        injector=ra.BuiltinInjector.NULL) as host:
        helper, events = connect(host)
        with helper:
            helper.request_control()
            host.grant_control(wait_for(events, ra.HostEventKind.CONTROL_REQUESTED).connection)
            wait_for(helper.events(timeout=WAIT), ra.HelperEventKind.CONTROL_GRANTED)
            helper.send_input([ra.PointerMove(31, 17)])
            assert helper.stats().input_events_sent == 1
            eventually(lambda: host.stats().input_events_injected >= 1, what="dropped input")
    assert '"x":31' not in capfd.readouterr().out.replace(" ", "")


def test_event_callbacks():
    host_events: "queue.Queue[ra.HostEvent]" = queue.Queue()
    helper_events: "queue.Queue[ra.HelperEvent]" = queue.Queue()
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(80, 48)) as host:

        def on_host_event(event: ra.HostEvent) -> None:
            if event.kind == ra.HostEventKind.CONNECTION_REQUEST:
                host.approve(event.connection)  # from the host's own thread
            host_events.put(event)

        host.set_event_callback(on_host_event)
        with pytest.raises(ra.Error) as caught:
            host.next_event(0)  # polling is refused meanwhile
        assert caught.value.code == ra.Result.INVALID_STATE
        with ra.Helper.accept(host.invitation, host.password, name="Callback helper") as helper:
            request = host_events.get(timeout=WAIT)
            while request.kind != ra.HostEventKind.CONNECTION_REQUEST:
                request = host_events.get(timeout=WAIT)
            assert request.helper_name == "Callback helper"

            helper.set_event_callback(helper_events.put)
            event = helper_events.get(timeout=WAIT)
            while event.kind != ra.HelperEventKind.FRAME:
                event = helper_events.get(timeout=WAIT)
            assert (event.frame.width, event.frame.height) == (80, 48)
            assert len(event.frame.data) == 80 * 48 * 4  # copied out of the lent frame

            helper.chat("over the callback")
            chat = host_events.get(timeout=WAIT)
            while chat.kind != ra.HostEventKind.CHAT:
                chat = host_events.get(timeout=WAIT)
            assert chat.text == "over the callback"

            # Back to polling.
            helper.set_event_callback(None)
            host.set_event_callback(None)
            helper.chat("polled")
            assert wait_for(host.events(timeout=WAIT), ra.HostEventKind.CHAT).text == "polled"
            host.chat("to the helper")
            assert wait_for(helper.events(timeout=WAIT), ra.HelperEventKind.CHAT).text == \
                "to the helper"
