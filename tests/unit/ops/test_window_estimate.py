"""preview's expected window: a reference switch's phases, the data-bound ones scaled to
production's documents, and the sentence saying what the figure rests on."""
from __future__ import annotations

import json
from types import SimpleNamespace

from ops.automation.ledger import Ledger
from ops.switch.window_estimate import estimate, from_rehearsal, from_switch, read_rehearsal, sentence
from ops.views import last_switch, source_documents


def switch_report(result="succeeded", delta=10.0, documents=1000):
    phases = [("backup-and-migrate", 30.0), ("maintenance-on", 4.0), ("delta-migration", delta),
              ("release", 20.0), ("maintenance-off", 6.0)]
    return {"result": result, "started": "2026-12-05T10:00:00+00:00",
            "phases": [{"name": n, "seconds": s, "ok": True} for n, s in phases],
            "writeUnavailability": {"seconds": 40.0},
            "migration": {"backup-and-migrate": {"summary": {"totals": {"documents": documents}}}}}


def rehearsal_report():
    return {"id": "ab12", "scale": 0.01, "started": "2026-12-05T09:00:00+00:00",
            "dataset": {"documents": 1250}, "switch": switch_report(documents=1200),
            "window": {"switch": 40.0, "client": 30.0}}


def test_only_the_data_bound_phases_grow_with_the_documents(tmp_path):
    reference = from_rehearsal(rehearsal_report(), tmp_path / "r.json")
    found = estimate(reference, 125_000, budget_seconds=600)
    # delta-migration 10 s x100; maintenance-on, release and maintenance-off as measured; the
    # pre-copy is outside the window and not counted.
    assert found["phases"] == {"maintenance-on": 4.0, "delta-migration": 1000.0, "release": 20.0,
                               "maintenance-off": 6.0}
    assert found["seconds"] == 1030.0 and found["withinBudget"] is False and found["factor"] == 100
    assert found["client"] == 772.5                 # the reference's clients saw 30 of 40 s
    text = sentence(found)
    assert "expected window: 1030 s" in text and "OVER the 600 s budget" in text
    assert "rehearsal ab12 at scale 0.01" in text and "125,000 / 1,250 documents (x100.00)" in text


def test_without_a_document_count_nothing_is_scaled_and_it_says_so():
    found = estimate(from_switch(switch_report(), "switch s1 of production"), None, 600)
    assert found["seconds"] == 40.0 and found["withinBudget"] is True and "client" not in found
    assert "not scaled: production's document count is unknown" in found["restsOn"]


def test_no_reference_names_how_to_get_one(tmp_path):
    assert from_switch(switch_report(result="rolled back"), "x") is None
    assert read_rehearsal(tmp_path / "missing.json") is None
    text = sentence(estimate(None, 5000, 600))
    assert text.startswith("expected window: unknown") and "./meeshy rehearse" in text


def test_the_rehearsal_report_is_read_from_its_file(tmp_path):
    path = tmp_path / "rehearsal-report.json"
    path.write_text(json.dumps(rehearsal_report()))
    reference = read_rehearsal(path)
    assert reference.documents == 1250 and reference.client == 30.0 and str(path) in reference.source


def test_the_last_succeeded_switch_of_the_stack_is_the_fallback(tmp_path):
    ledger = Ledger(tmp_path)
    for op, result, delta in (("switch-1", "succeeded", 5.0), ("switch-2", "succeeded", 7.0),
                              ("switch-3", "rolled back", 99.0)):
        ledger.append({"kind": "switch", "opId": op, "result": result})
        ledger.report_path(op).write_text(json.dumps(switch_report(result, delta=delta)))
    reference = last_switch(SimpleNamespace(ledger=ledger, stack_name="production"))
    assert reference.phases["delta-migration"] == 7.0 and "switch-2 of production" in reference.source
    assert reference.documents == 1000


def test_the_dry_runs_documents_are_summed_over_its_collections():
    plan = {"summary": {"collections": {"User": {"documents": 10}, "Message": {"documents": 90}}}}
    assert source_documents(plan) == 100 and source_documents({}) is None
