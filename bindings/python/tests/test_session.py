"""The Python bindings end to end over loopback, and errors as exceptions.

The short-code tests use the ra-broker that ``ra-ffi/tests/run.sh`` starts
(``RA_TEST_BROKER``, ``RA_TEST_BROKER_FINGERPRINT``)."""

import os
import json
import subprocess
import socket
import threading

import pytest

import ra


def wait_for(events, kind):
    for event in events:
        if event.kind == kind:
            return event
    raise AssertionError(f"the events ended before {kind!r}")


class Recorder(ra.Injector):
    def __init__(self):
        self.events = []
        self.releases = 0
        self.changed = threading.Condition()

    def inject(self, event):
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def release_all(self):
        with self.changed:
            self.releases += 1
            self.changed.notify_all()

    def wait(self, predicate):
        with self.changed:
            assert self.changed.wait_for(predicate, timeout=30)


def test_errors_carry_code_and_message():
    with pytest.raises(ra.Error) as caught:
        ra.Invitation.from_token("not a token")
    assert caught.value.code == ra.Result.INVALID_INVITATION
    assert caught.value.name == "RA_RESULT_INVALID_INVITATION"
    assert "ra1-" in caught.value.message
    with pytest.raises(ra.Error) as caught:
        ra.Policy("no_such_key = 1")
    assert caught.value.code == ra.Result.INVALID_POLICY
    assert "no_such_key" in str(caught.value)


def test_result_numbers_match_the_library():
    for code in ra.Result:
        assert ra._native.lib.ra_result_name(code).decode() == "RA_RESULT_" + code.name


def test_policy_round_trip():
    with ra.Policy() as policy:
        settings = policy.settings
        assert settings.allow_control
        settings.allow_control = False
        policy.settings = settings
        assert "allow_control = false" in policy.to_toml()


def test_panic_becomes_an_error():
    assert ra._native.lib.ra_debug_inject_panic(1) == 0
    with pytest.raises(ra.Error) as caught:
        ra.Policy()
    assert caught.value.code == ra.Result.PANIC


def test_the_desk_is_the_librarys():
    with pytest.raises(ra.Error) as caught:
        ra.Host.invite(listen="127.0.0.1:0", desk=ra.Desk(panic_key="ctrl+alt"))
    assert caught.value.code == ra.Result.INVALID_ARGUMENT
    # Nobody serves this display: the session cannot start, and says why.
    nowhere = ra.Desk(display=":4095", panic_key="ctrl+alt+pause", local_user_wins_ms=1500,
                      clipboard=True)
    with pytest.raises(ra.Error) as caught:
        ra.Host.invite(listen="127.0.0.1:0", desk=nowhere)
    assert caught.value.code == ra.Result.BACKEND
    assert "panic key" in caught.value.message
    with pytest.raises(ra.Error) as caught:
        ra.Host.invite(listen="127.0.0.1:0", screen=ra.Screen(display=":4095", inject_input=True))
    assert caught.value.code == ra.Result.BACKEND
    assert "cannot capture the screen" in caught.value.message


