"""free_port (ops/rehearse/local_docker.py): a port below the kernel's ephemeral range, free now,
and another one when it is taken."""
from __future__ import annotations

import socket

from ops.rehearse import local_docker


def test_a_free_port_is_outside_the_ephemeral_range_and_bindable():
    port = local_docker.free_port()
    low, high = local_docker.PORT_RANGE
    ephemeral_low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    assert low <= port <= high < ephemeral_low
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_a_taken_port_is_never_given(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        taken.listen()
        monkeypatch.setattr(local_docker, "PORT_RANGE", (busy, busy))
        try:
            local_docker.free_port()
        except RuntimeError as error:
            assert f"{busy}-{busy}" in str(error)
        else:
            raise AssertionError("a port in use was given")
