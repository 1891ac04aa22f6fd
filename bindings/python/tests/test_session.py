"""The Python bindings end to end over loopback, and errors as exceptions."""

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

            host.revoke()
            revoked = wait_for(helper_events, ra.HelperEventKind.CONTROL_REVOKED)
            assert revoked.reason_name == "by_user"
            recorder.wait(lambda: recorder.releases >= 1)
            with pytest.raises(ra.Error) as caught:
                helper.send_input([ra.PointerMove(1, 1)])
            assert caught.value.code == ra.Result.NOT_CONTROLLING

            helper.chat("thanks")
            assert wait_for(events, ra.HostEventKind.CHAT).text == "thanks"
            host.end()
            ended = wait_for(helper_events, ra.HelperEventKind.ENDED)
            assert ended.reason_name == "host_ended"
            assert list(helper_events) is not None  # drains to CLOSED without raising