def test_session_end_to_end():
    recorder = Recorder()
    with ra.Host.invite(host_name="Python host", listen="127.0.0.1:0",
                        synthetic_size=(320, 240), injector=recorder) as host:
        token = host.invitation.token
        with pytest.raises(ra.Error) as caught:
            ra.Helper.accept(ra.Invitation.from_token(token), "AAAA-AAAA-AAAA0")
        assert caught.value.code == ra.Result.WRONG_PASSWORD
        events = host.events(timeout=30)
        assert wait_for(events, ra.HostEventKind.AUTH_FAILED).attempts == 1

        accepted = {}
        thread = threading.Thread(target=lambda: accepted.update(
            helper=ra.Helper.accept(ra.Invitation.from_token(token), host.password,
                                    name="Python helper")))
        thread.start()
        request = wait_for(events, ra.HostEventKind.CONNECTION_REQUEST)
        assert request.helper_name == "Python helper"
        host.approve(request.connection)
        thread.join(30)
        with accepted["helper"] as helper:
            assert helper.host_name == "Python host"
            helper_events = helper.events(timeout=30)
            frame = wait_for(helper_events, ra.HelperEventKind.FRAME).frame
            assert (frame.width, frame.height) == (320, 240)
            assert len(frame.data) >= frame.stride * 239 + 320 * 4
            assert frame.damage

            helper.request_control()
            asked = wait_for(events, ra.HostEventKind.CONTROL_REQUESTED)
            host.grant_control(asked.connection)
            wait_for(helper_events, ra.HelperEventKind.CONTROL_GRANTED)
            assert helper.control == ra.Control.GRANTED
            helper.send_input([ra.PointerMove(7, 8), ra.Key("a", True), ra.Text("héllo")])
            recorder.wait(lambda: len(recorder.events) >= 3)
            assert recorder.events[0].x == 7 and recorder.events[0].y == 8
            assert recorder.events[1].key == ra.key_code("a") and recorder.events[1].pressed
            assert recorder.events[2].text == "héllo"

            # The local user is busy: what the helper holds is released.
            host.local_input_seen(60_000)
            recorder.wait(lambda: recorder.releases >= 1)
            host.revoke_panic_key()
            revoked = wait_for(helper_events, ra.HelperEventKind.CONTROL_REVOKED)
            assert revoked.reason_name == "panic_key"
            recorder.wait(lambda: recorder.releases >= 2)
            with pytest.raises(ra.Error) as caught:
                helper.send_input([ra.PointerMove(1, 1)])
            assert caught.value.code == ra.Result.NOT_CONTROLLING

            helper.chat("thanks")
            assert wait_for(events, ra.HostEventKind.CHAT).text == "thanks"
            host.end()
            # Both sides get the session's consent receipt, the same one,
            # signed by the host (no identity here to countersign it).
            receipt = wait_for(helper_events, ra.HelperEventKind.RECEIPT)
            assert receipt.text.startswith('{"receipt":"ra-consent-receipt-1"')
            assert not receipt.countersigned
            assert json.loads(receipt.text)["body"]["end_reason"] == "host_ended"
            ended = wait_for(helper_events, ra.HelperEventKind.ENDED)
            assert ended.reason_name == "host_ended"
            assert list(helper_events) is not None  # drains to CLOSED without raising
            host_receipt = wait_for(events, ra.HostEventKind.RECEIPT)
            assert host_receipt.text == receipt.text and not host_receipt.countersigned
            assert wait_for(events, ra.HostEventKind.ENDED).reason_name == "host_ended"


class StillScreen(ra.Capturer):
    """A solid-colour screen that only changes when asked to, and a pointer
    the test moves."""

    def __init__(self, width, height):
        self.picture = ra.CapturedFrame(width, height, bytes([40, 120, 200, 255]) * (width * height))
        self.lock = threading.Lock()
        self.changed = threading.Event()
        self.dirty = True
        self.pointer = None

    def next_frame(self, timeout):
        self.changed.wait(timeout)
        with self.lock:
            self.changed.clear()
            if self.dirty:
                self.dirty = False
                return self.picture
        return None

    def invalidate(self):
        with self.lock:
            self.dirty = True
        self.changed.set()

    def cursor(self):
        with self.lock:
            pointer, self.pointer = self.pointer, None
        return pointer

    def move(self, update):
        with self.lock:
            self.pointer = update
        self.changed.set()


def connect(host, name="Python helper"):
    """A helper let into ``host``'s invitation, and the host's events."""
    events = host.events(timeout=30)
    accepted = {}
    token = host.invitation.token
    password = host.password
    thread = threading.Thread(target=lambda: accepted.update(
        helper=ra.Helper.accept(ra.Invitation.from_token(token), password, name=name)))
    thread.start()
    host.approve(wait_for(events, ra.HostEventKind.CONNECTION_REQUEST).connection)
    thread.join(30)
    return accepted["helper"], events


