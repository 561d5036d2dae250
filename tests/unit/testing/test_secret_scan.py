"""The secret scan finds a value planted in each place it searches, names the key and the place
and never the value, and lets through only the environment entries the docs list as env-only."""
import json

from testing import secret_scan

SECRETS = {"meeshy:jwtSecret": "jwt-0123456789abcdef0123456789abcdef",
           "meeshy:dashboardAuth": 'ops:$apr1$ab"cd$x'}


def inspected(labels=None, env=None, **extra):
    return {"Name": "/meeshy-e2e-gateway", "Config": {"Labels": labels or {}, "Env": env or []},
            **extra}


def test_a_clean_container_and_tree_have_no_finding(tmp_path):
    (tmp_path / "state.json").write_text(json.dumps({"secure": "v1:ciphertext"}))
    assert secret_scan.in_container(SECRETS, inspected({"meeshy.stack": "e2e"}, ["A=1"])) == []
    assert secret_scan.in_files(SECRETS, [tmp_path]) == []


def test_a_secret_in_a_label_is_found_and_named_without_its_value():
    labels = {"traefik.http.middlewares.x.basicauth.users": SECRETS["meeshy:dashboardAuth"]}
    findings = secret_scan.in_container(SECRETS, inspected(labels))
    assert findings == ["container meeshy-e2e-gateway label traefik.http.middlewares.x.basicauth."
                        "users: holds the value of meeshy:dashboardAuth"]
    assert not any(v in "".join(findings) for v in SECRETS.values())


def test_env_only_variables_pass_only_in_their_own_entry():
    env = [f"JWT_SECRET={SECRETS['meeshy:jwtSecret']}"]
    assert secret_scan.in_container(SECRETS, inspected(env=env), frozenset({"JWT_SECRET"})) == []
    assert secret_scan.in_container(SECRETS, inspected(env=env)) == [
        "container meeshy-e2e-gateway docker inspect: holds the value of meeshy:jwtSecret"]
    # The same value as a command-line argument is a finding, listed variable or not.
    elsewhere = inspected(env=env, Args=["--secret", SECRETS["meeshy:jwtSecret"]])
    assert secret_scan.in_container(SECRETS, elsewhere, frozenset({"JWT_SECRET"})) == [
        "container meeshy-e2e-gateway docker inspect: holds the value of meeshy:jwtSecret"]


def test_a_secret_in_a_nested_file_is_found_also_json_escaped(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    ledger = tmp_path / "a" / "b" / "ledger.json"
    ledger.write_text(json.dumps({"auth": SECRETS["meeshy:dashboardAuth"]}))
    (tmp_path / "dump.archive.gz").write_bytes(SECRETS["meeshy:jwtSecret"].encode())
    assert secret_scan.in_files(SECRETS, [tmp_path]) == [
        f"file {ledger}: holds the value of meeshy:dashboardAuth"]


def test_output_text_is_scanned():
    said = f"deploying... JWT_SECRET={SECRETS['meeshy:jwtSecret']}"
    assert secret_scan.in_text(SECRETS, "ops teardown stdout", said) == [
        "ops teardown stdout: holds the value of meeshy:jwtSecret"]


def test_the_env_only_list_is_the_docs_table():
    names = secret_scan.env_only_variables()
    assert {"JWT_SECRET", "ADMIN_PASSWORD", "MEESHY_PASSWORD", "ATABETH_PASSWORD"} <= names
    # Only the first column: the table's `meeshy:` keys and `secretEnv` are not variables.
    assert "DATABASE_URL" not in names and all(n.isupper() for n in names)
