"""The replica-set init script's decisions, executed by node against a scripted stand-in of the
mongosh `rs`/`db` helpers: initiate when uninitialised, nothing when already initialised with
this member, forced rename when a taken-over volume names another member, errors surfaced.
FerretDB has no replica sets, so this is the closest executable check available here; the
script's MongoDB calls (rs.conf, rs.initiate, rs.reconfig with force, db.hello) are the
documented mongosh helpers."""
import json
import shutil
import subprocess

import pytest

from commands.services import replica_set_init_script

NODE = shutil.which("node")


@pytest.fixture(autouse=True)
def node():
    """tools/bootstrap.sh test installs node (tools/install-node.sh): missing, it is a failure."""
    if NODE is None:
        pytest.fail("node is not on PATH; tools/bootstrap.sh test installs it "
                    "(tools/install-node.sh)", pytrace=False)

HARNESS = """
const calls = [];
const state = %(state)s;
const rs = {
  conf() {
    if (state.confError) { const e = new Error(state.confError.message);
      Object.assign(e, state.confError); throw e; }
    return JSON.parse(JSON.stringify(state.cfg));
  },
  initiate(c) { calls.push(["initiate", c]); state.cfg = c; },
  reconfig(c, o) { calls.push(["reconfig", c, o]); state.cfg = c; },
};
let hellos = 0;
const db = { hello() { hellos++; return {isWritablePrimary: hellos >= state.primaryAfter}; } };
function print(s) { calls.push(["print", s]); }
function sleep(ms) { calls.push(["sleep", ms]); }
try { %(script)s } catch (e) { calls.push(["error", e.message]); }
console.log(JSON.stringify(calls));
"""
MEMBER = "meeshy-production-database:27017"
UNINITIALISED = {"codeName": "NotYetInitialized", "code": 94,
                "message": "no replset config has been received"}


def run(state, wait_seconds=5):
    script = replica_set_init_script("rs0", MEMBER, wait_seconds=wait_seconds)
    source = HARNESS % {"state": json.dumps({"cfg": None, "primaryAfter": 1, **state}), "script": script}
    out = subprocess.run([NODE, "-e", source], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_uninitialised_node_is_initiated_with_the_stacks_member():
    calls = run({"confError": UNINITIALISED, "primaryAfter": 3})
    assert calls[0] == ["initiate", {"_id": "rs0", "members": [{"_id": 0, "host": MEMBER}]}]
    assert calls[1] == ["print", f"replica set initiated with {MEMBER}"]
    assert calls[2:] == [["sleep", 1000], ["sleep", 1000]]  # waits until a writable primary


def test_already_initialised_with_this_member_does_nothing():
    calls = run({"cfg": {"_id": "rs0", "members": [{"_id": 0, "host": MEMBER}]}})
    assert calls == [["print", f"replica set already initialised with {MEMBER}"]]


def test_member_of_a_taken_over_volume_is_renamed_with_force():
    calls = run({"cfg": {"_id": "rs0", "version": 1, "members": [{"_id": 0, "host": "database:27017"}]}})
    assert calls[0] == ["reconfig", {"_id": "rs0", "version": 1, "members": [{"_id": 0, "host": MEMBER}]},
                        {"force": True}]
    assert calls[1] == ["print", f"replica set member database:27017 renamed to {MEMBER}"]


def test_multi_member_sets_are_left_alone():
    members = [{"_id": 0, "host": "a:27017"}, {"_id": 1, "host": "b:27017"}]
    calls = run({"cfg": {"_id": "rs0", "members": members}})
    assert calls == [["print", "replica set already initialised with a:27017,b:27017"]]


def test_other_errors_and_no_primary_fail_the_init():
    calls = run({"confError": {"codeName": "Unauthorized", "code": 13, "message": "not authorized"}})
    assert calls == [["error", "not authorized"]]
    calls = run({"confError": UNINITIALISED, "primaryAfter": 99}, wait_seconds=3)
    assert calls[-1] == ["error", "no writable primary after initialisation"]
    assert calls.count(["sleep", 1000]) == 3
