"""The local image references (tools/build-images.sh --list) must be usable as a rehearsal
stack's `meeshy:images` settings: every required key present, every reference pinned."""
from __future__ import annotations

import pathlib
import subprocess

from config import services
from config.validation import image_problem

ROOT = pathlib.Path(__file__).resolve().parents[3]
# The images every stack runs (config/services/); the admin UIs and the optional services
# (coturn, its certificate dumper, the agent: the stand-in image with
# MEESHY_STANDIN_ROLE=agent) have no local tag of their own: a rehearsal leaves them off.
REQUIRED = {s.image for s in services.SPECS if s.image and s.runs == services.ALWAYS}


def listed() -> dict[str, str]:
    out = subprocess.run(["bash", str(ROOT / "tools" / "build-images.sh"), "--list"], check=True,
                         capture_output=True, text=True, timeout=30).stdout
    return dict(line.split(" ", 1) for line in out.splitlines())


def test_every_listed_reference_passes_the_settings_validation():
    refs = listed()
    assert {key: image_problem(ref) for key, ref in refs.items()} == {key: None for key in refs}


def test_the_list_covers_every_image_a_stack_requires():
    refs = listed()
    assert {"gateway", "translator", "web", "static", "mongo", "redis", "traefik"} <= REQUIRED
    assert REQUIRED <= set(refs)


def test_each_release_of_a_service_is_a_different_reference():
    # The switch and its rollback compare images: legacy, target and the failing release of a
    # service must never share a tag.
    refs = listed()
    gateway = [refs["gateway"], refs["gateway@legacy"], refs["gateway@unhealthy"]]
    assert len(set(gateway)) == 3
    assert refs["translator"] != refs["translator@legacy"] and refs["web"] != refs["web@legacy"]


def test_the_tools_image_is_tagged_with_the_projects_version_and_named_by_the_stack_files():
    """Tests and rehearsals use a tag naming this checkout's programs; the stack files name the
    project's version, which the build tags too."""
    import yaml
    version = (ROOT / "VERSION").read_text().strip()
    tools = listed()["tools"]
    release, _, content = tools.rpartition("-")
    assert release == f"meeshy-local/meeshy-infra-tools:{version}" and len(content) == 12, tools
    for stack in ("staging", "production"):
        config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
        assert config["meeshy:tools"]["image"] == release, stack


def test_the_tools_image_pins_what_the_project_pins():
    def pins(path: pathlib.Path) -> dict[str, str]:
        lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
        return dict(line.split("==") for line in lines if "==" in line)
    project, image = pins(ROOT / "requirements.txt"), pins(ROOT / "images/tools/requirements.txt")
    assert image and {name: project.get(name) for name in image} == image
