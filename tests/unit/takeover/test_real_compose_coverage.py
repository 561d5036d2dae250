"""Production as the real compose files run it: every variable and mount they set is either set
by the platform for production (the real program, under mocks, with Pulumi.production.yaml) or
listed in docs/configuration.md as an operator setting; every health check, command and service
matches or is listed there as a deliberate difference.

The names come from tests/data/real_compose_variables.yaml (transcribed from the reference's
README). The compose files themselves are checked too: from MEESHY_REAL_COMPOSE_DIR, else from
the shared reference beside the clone (`../shared/reference/meeshy/compose/`, where CI has it);
without either the test says so and skips.
"""
import fnmatch
import os
import re
from pathlib import Path

import pytest
import yaml

from components.platform.traefik import DYNAMIC_CONFIG, DYNAMIC_CONFIG_PATH
from config.service_settings import OPTIONAL_SERVICES
from config.services.static import NGINX_CONF as STATIC_NGINX_CONF
from testing.mock_pulumi import REPO, run_stack_file

REAL = yaml.safe_load((REPO / "tests/data/real_compose_variables.yaml").read_text())
DOCS = (REPO / "docs/configuration.md").read_text()
# This test reads shared data explicitly: Meeshy's own compose files, kept beside the clone.
SHARED_COMPOSE = REPO.parent / "shared/reference/meeshy/compose"
OUR_SERVICE = {"gateway": "gateway", "translator": "translator", "web": "web"}


def docs_section(title: str) -> str:
    start = DOCS.index(f"### {title}")
    end = DOCS.find("\n#", start + 4)
    return DOCS[start:end if end != -1 else None]


def operator_settings() -> dict[str, set[str]]:
    """service -> names (variables, patterns, mount paths) the docs leave to the operator."""
    found: dict[str, set[str]] = {}
    for line in docs_section("Variables of the real compose files left to the operator").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0].startswith("`"):
            for service in (s.strip() for s in cells[1].split(",")):
                found.setdefault(service, set()).update(re.findall(r"`([^`]+)`", cells[0]))
    return found


@pytest.fixture(scope="module")
def production():
    return run_stack_file("production")


def env(res):
    return dict(e.split("=", 1) for e in res.inputs.get("envs") or [])


def covered(name: str, names) -> bool:
    """A name (or a pattern such as APNS_*) is covered by any name it matches."""
    return any(fnmatch.fnmatchcase(n, name) for n in names)


def test_every_real_variable_is_set_or_an_operator_setting(production):
    left = operator_settings()
    uncovered, report = [], []
    for service, ours in OUR_SERVICE.items():
        set_here = env(production.container(ours))
        for name in REAL["services"][service]["variables"]:
            if covered(name, set_here):
                report.append(f"{service}: {name} set by the platform")
            elif name in left.get(ours, ()):
                report.append(f"{service}: {name} left to the operator (docs)")
            else:
                uncovered.append(f"{service}: {name}")
    print("\n".join(report))
    assert not uncovered, f"neither set by the platform nor a documented operator setting: {uncovered}"


def test_every_real_mount_is_mounted_or_an_operator_setting(production):
    left = operator_settings()
    uncovered = []
    for service, ours in OUR_SERVICE.items():
        mounts = {m["containerPath"]: m for m in production.container(ours).inputs.get("volumes") or []}
        for path, real in REAL["services"][service]["mounts"].items():
            mine = mounts.get(path)
            if mine is None:
                if path not in left.get(ours, ()):
                    uncovered.append(f"{service}: {path}")
                continue
            if real.get("host"):
                assert mine.get("hostPath") == real["host"], path
            if real.get("read_only"):
                assert mine.get("readOnly") is True, path
    assert not uncovered, f"neither mounted nor a documented operator setting: {uncovered}"


def test_the_translator_gets_production_values_not_its_defaults(production):
    translator = env(production.container("translator"))
    for name, value in REAL["services"]["translator"]["values"].items():
        assert translator[name] == value, name


def test_health_checks_match_or_are_documented_differences(production):
    different = docs_section("Deliberately different from the compose files")
    for service, ours in OUR_SERVICE.items():
        url = production.container(ours).inputs["healthcheck"]["tests"][-1]
        if url != REAL["services"][service]["health"]:
            assert f"| {service} health |" in different, (service, url)


