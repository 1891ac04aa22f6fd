"""Both roles in one Python program: a host that approves the helper, a
helper that takes three frames and leaves.

    RA_LIBRARY=target/debug/libra_ffi.so python3 bindings/python/examples/two_roles.py
"""

import threading

import ra

with ra.Host.invite(host_name="Python example", listen="127.0.0.1:0") as host:
    print("password:", host.password)
    invitation = host.invitation

    def serve():
        for event in host.events():
            print("host:", event.description)
            if event.kind == ra.HostEventKind.CONNECTION_REQUEST:
                host.approve(event.connection)
            if event.kind == ra.HostEventKind.ENDED:
                return

    server = threading.Thread(target=serve)
    server.start()
    with ra.Helper.accept(invitation, host.password) as helper:
        frames = 0
        for event in helper.events(timeout=10):
            if event.frame:
                frames += 1
                print(f"helper: frame {event.frame.width}x{event.frame.height}")
                if frames == 3:
                    break
    server.join()