def test_cursor_from_a_python_capturer():
    screen = StillScreen(160, 120)
    with ra.Host.invite(host_name="pointer host", listen="127.0.0.1:0", capturer=screen) as host:
        helper, _ = connect(host)
        with helper:
            helper_events = helper.events(timeout=30)
            frame = wait_for(helper_events, ra.HelperEventKind.FRAME).frame
            assert (frame.width, frame.height) == (160, 120)
            shape = ra.CursorShape(4, 3, 1, 2, bytes(range(4 * 3 * 4)))
            screen.move(ra.CursorUpdate(33, 44, True, shape))
            cursor = wait_for(helper_events, ra.HelperEventKind.CURSOR).cursor
            assert (cursor.x, cursor.y, cursor.visible) == (33, 44, True)
            assert cursor.shape == shape
            screen.move(ra.CursorUpdate(34, 45, False))
            moved = wait_for(helper_events, ra.HelperEventKind.CURSOR).cursor
            assert (moved.x, moved.y, moved.visible, moved.shape) == (34, 45, False, None)


def test_clipboard_both_ways():
    with ra.Host.invite(host_name="clipboard host", listen="127.0.0.1:0",
                        synthetic_size=(160, 120),
                        policy=ra.Policy("allow_clipboard = true")) as host:
        helper, events = connect(host)
        with helper:
            helper_events = helper.events(timeout=30)
            with pytest.raises(ra.Error) as caught:
                helper.send_clipboard("too early")
            assert caught.value.code == ra.Result.NOT_NOW
            host.set_clipboard_sharing(True)
            assert wait_for(events, ra.HostEventKind.CLIPBOARD_SHARING).enabled
            assert wait_for(helper_events, ra.HelperEventKind.CLIPBOARD_SHARING).enabled
            host.send_clipboard("from the host ✓")
            assert wait_for(helper_events, ra.HelperEventKind.CLIPBOARD).text == "from the host ✓"
            helper.send_clipboard("from the helper")
            assert wait_for(events, ra.HostEventKind.CLIPBOARD).text == "from the helper"
            with pytest.raises(ra.Error) as caught:
                host.send_clipboard("x" * (ra.MAX_CLIPBOARD_BYTES + 1))
            assert caught.value.code == ra.Result.INVALID_ARGUMENT
            # A policy without the clipboard stops the sharing, and refuses it.
            host.set_policy(ra.Policy())
            assert not wait_for(events, ra.HostEventKind.CLIPBOARD_SHARING).enabled
            assert not wait_for(helper_events, ra.HelperEventKind.CLIPBOARD_SHARING).enabled
            with pytest.raises(ra.Error) as caught:
                host.set_clipboard_sharing(True)
            assert caught.value.code == ra.Result.POLICY


@pytest.fixture
def broker():
    address = os.environ.get("RA_TEST_BROKER")
    fingerprint = os.environ.get("RA_TEST_BROKER_FINGERPRINT")
    if not address or not fingerprint:
        pytest.fail("RA_TEST_BROKER and RA_TEST_BROKER_FINGERPRINT are not set: run the tests "
                    "through ra-ffi/tests/run.sh, which starts ra-broker")
    with ra.BrokerOptions(address, fingerprint, bind="127.0.0.1:0") as options:
        yield options


def test_diagnose_the_network(broker):
    diagnosis = broker.diagnose()
    assert diagnosis.ok and diagnosis.verdict.startswith("ready: ")
    assert any(c.name == "broker" and c.ok for c in diagnosis.checks)


def test_code_errors(broker):
    with pytest.raises(ra.Error) as caught:
        ra.Helper.easy_connect(broker, "7G2-KXW")
    assert caught.value.code == ra.Result.INVALID_CODE
    with pytest.raises(ra.Error) as caught:
        ra.Helper.easy_connect(broker, "000-000-000-000")
    assert caught.value.code == ra.Result.CODE_UNAVAILABLE
    with pytest.raises(ra.Error) as caught:
        ra.BrokerOptions("127.0.0.1:1", "sha256:nothex")
    assert caught.value.code == ra.Result.INVALID_ARGUMENT
    with ra.BrokerOptions("127.0.0.1:1") as unpinned:
        with pytest.raises(ra.Error) as caught:
            ra.Helper.assist(unpinned)
        assert caught.value.code == ra.Result.INVALID_ARGUMENT


