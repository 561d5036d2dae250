"""The rehearsal's table and picture from a report: every phase and figure shown as given,
the picture a real PNG whose writes-per-second follow the writes."""
from __future__ import annotations

import datetime as dt

from ops.rehearse.accounting import summary
from ops.rehearse.load import Write
from ops.rehearse.report import epoch, phase_bars, picture, table

T0 = dt.datetime(2026, 11, 26, 10, 0, 0, tzinfo=dt.timezone.utc)


def iso(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def report() -> dict:
    names = ["backup-and-migrate", "maintenance-on", "delta-migration", "release", "maintenance-off"]
    phases, at = [], 0.0
    for n, name in enumerate(names):
        seconds = 10.0 + n * 1.5
        phases.append({"name": name, "start": iso(at), "end": iso(at + seconds), "seconds": seconds,
                       "ok": True, "steps": {"backup": 1.25} if n == 0 else {}})
        at += seconds
    window = {"start": phases[1]["end"], "end": phases[3]["end"], "seconds": 37.5}
    return {"id": "ab12", "scale": 0.5, "result": "succeeded", "seconds": 321.0,
            "stacks": {"production": "rehearsal-ab12-production", "staging": "rehearsal-ab12-staging"},
            "steps": [{"name": "switch under load", "seconds": 70.25, "ok": True}],
            "switch": {"stack": "rehearsal-ab12-production", "result": "succeeded", "phases": phases,
                       "writeUnavailability": window,
                       "documentsMovedInWindow": {"written": 17, "documents": 900},
                       "schemaCheck": {"prisma": {"prisma": "6.19.3", "documents": 1234,
                                                  "refused": 0, "refusals": [], "seconds": 4.5,
                                                  "scope": {"kind": "written", "copied": 1234}}},
                       "prismaPreCopy": {"prisma": "6.19.3", "documents": 1200, "refused": 0,
                                         "refusals": [], "seconds": 3.25},
                       "frozenBackups": {"meeshy": {"seconds": 21.5, "equalsFingerprint": True}},
                       "migration": {"backup-and-migrate": {"summary": {
                           "ok": True, "liveSource": True, "sourceGrowth": {"Message": 9}}}}},
            "window": {"switch": 52.5, "client": 44.75},
            "writes": {"acknowledged": 40, "refused": 12, "failed": 1, "lost": 0,
                       "acknowledgedDuringPreCopy": 9, "byStep": {
                           "switch under load": {"acknowledged": 40, "refused": 12, "failed": 1,
                                                 "lost": 0, "failedReasons": {"HTTP 502": 1},
                                                 "clientWindow": {"seconds": 44.75}},
                           "failing switch": {"acknowledged": 30, "refused": 20, "failed": 0,
                                              "lost": 2, "failedReasons": {},
                                              "clientWindow": {"seconds": 61.0}}}},
            "failingSwitch": {"result": "rolled back", "detectSeconds": 41.5, "rollbackSeconds": 25.0,
                              "hashEqual": True, "imagesEqual": True},
            "rollbackTo": {"version": 2, "result": "succeeded", "seconds": 40.0, "verifiedEqual": True},
            "faults": [{"phase": "delta-migration", "recoveredBy": "./meeshy switch p --yes",
                        "acknowledged": 404, "lost": 0, "keptInArchive": 3, "failed": 2,
                        "release": "target-3", "seconds": {"untilKilled": 61.5, "status": 4.25,
                                                           "recovery": 88.0}}],
            "isolation": {"isolated": True, "shared": {}}}


def test_the_table_shows_every_phase_and_figure_of_the_report():
    text = table(report())
    for phase in report()["switch"]["phases"]:
        assert phase["name"] in text and f"{phase['seconds']:.1f}" in text
    assert "backup 1.2 s" in text or "backup 1.3 s" in text
    assert "write-unavailability window 37.5 s" in text and "wrote 17 of 900" in text
    assert "40 acknowledged, 12 refused (503 + Retry-After), 1 failed otherwise, 0 lost" in text
    assert "window: 44.8 s as the clients saw it" in text and "52.5 s as the switch measured" in text
    rows = [line.split() for line in text.splitlines() if line.startswith("    switch under load")
            or line.startswith("    failing switch")]
    assert rows == [["switch", "under", "load", "40", "12", "1", "0", "44.8", "s", "HTTP", "502", "x1"],
                    ["failing", "switch", "30", "20", "0", "2", "61.0", "s"]]
    assert "9 acknowledged during the pre-copy" in text and "{'Message': 9}" in text
    assert "archive of meeshy 21.5 s, equal to its fingerprint under maintenance: True" in text
    assert "rollback 25.0 s" in text and "rollback --to 2: succeeded in 40.0 s" in text
    assert "switch under load" in text and "70.2" in text
    assert ("interrupted switch: killed in delta-migration after 61.5 s, recovered by "
            "`./meeshy switch p --yes` in 88.0 s (status 4.2 s); writes 404 acknowledged, 0 lost, "
            "3 kept in an archive, 2 failed (no definite answer); serving target-3") in text
    assert ("release check read by Prisma Client 6.19.3: 1234 documents, 0 refused in 4.5 s "
            "(what the delta pass wrote, inside the window)") in text
    assert "pre-copy read by Prisma Client 6.19.3: 1200 documents, 0 refused in 3.25 s" in text


def test_the_real_apis_line_shows_only_when_the_real_gateway_ran():
    assert "real API" not in table(report())
    with_real = dict(report(), realApi={"acknowledged": 37, "found": 35})
    assert "  real API (Meeshy's gateway): 37 acknowledged, 35 found by id" in \
        table(with_real).splitlines()
    read = {"checked": True, "served": True, "status": 200, "seconds": 3.25}
    assert ("  real API (Meeshy's gateway): 37 acknowledged, 35 found by id; its newest after the "
            "switch read back through its API: True (HTTP 200, 3.2 s)") in \
        table(dict(with_real, realApi={**with_real["realApi"], "history": read})).splitlines()


def test_a_refusal_by_prisma_is_named_in_the_table():
    refused = report()
    refused["switch"]["schemaCheck"]["prisma"].update(refused=2, refusals=[
        {"model": "User", "field": "role", "code": "P2023", "count": 2}])
    assert "1234 documents, 2 refused (User.role P2023 x2) in 4.5 s" in table(refused)


def test_the_picture_is_a_png_and_counts_every_write(tmp_path):
    r = report()
    start = epoch(r["switch"]["phases"][0]["start"])
    writes = [Write(start + i * 0.5, 201, "acknowledged", "x") for i in range(20)]
    writes += [Write(start + 25 + i, 503, "refused") for i in range(5)]
    writes += [Write(start + 31, 201, "acknowledged", "y", answered=start + 31.5)]
    path = picture(r["switch"], writes, tmp_path / "t.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    counted = summary(writes)
    assert {k: counted[k] for k in ("writes", "acknowledged", "refused", "failed")} == {
        "writes": 26, "acknowledged": 21, "refused": 5, "failed": 0}
    assert counted["clientWindow"]["seconds"] == 6.5


def test_no_phases_no_picture(tmp_path):
    assert picture({}, [], tmp_path / "t.png") is None
    assert not (tmp_path / "t.png").exists()


def test_the_report_names_what_served_each_release():
    from ops.rehearse.stacks import application
    stand_in = {"gateway": "meeshy-local/gateway:target-1.0.0-a85e89740e0b",
                "mongo": "meeshy-local/database:ferretdb-1.24.2"}
    real = {"gateway": "meeshy-local/gateway:meeshy-ea1789df2-2879c2d15841",
            "mongo": "meeshy-local/database:documentdb-0.106.0-6e849b7405c6"}
    assert application(stand_in) == {"gateway": f"stand-in ({stand_in['gateway']})",
                                     "database": "ferretdb 1.24.2"}
    assert application(real) == {"gateway": "meeshy@ea1789df2", "database": "documentdb 0.106.0"}
    shown = table({**report(), "application": {"target": application(real)}})
    assert "target release: gateway meeshy@ea1789df2, database documentdb 0.106.0" in shown


def test_the_plain_release_is_in_the_table_and_any_refusal_or_failure_fails_the_rehearsal():
    from ops.rehearse.checks import all_passed, plain_release_passed
    plain = {"acknowledged": 310, "refused": 0, "failed": 0, "failedReasons": {}, "seconds": 31.5,
             "replaced": ["gateway", "static", "translator", "web"]}
    text = table({**report(), "plainRelease": plain})
    assert ("plain release (no migration, no maintenance) in 31.5 s: 310 acknowledged, 0 refused, "
            "0 failed; replaced gateway, static, translator, web") in text
    good = {**report(), "writes": {**report()["writes"], "check": {"notMigrated": 0},
                                   "servedByNewGateway": {"served": True}},
            "failingSwitch": {"hashEqual": True}, "rollbackTo": {"verifiedEqual": True}}
    assert all_passed(good) and all_passed({**good, "plainRelease": plain})
    for bad in ({"refused": 1}, {"failed": 1, "failedReasons": {"HTTP 502": 1}},
                {"replaced": ["gateway", "web"]}):
        assert not plain_release_passed({**plain, **bad}), bad
        assert not all_passed({**good, "plainRelease": {**plain, **bad}}), bad


def test_a_rehearsal_stopped_after_the_switch_is_judged_on_the_steps_it_ran():
    """--stop-after: the failing switch and rollback --to did not run, so their checks do not
    fail it; without it, their absence does; the real API's count is always judged."""
    from ops.rehearse.checks import all_passed
    switched = {k: v for k, v in report().items() if k not in ("failingSwitch", "rollbackTo")}
    switched["writes"] = {**switched["writes"], "check": {"notMigrated": 0},
                          "servedByNewGateway": {"served": True}}
    assert not all_passed(switched)
    stopped = {**switched, "stoppedAfter": "switch under load"}
    assert all_passed(stopped)
    assert not all_passed({**stopped, "failingSwitch": {"hashEqual": False}})
    real = {"acknowledged": 12, "found": 12, "history": {"served": True}}
    assert all_passed({**stopped, "realApi": real})
    assert not all_passed({**stopped, "realApi": {**real, "found": 11}})
    assert not all_passed({**stopped, "realApi": {**real, "history": {"served": False}}})


def test_a_phases_timeline_shows_its_engine_start_its_longest_steps_and_its_tail():
    timed = report()
    steps = [{"name": f"s{n}", "op": "create", "start": float(n), "seconds": float(n)}
             for n in range(1, 7)]
    timed["switch"]["phases"][3]["timeline"] = {"engineStart": 2.5, "tail": 0.75,
                                                "steps": steps, "otherSteps": 9}
    lines = table(timed).splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("release "))
    assert lines[at + 1].strip() == ("engine start 2.5 s; s3 create 3.0 s at 3.0, s4 create 4.0 s "
                                     "at 4.0, s5 create 5.0 s at 5.0, s6 create 6.0 s at 6.0; "
                                     "tail 0.8 s")
    assert "engine start" not in table(report())


def test_a_phases_bars_put_its_steps_over_the_whole_update():
    phase = {"name": "release", "seconds": 19.5, "ok": True}
    assert phase_bars(phase, 40.0) == [(40.0, 19.5, 0.8, 1.0)]
    phase["timeline"] = {"engineStart": 3.25, "tail": 1.5, "otherSteps": 2, "steps": [
        {"name": "release-gate-check", "op": "create", "start": 8.0, "seconds": 5.75}]}
    assert phase_bars(phase, 40.0) == [(40.0, 19.5, 0.8, 0.35), (48.0, 5.75, 0.45, 1.0)]