def test_static_files_serve_both_upload_volumes_read_only(production):
    mounts = {m["containerPath"]: m for m in production.container("static").inputs["volumes"]}
    for url_path, purpose in REAL["services"]["static-files"]["serves"].items():
        mount = mounts[f"/usr/share/nginx/html{url_path}"]
        assert mount["volumeName"] == f"meeshy-production-{purpose}" and mount["readOnly"] is True
        assert f"location {url_path}/ " in STATIC_NGINX_CONF


def test_traefik_has_the_file_provider_and_routers_compress(production):
    traefik = production.container("traefik")
    assert f"--providers.file.filename={DYNAMIC_CONFIG_PATH}" in traefik.inputs["command"]
    uploaded = {u["file"]: u["content"] for u in traefik.inputs["uploads"]}
    dynamic = yaml.safe_load(uploaded[DYNAMIC_CONFIG_PATH])
    assert uploaded[DYNAMIC_CONFIG_PATH] == DYNAMIC_CONFIG
    assert "compress" in dynamic["http"]["middlewares"]["compress"]
    for middleware in REAL["services"]["traefik"]["middlewares"]:
        for service in ("web", "gateway", "static"):
            labels = {label["label"]: label["value"]
                      for label in production.container(service).inputs["labels"]}
            key = f"traefik.http.routers.meeshy-production-{service}.middlewares"
            assert middleware in labels[key].split(","), service


def test_redis_and_database_commands(production):
    assert production.container("redis").inputs["command"] == REAL["services"]["redis"]["command"]
    real_db = REAL["services"]["database"]["command"]
    ours = production.container("database").inputs["command"]
    if ours != real_db:
        missing = [a for a in real_db if a not in ours]
        assert all(f"`{a}`" in DOCS or a in docs_section("Deliberately different from the compose "
                                                          "files") for a in missing), missing


def test_head_services_are_settings_or_documented_differences():
    different = docs_section("Deliberately different from the compose files")
    for service in REAL["head_services"]:
        as_setting = service in OPTIONAL_SERVICES or (
            service == "certs-dumper" and "meeshy:images.certsDumper" in DOCS)
        assert as_setting or f"`{service}`" in different, service
        if as_setting and service in OPTIONAL_SERVICES:
            assert f"meeshy:services.{service}.enabled" in DOCS, service
    for tag in REAL["image_tags"]:
        assert f"`{tag}`" in different.split("| image tags |")[1].splitlines()[0], tag


def compose_variable_names(path: Path) -> dict[str, set[str]]:
    """service -> variable names a compose file sets (environment as a list or a map)."""
    document = yaml.safe_load(path.read_text()) or {}
    found = {}
    for service, spec in (document.get("services") or {}).items():
        environment = (spec or {}).get("environment") or {}
        names = (environment.keys() if isinstance(environment, dict)
                 else (e.split("=", 1)[0] for e in environment))
        found[service] = set(names)
    return found


def test_the_real_compose_files_when_they_are_reachable(production):
    folder = Path(os.environ.get("MEESHY_REAL_COMPOSE_DIR") or SHARED_COMPOSE)
    files = sorted(folder.glob("*.y*ml"))
    if not files:
        pytest.skip(f"no compose file in {folder} (the shared reference beside the clone); set "
                    "MEESHY_REAL_COMPOSE_DIR to a folder holding Meeshy's compose files")
    assert len(files) >= 2, files   # the production compose and the snapshot of its run
    left = operator_settings()
    compose_to_ours = {"gateway": "gateway", "translator": "translator", "frontend": "web"}
    uncovered = []
    for path in files:
        for service, names in compose_variable_names(path).items():
            ours = compose_to_ours.get(service)
            if ours is None:
                continue
            set_here = env(production.container(ours))
            uncovered += [f"{path.name} {service}: {n}" for n in sorted(names)
                          if n not in set_here
                          and not any(fnmatch.fnmatchcase(n, p) for p in left.get(ours, ()))]
    assert not uncovered, uncovered