def test_easy_connect(broker):
    with ra.Host.easy_connect(broker, host_name="Python EC host",
                              synthetic_size=(160, 120)) as host:
        info = host.code_info
        assert len(info.code) == 15 and info.path == ra.Path.UNKNOWN
        with pytest.raises(ra.Error) as caught:
            host.password
        assert caught.value.code == ra.Result.INVALID_STATE
        events = host.events(timeout=30)
        accepted = {}
        typed = info.code.lower().replace("-", " ")
        thread = threading.Thread(target=lambda: accepted.update(
            helper=ra.Helper.easy_connect(broker, typed, name="Python code helper")))
        thread.start()
        request = wait_for(events, ra.HostEventKind.CONNECTION_REQUEST)
        assert request.helper_name == "Python code helper"
        host.approve(request.connection)
        thread.join(30)
        with accepted["helper"] as helper:
            assert helper.host_name == "Python EC host"
            assert helper.path == ra.Path.DIRECT
            helper_events = helper.events(timeout=30)
            assert wait_for(helper_events, ra.HelperEventKind.FRAME).frame.width == 160
            helper.end()
            assert wait_for(events, ra.HostEventKind.ENDED).reason_name == "helper_ended"


def test_an_invitation_nobody_can_reach_goes_through_its_rendezvous(broker):
    # The invitation's one address answers nothing (as behind a NAT).
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    dead = "127.0.0.1:%d" % silent.getsockname()[1]
    with silent, ra.Host.invite(host_name="Python NAT host", listen="127.0.0.1:0",
                                addresses=[dead], synthetic_size=(160, 120),
                                rendezvous=broker) as host:
        invitation = ra.Invitation.from_token(host.invitation.token)
        events = host.events(timeout=30)
        accepted = {}
        thread = threading.Thread(target=lambda: accepted.update(helper=ra.Helper.accept(
            invitation, host.password, name="Python far helper", connect_timeout=0.5)))
        thread.start()
        request = wait_for(events, ra.HostEventKind.CONNECTION_REQUEST)
        assert request.helper_name == "Python far helper"
        host.approve(request.connection)
        thread.join(30)
        with accepted["helper"] as helper:
            helper_events = helper.events(timeout=30)
            assert wait_for(helper_events, ra.HelperEventKind.FRAME).frame.width == 160


def test_quick_assist(broker):
    with ra.Helper.assist(broker, name="Python assistant") as offer:
        info = offer.code_info
        assert len(info.code) == 15
        assert offer.wait(0) is None
        with ra.Host.join(broker, info.code, host_name="Python joining host",
                          synthetic_size=(160, 120)) as host:
            assert host.code_info.code == info.code
            assert host.code_info.path == ra.Path.DIRECT
            events = host.events(timeout=30)
            request = wait_for(events, ra.HostEventKind.CONNECTION_REQUEST)
            assert request.helper_name == "Python assistant"
            host.approve(request.connection)
            with offer.wait(30) as helper:
                assert helper.path == ra.Path.DIRECT
                helper_events = helper.events(timeout=30)
                assert wait_for(helper_events, ra.HelperEventKind.FRAME).frame.height == 120
                host.end()
                ended = wait_for(helper_events, ra.HelperEventKind.ENDED)
                assert ended.reason_name == "host_ended"
            with pytest.raises(ra.Error) as caught:
                offer.wait(0)
            assert caught.value.code == ra.Result.INVALID_STATE



def test_only_the_displays_the_policy_allows_are_shared():
    """The synthetic host has displays 0 and 1; the policy shares display 1:
    the helper is shown that one alone, asking for 0 is refused and the
    host told, asking for 1 is obeyed and told."""
    policy = ra.Policy("allowed_displays = [1]\n")
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 48), policy=policy) as host:
        helper, events = connect(host)
        with helper:
            helper_events = helper.events(timeout=30)
            shown = wait_for(helper_events, ra.HelperEventKind.DISPLAYS)
            assert [d.id for d in shown.displays] == [1] and shown.selected_display == 1
            helper.select_display(0)
            refused = wait_for(events, ra.HostEventKind.DISPLAY_REFUSED)
            assert refused.display == 0
            helper.select_display(1)
            assert wait_for(events, ra.HostEventKind.DISPLAY_SELECTED).display == 1
            # A redaction mask on display 1 (which starts at x = 64): the
            # helper is told where it lies in its picture; then unmasked.
            host.set_redactions([(74, 10, 20, 16)])
            changed = wait_for(events, ra.HostEventKind.REDACTIONS_CHANGED)
            assert changed.redactions == [(74, 10, 20, 16)] and changed.text == ""
            mask = wait_for(helper_events, ra.HelperEventKind.REDACTIONS)
            assert mask.redactions == [(10, 10, 20, 16)]
            with pytest.raises(ra.Error) as caught:
                host.set_redactions([(0, 0, 0, 1)])
            assert caught.value.code == ra.Result.INVALID_ARGUMENT
            host.set_redactions([])
            assert wait_for(helper_events, ra.HelperEventKind.REDACTIONS).redactions == []
            with pytest.raises(ra.Error) as caught:
                host.set_redacted_windows([""])
            assert caught.value.code == ra.Result.INVALID_ARGUMENT
            host.set_redacted_windows([])


