"""Property: whatever mix of SIGKILLed runs, concurrent starts and source edits happens to a
target, one more run leaves it with the same content as an uninterrupted run into an empty
database. Default batch size, hundreds of documents changed by an edit; bounded: few examples,
each action bounded in time."""
import itertools
import signal
import subprocess
import sys
import time

import pytest
from bson import ObjectId
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import toy_chain
from tests.support.cli_runner import REPO_ROOT, migration_cli, migration_env
from tests.support.migration_helpers import data_hashes

PEOPLE = 300
RUN_TIMEOUT = 180
_names = itertools.count(1)

ACTIONS = st.one_of(
    st.tuples(st.just("kill"), st.floats(0.2, 4.0)),
    st.tuples(st.just("concurrent"), st.floats(0.0, 0.5)),
    st.tuples(st.just("edit"), st.sampled_from(["rename", "insert", "delete"]),
              st.integers(0, 10_000)),
)


def _start(source_uri, target_uri, *options):
    return subprocess.Popen([sys.executable, "-m", "migration", "run", "--source", source_uri,
                             "--target", target_uri, "--chain", "tests.support.toy_chain",
                             *options],
                            cwd=REPO_ROOT, env=migration_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _kill_after(source_uri, target_uri, delay):
    # The next run waits for the end of a killed run's last write window (half its lease,
    # lease.py): a short lease keeps that under a second.
    process = _start(source_uri, target_uri, "--lease-seconds", "2")
    time.sleep(delay)
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.communicate(timeout=RUN_TIMEOUT)


def _concurrent(source_uri, target_uri, gap):
    first = _start(source_uri, target_uri)
    time.sleep(gap)
    second = _start(source_uri, target_uri)
    for process in (first, second):
        _, err = process.communicate(timeout=RUN_TIMEOUT)
        # exit 0, or refused because the other one holds the target: never anything else
        assert process.returncode == 0 or "another run" in err, err


def _edit(source, kind, salt):
    if kind == "rename":  # every person: hundreds of replacements in one default batch
        source.people.update_many({}, {"$set": {"name": f"renamed {salt}"}})
    elif kind == "insert":
        for post in list(source.posts.find().limit(150)):
            source.posts.insert_one({**post, "_id": ObjectId(), "body": f"copy {salt}"})
    else:
        doomed = [p["_id"] for p in source.posts.find({}, {"_id": 1}).skip(salt % 50).limit(120)]
        source.posts.delete_many({"_id": {"$in": doomed}})


@pytest.mark.slow
@settings(max_examples=5, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actions=st.lists(ACTIONS, min_size=2, max_size=4))
def test_any_mix_of_kills_concurrency_and_edits_converges(ferretdb, actions):
    client = ferretdb.client()
    n = next(_names)
    source, target, reference = (client[f"prop_{role}_{n}"] for role in ("src", "tgt", "ref"))
    toy_chain.make_source(source, people=PEOPLE)
    source_uri, target_uri = ferretdb.uri(source.name), ferretdb.uri(target.name)
    try:
        for action in actions:
            if action[0] == "kill":
                _kill_after(source_uri, target_uri, action[1])
            elif action[0] == "concurrent":
                _concurrent(source_uri, target_uri, action[1])
            else:
                _edit(source, action[1], action[2])
        final = migration_cli("run", "--source", source_uri, "--target", target_uri,
                              timeout=RUN_TIMEOUT)
        assert final.returncode == 0, f"{actions}: {final.stdout}{final.stderr}"
        clean = migration_cli("run", "--source", source_uri, "--target",
                              ferretdb.uri(reference.name), timeout=RUN_TIMEOUT)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert data_hashes(target) == data_hashes(reference), actions
    finally:
        for db in (source, target, reference):
            client.drop_database(db.name)
        client.close()
