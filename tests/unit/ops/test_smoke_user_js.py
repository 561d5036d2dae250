"""ops/smoke_user.js's choice and write, executed by node against stand-ins of what the gateway
image gives it: a Prisma Client whose $runCommandRaw answers `find` and `update` from documents
in memory (the way MongoDB does for the filters the program sends), and a bcrypt. The real
image runs it in tests/e2e/test_real_gateway.py; here every rule of the choice and the paging
are checked, which the e2e's data may not reach."""
from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from ops.smoke_user import PROGRAM

NODE = shutil.which("node")

PRISMA = """
const fs = require("fs");
const data = JSON.parse(fs.readFileSync(process.env.STUB_DATA, "utf8"));
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
function matches(doc, filter) {
  return Object.entries(filter).every(([key, want]) => {
    const have = doc[key];
    if (want && want.$gt !== undefined) return have > want.$gt;
    if (want && want.$type === "string") return typeof have === "string";
    return same(have, want);
  });
}
class PrismaClient {
  async $runCommandRaw(command) {
    data.commands = (data.commands || 0) + 1;
    if (command.update) {
      const [{ q, u }] = command.updates;
      const hit = data[command.update].filter((d) => matches(d, q));
      hit.forEach((d) => Object.assign(d, u.$set));
      fs.writeFileSync(process.env.STUB_DATA, JSON.stringify(data));
      return { n: hit.length, ok: 1 };
    }
    const found = data[command.find].filter((d) => matches(d, command.filter))
      .sort((a, b) => (a._id < b._id ? -1 : 1)).slice(0, command.limit);
    return { cursor: { firstBatch: found, id: 0 }, ok: 1 };
  }
  async $disconnect() {}
}
module.exports = { PrismaClient };
"""
BCRYPT = 'exports.hash = async (password, rounds) => `$2b$${rounds}$stub-of-${password.length}`;\n'


@pytest.fixture
def image(tmp_path):
    """The stand-ins, laid out as node resolves them from the program's working directory."""
    if NODE is None:
        pytest.fail("node is not on PATH; tools/bootstrap.sh test installs it", pytrace=False)
    (tmp_path / "client").mkdir()
    (tmp_path / "client" / "index.js").write_text(PRISMA)
    (tmp_path / "node_modules" / "bcrypt").mkdir(parents=True)
    (tmp_path / "node_modules" / "bcrypt" / "index.js").write_text(BCRYPT)
    return tmp_path


def run(image, data: dict, password: str | None = "fresh-password", batch: int = 2):
    path = image / "data.json"
    path.write_text(json.dumps(data))
    env = {"PATH": os.environ["PATH"], "STUB_DATA": str(path), "MEESHY_SMOKE_BATCH": str(batch),
           "MEESHY_PRISMA_CLIENT": str(image / "client"), "DATABASE_URL": "mongodb://stub/meeshy",
           **({"MEESHY_SMOKE_PASSWORD": password} if password else {})}
    done = subprocess.run([NODE, "-"], input=PROGRAM.read_text(), env=env, cwd=image,
                          capture_output=True, text=True, timeout=60)
    return done, json.loads(path.read_text())


def participant(pid, user, conversation, **more):
    return {"_id": pid, "type": "user", "isActive": True, "userId": user,
            "conversationId": conversation, **more}


def user(uid, username, **more):
    return {"_id": uid, "username": username, "isActive": True, "password": "old-hash", **more}


def dataset():
    """Five participants, the first four refused each for one reason, the last one chosen."""
    return {
        "Participant": [
            participant("p1", "u1", "c1"),                                          # user inactive
            participant("p2", "u2", "c1", permissions={"canSendMessages": False}),  # may not post
            participant("p3", "u3", "c2"),                                          # no message
            participant("p4", "u4", "c1"),                                          # no username
            participant("p5", "u5", "c1", isActive=False),                          # left
            participant("p6", "u5", "c1"),
        ],
        "User": [user("u1", "ines", isActive=False), user("u2", "omar"), user("u3", "lea"),
                 user("u4", None), user("u5", "sam")],
        "Message": [{"_id": "m1", "conversationId": "c1"}],
    }


def test_the_first_fitting_participant_s_user_gets_the_gateway_s_hash_across_pages(image):
    done, after = run(image, dataset(), batch=2)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "username": "sam", "userId": "u5", "conversationId": "c1"}
    passwords = {u["username"]: u["password"] for u in after["User"]}
    assert passwords == {"ines": "old-hash", "omar": "old-hash", "lea": "old-hash", None: "old-hash",
                         "sam": "$2b$10$stub-of-14"}
    assert "fresh-password" not in done.stdout + done.stderr


def test_the_same_choice_whatever_the_page_size(image):
    chosen = {json.loads(run(image, dataset(), batch=b)[0].stdout.splitlines()[-1])["userId"]
              for b in (1, 3, 500)}
    assert chosen == {"u5"}


def test_no_fitting_user_is_one_line_and_exit_1_with_nothing_written(image):
    data = dataset()
    data["Participant"] = data["Participant"][:4]
    done, after = run(image, data)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == "no active user takes part in a conversation with messages"
    assert {u["password"] for u in after["User"]} == {"old-hash"}


def test_without_a_password_nothing_is_read(image):
    done, after = run(image, dataset(), password=None)
    assert done.returncode == 1 and "MEESHY_SMOKE_PASSWORD is not set" in done.stderr
    assert "commands" not in after