def test_a_scoped_time_boxed_grant_injects_only_its_scopes():
    recorder = Recorder()
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64),
                        injector=recorder) as host:
        helper, events = connect(host)
        with helper:
            helper.request_control_scopes(ra.Scope.POINTER)
            asked = wait_for(events, ra.HostEventKind.CONTROL_REQUESTED)
            assert asked.scopes == ra.Scope.POINTER
            host.grant_control_with(asked.connection, ra.Scope.ALL, duration=60)
            granted = wait_for(events, ra.HostEventKind.CONTROL_GRANTED)
            assert granted.scopes == ra.Scope.POINTER and granted.expires_at is not None
            mine = wait_for(helper.events(timeout=30), ra.HelperEventKind.CONTROL_GRANTED)
            assert mine.scopes == ra.Scope.POINTER and mine.expires_in == 60
            helper.send_input([ra.Text("rm -rf"), ra.PointerMove(5, 6)])
            recorder.wait(lambda: len(recorder.events) >= 1)
            # Ordered: once the move came, the text was dropped.
            assert [e.kind for e in recorder.events] == [ra.InputKind.POINTER_MOVE]
    assert "did not contact yourself" in ra.unverified_helper_warning()


def new_organisation(org, name, path):
    """A new organisation made with ra-org: its public key."""
    made = subprocess.run([org, "new", "--json", "--name", name, "--out", str(path)],
                          check=True, capture_output=True, text=True)
    return next(json.loads(line)["public_key"] for line in made.stdout.splitlines()
                if '"public_key"' in line)


