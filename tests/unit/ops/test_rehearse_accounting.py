"""The load's accounting: which answers are definite, the window a client saw, and the writes
of each step. One test sends real requests through the load generator to a loopback HTTPS
server answering what Traefik and the maintenance page answer."""
from __future__ import annotations

import ssl

import pytest
from bson import ObjectId

from ops.rehearse.accounting import by_step, client_window, judged, outcome_of, real_api, summary
from ops.rehearse.load import LoadGenerator, Write
from tests.support.bed_gateway import self_signed
from tests.support.json_http import JsonHandler, LoopbackServer


def write(at: float, outcome: str, step: str = "switch", reason: str | None = None) -> Write:
    status = {"acknowledged": 201, "refused": 503}.get(outcome, 502)
    return Write(at, status, outcome, "id" if outcome == "acknowledged" else None,
                 reason=reason, answered=at + 0.25, step=step)


@pytest.mark.parametrize("status, retry_after, expected", [
    (201, None, ("acknowledged", None)),
    (200, None, ("acknowledged", None)),
    (401, None, ("failed", "HTTP 401")),
    (503, "120", ("refused", None)),
    (503, None, ("failed", "HTTP 503 without Retry-After")),
    (503, " ", ("failed", "HTTP 503 without Retry-After")),
    (502, "120", ("failed", "HTTP 502")),
    (404, None, ("failed", "HTTP 404")),
])
def test_only_a_503_that_says_when_to_retry_is_a_refusal(status, retry_after, expected):
    assert outcome_of(status, retry_after) == expected


@pytest.mark.parametrize("status, body, expected", [
    (201, {"data": {"id": "s1"}}, ("acknowledged", None, "s1", "stand-in")),
    (200, {"success": True, "data": {"id": "m1"}}, ("acknowledged", None, "m1", "meeshy")),
    (200, {"success": True, "data": {"message": {"id": "m2"}}}, ("acknowledged", None, "m2", "meeshy")),
    (200, {"success": True, "data": {}}, ("failed", "HTTP 200 without a message id", None, None)),
    (201, None, ("failed", "HTTP 201 without a message id", None, None)),
    (502, {"success": True, "data": {"id": "x"}}, ("failed", "HTTP 502", None, None)),
    (503, None, ("failed", "HTTP 503 without Retry-After", None, None)),
])
def test_a_success_counts_only_with_the_message_id_and_says_which_gateway_gave_it(status, body, expected):
    assert judged(status, None, body) == expected


def test_real_api_counts_only_what_the_real_gateway_acknowledged():
    writes = [Write(1, 200, "acknowledged", "m1", api="meeshy"),
              Write(2, 200, "acknowledged", "m2", api="meeshy"),
              Write(3, 201, "acknowledged", "s1", api="stand-in"),
              Write(4, 401, "failed", reason="HTTP 401")]
    assert real_api(writes, {"m2", "s1"}) == {"acknowledged": 2, "found": 1}
    assert real_api([], set()) == {"acknowledged": 0, "found": 0}


def test_a_refusal_after_the_switchs_window_extends_the_clients_window():
    # Refused from 10 s to 20 s, acknowledged again at 21 s, then one late refusal at 40 s
    # (maintenance still routed after the switch said its window closed) and an ack at 41 s.
    writes = [write(t, "acknowledged") for t in range(0, 10)]
    writes += [write(t, "refused") for t in range(10, 21)]
    writes += [write(t, "acknowledged") for t in range(21, 40)]
    writes += [write(40.0, "refused"), write(41.0, "acknowledged")]
    window = client_window(writes)
    assert window["seconds"] == 31.25          # from the send at 10 to the answer at 41.25
    assert window["closed"] is True and window["gaps"] == 2 and window["notAcknowledged"] == 12


def test_a_window_with_no_write_taken_after_it_is_open():
    writes = [write(0, "acknowledged"), write(1, "refused"), write(2, "failed")]
    window = client_window(writes)
    assert window["closed"] is False and window["seconds"] == 1.25
    assert client_window([write(0, "acknowledged")]) == {"seconds": 0.0, "notAcknowledged": 0,
                                                         "gaps": 0}


def test_a_502_is_a_failure_with_its_reason_not_a_refusal():
    writes = [write(0, "acknowledged"), write(1, "failed", reason="HTTP 502"),
              write(2, "refused"), write(3, "failed"), write(4, "acknowledged")]
    counted = summary(writes)
    assert (counted["acknowledged"], counted["refused"], counted["failed"]) == (2, 1, 2)
    assert counted["failedReasons"] == {"HTTP 502": 1, "no answer": 1}


def test_each_step_has_its_own_writes_in_the_order_the_steps_came():
    writes = [write(5, "refused", "failing"), write(1, "acknowledged", "switch"),
              write(9, "acknowledged", "rollback"), write(6, "acknowledged", "failing")]
    steps = by_step(writes)
    assert list(steps) == ["switch", "failing", "rollback"]
    assert [(s["acknowledged"], s["refused"]) for s in steps.values()] == [(1, 0), (1, 1), (1, 0)]
    assert steps["failing"]["clientWindow"]["seconds"] == 1.25


class Answers(LoopbackServer):
    """Answers each POST with the next (status, headers) it was given."""

    def __init__(self, folder, answers):
        queue = list(answers)

        class Handler(JsonHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers = queue.pop(0)
                body = {"data": {"id": str(ObjectId())}} if status == 201 else {"error": "x"}
                self._answer(status, body, headers)

        self.serve(Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*self_signed(folder))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)


def test_the_load_reads_retry_after_from_real_answers(tmp_path):
    answers = [(201, None), (503, {"Retry-After": "120"}), (503, None), (502, None)]
    with Answers(tmp_path, answers) as server:
        load = LoadGenerator(server.server.server_address[1], "gate.example", [(ObjectId(), ObjectId())],
                             tag="t")
        got = [load.post(ObjectId(), ObjectId(), "hello") for _ in answers]
    assert [(w.status, w.outcome, w.reason) for w in got] == [
        (201, "acknowledged", None), (503, "refused", None),
        (503, "failed", "HTTP 503 without Retry-After"), (502, "failed", "HTTP 502")]
    assert got[0].message_id and all(w.answered >= w.at for w in got)


def test_the_real_apis_count_covers_the_writes_the_last_match_looked_for():
    """A write Meeshy's gateway acknowledged after the last match (the load stops a moment
    later) was looked for nowhere: it is neither counted as found nor as missing."""
    from ops.rehearse.under_load import LoadThroughSteps

    class StoppedLoad:
        accounts = {"u1": ("ada1", "pw")}

        def __init__(self, writes):
            self.writes = writes

        def stop(self):
            return list(self.writes)

    seen = Write(1.0, 200, "acknowledged", str(ObjectId()), "c1", answered=1.1, step="switch under load")
    later = Write(2.0, 200, "acknowledged", str(ObjectId()), "c1", answered=2.1, step="switch under load")
    seen.api = later.api = "meeshy"
    through = LoadThroughSteps.__new__(LoadThroughSteps)
    through.load, through.matched, through.finished = StoppedLoad([seen, later]), {}, None
    through.looked_for, through.found = [seen], {seen.message_id}
    report = {"realApi": {"history": {"served": True}}}
    through.finish(report)
    assert report["realApi"] == {"acknowledged": 1, "found": 1, "history": {"served": True}}