def test_a_verified_helper_countersigns_the_receipt(tmp_path):
    """A helper with an identity from an organisation the host trusts is
    verified, gets a pointer-only grant, and both sides keep the same
    receipt, countersigned; ra.verify_receipt checks it against the
    invitation and the organisation and ra.verify_audit_log the host's log
    with it; altered, they are refused."""
    org = os.environ.get("RA_TEST_ORG")
    assert org, "RA_TEST_ORG (the ra-org program) is not set: run through ra-ffi/tests/run.sh"
    org_key = new_organisation(org, "Contoso IT", tmp_path / "org.key")
    other_key = new_organisation(org, "Elsewhere", tmp_path / "other.key")
    subprocess.run([org, "issue", "--org", str(tmp_path / "org.key"), "--helper", "Jane Doe",
                    "--out", str(tmp_path / "jane.raid")], check=True, capture_output=True)
    identity = (tmp_path / "jane.raid").read_text()
    policy = ra.Policy(f'trusted_orgs = ["{org_key}"]\n')
    log = tmp_path / "audit.log"
    with ra.Host.invite(listen="127.0.0.1:0", synthetic_size=(64, 64), policy=policy,
                        audit_log=log) as host:
        events = host.events(timeout=30)
        accepted = {}
        invitation, password = ra.Invitation.from_token(host.invitation.token), host.password
        thread = threading.Thread(target=lambda: accepted.update(
            helper=ra.Helper.accept(invitation, password, name="jane", identity=identity)))
        thread.start()
        request = wait_for(events, ra.HostEventKind.CONNECTION_REQUEST)
        assert request.verified is not None and request.verified.helper == "Jane Doe"
        host.approve(request.connection)
        thread.join(30)
        with accepted["helper"] as helper:
            helper_events = helper.events(timeout=30)
            helper.request_control_scopes(ra.Scope.POINTER | ra.Scope.KEYBOARD)
            asked = wait_for(events, ra.HostEventKind.CONTROL_REQUESTED)
            host.grant_control_with(asked.connection, ra.Scope.POINTER, duration=600)
            wait_for(helper_events, ra.HelperEventKind.CONTROL_GRANTED)
            host.end()
            mine = wait_for(helper_events, ra.HelperEventKind.RECEIPT)
            assert mine.countersigned
            theirs = wait_for(events, ra.HostEventKind.RECEIPT)
            assert theirs.countersigned and theirs.text == mine.text
            body = json.loads(theirs.text)["body"]
            assert "Jane Doe" in body["helper_identity"] and body["end_reason"] == "host_ended"
            wait_for(events, ra.HostEventKind.ENDED)
    receipt = theirs.text
    # The host is closed: its audit log is complete.
    report = ra.verify_receipt(receipt, invitation, org_key)
    assert report["verified"]["helper"] == "Jane Doe" and report["countersigned"]
    assert [(g["scopes"], g["ended"]) for g in report["grants"]] == [("pointer", "session_ended")]
    assert report["session_id"] == invitation.info.session_id
    middle = len(receipt) // 2
    altered = receipt[:middle] + ("B" if receipt[middle] == "A" else "A") + receipt[middle + 1:]
    with pytest.raises(ra.Error) as caught:
        ra.verify_receipt(altered)
    assert caught.value.code == ra.Result.INVALID_RECEIPT
    with pytest.raises(ra.Error) as caught:
        ra.verify_receipt(receipt, organisation_key=other_key)
    assert caught.value.code == ra.Result.INVALID_RECEIPT
    assert "not verified as one of" in str(caught.value)

    assert ra.verify_audit_log(log, receipt)["lines"] > 0
    text = log.read_text()
    cut = tmp_path / "cut.log"
    cut.write_text(text[:text.rindex("\n", 0, text.index('"event":"ended"')) + 1])
    ra.verify_audit_log(cut)
    with pytest.raises(ra.Error) as caught:
        ra.verify_audit_log(cut, receipt)
    assert caught.value.code == ra.Result.AUDIT_LOG_BROKEN
    assert "removed from its end" in str(caught.value)
    invitation.close()


def test_a_resume_ticket_is_offered_then_reopens_the_session_once(tmp_path):
    ticket, key = tmp_path / "session.ticket", bytes(range(32))
    with ra.Host.invite(host_name="resumable host", listen="127.0.0.1:0",
                        synthetic_size=(160, 120)) as host:
        helper, events = connect(host)
        with helper:
            helper_events = helper.events(timeout=30)
            # Off by default.
            with pytest.raises(ra.Error) as caught:
                host.issue_resume_ticket(key, 600, ticket)
            assert caught.value.code == ra.Result.POLICY
            tickets = ra.Policy("allow_resume_tickets = true")
            assert tickets.settings.allow_resume_tickets
            assert tickets.settings.max_resume_ticket_lifetime == 15 * 60
            host.set_policy(tickets)
            host.issue_resume_ticket(key, 600, ticket)
            offered = wait_for(helper_events, ra.HelperEventKind.RESUME_OFFERED)
            assert offered.expires_in == 600
            assert ticket.exists()
    # After a restart (no helper comes back here: it was told goodbye), once.
    policy = ra.Policy("allow_resume_tickets = true")
    with pytest.raises(ra.Error) as caught:
        ra.Host.resume_from_ticket(ticket, key[:16], policy)
    assert caught.value.code == ra.Result.INVALID_ARGUMENT
    with ra.Host.resume_from_ticket(ticket, key, policy, synthetic_size=(160, 120)) as reopened:
        with pytest.raises(ra.Error) as caught:
            reopened.invitation
        assert caught.value.code == ra.Result.INVALID_STATE
    with pytest.raises(ra.Error) as caught:
        ra.Host.resume_from_ticket(ticket, key, policy)
    assert caught.value.code == ra.Result.TICKET_USED
    assert "used already" in str(caught.value)
