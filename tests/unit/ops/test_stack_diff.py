"""The canonical description of each stack, and the staging -> production difference: it must
be exactly the intended one (hosts, ports, images, protection). `pytest -s` prints it like a
preview diff; `python -m testing.describe staging production` prints the same."""
import collections
import re

import pytest

from config import naming
from testing.describe import describe, diff
from testing.mock_pulumi import EXAMPLE_SECRETS, run_stack_file, stack_file_config


@pytest.fixture(scope="module")
def runs():
    return {s: run_stack_file(s) for s in ("staging", "production")}


def intended_production(staging_lines: list[str]) -> list[str]:
    """Staging's description with only the intended differences applied."""
    s_cfg, p_cfg = stack_file_config("staging"), stack_file_config("production")
    s_ports, p_ports = s_cfg["meeshy:ports"], p_cfg["meeshy:ports"]
    image_changes = {s_cfg["meeshy:images"][k]: p_cfg["meeshy:images"][k]
                     for k in s_cfg["meeshy:images"]
                     if s_cfg["meeshy:images"][k] != p_cfg["meeshy:images"][k]}
    out = []
    for line in staging_lines:
        # ports: production publishes only HTTP/HTTPS, on 80/443, and redirects to the entrypoint
        if re.search(r"-(database|redis) \| publish ", line):
            continue
        line = line.replace(f"0.0.0.0:{s_ports['http']}", f"0.0.0.0:{p_ports['http']}")
        line = line.replace(f"0.0.0.0:{s_ports['https']}", f"0.0.0.0:{p_ports['https']}")
        line = line.replace(f"entrypoint.to=:{s_ports['https']}", "entrypoint.to=websecure")
        # hosts: *.staging.<domain> -> *.<domain>
        line = line.replace("staging.meeshy.me", "meeshy.me")
        # images: staging's release candidates -> production's pinned release
        for old, new in image_changes.items():
            line = line.replace(f"= {old}", f"= {new}")
        if re.match(r"(Command|Resource) meeshy-<stack>-release-", line):
            line = release_step_line(line, s_cfg, p_cfg, image_changes)
        out.append(line)
        # protection: production's data volumes are protected and retained
        m = re.fullmatch(r"Volume meeshy-<stack>-([a-z-]+)", line)
        if m and naming.VOLUMES[m.group(1)]:
            out += [f"{line} | protect = true", f"{line} | retain-on-delete = true"]
    return sorted(out + production_only_service_lines(p_cfg))


def production_only_service_lines(p_cfg: dict) -> list[str]:
    """Production's Firebase credentials (its stack file's meeshy:services): staging must not
    send real push notifications, so only production mounts them."""
    lines = []
    for f in p_cfg["meeshy:services"]["gateway"]["secretFiles"]:
        lines.append(f"Container meeshy-<stack>-gateway | env.{f['env']} = {f['path']}")
        lines.append(f"Container meeshy-<stack>-gateway | mount {f['path']} = host:{f['hostPath']}"
                     " (read-only)")
    return lines


def release_step_line(line: str, s_cfg: dict, p_cfg: dict, image_changes: dict) -> str:
    """The release steps (backup, migration, gate) differ only by what they are told: the stack
    (its name, its backup directory), the release label and the images their gate re-runs on."""
    for old, new in image_changes.items():
        line = line.replace(f"={old}", f"={new}")
    s_rel, p_rel = s_cfg["meeshy:release"], p_cfg["meeshy:release"]
    line = line.replace(f"--label {s_rel} ", f"--label {p_rel} ")
    line = line.replace(f"triggers = {s_rel},", f"triggers = {p_rel},")
    return re.sub(r"\bstaging\b", "production", line)


def resource_counts(run) -> dict[str, int]:
    return dict(sorted(collections.Counter(
        r.type if not r.custom else r.type.split(":")[-1] if not r.type.startswith("pulumi:providers")
        else "Provider/docker" for r in run.resources).items()))


def test_staging_to_production_is_exactly_the_intended_difference(runs):
    staging = describe(runs["staging"], normalize=True)
    production = describe(runs["production"], normalize=True)
    changes = diff(staging, production, "staging", "production")
    print("\n=== staging -> production (normalized names: meeshy-<stack>) ===")
    print("\n".join(changes))
    for stack, run in runs.items():
        print(f"=== {stack}: {len(run.resources)} resources: {resource_counts(run)}")
    assert intended_production(staging) == production
    removed = [line for line in changes if line.startswith("-") and not line.startswith("---")]
    added = [line for line in changes if line.startswith("+") and not line.startswith("+++")]
    assert removed and added  # the stacks do differ, and only as intended above


def test_both_stacks_declare_the_same_resources(runs):
    heads = {s: sorted(line for line in describe(r, normalize=True) if " | " not in line)
             for s, r in runs.items()}
    assert heads["staging"] == heads["production"]
    assert resource_counts(runs["staging"]) == resource_counts(runs["production"])


def test_description_is_deterministic_and_secret_free(runs):
    again = describe(run_stack_file("production"))
    assert again == describe(runs["production"])
    text = "\n".join(again)
    assert not any(s in text for s in EXAMPLE_SECRETS.values())
    assert "Container meeshy-production-gateway | secret-inputs = envs" in again
    assert "Container meeshy-production-gateway | env.JWT_SECRET = [secret]" in again


def test_one_line_per_resource_then_one_per_property(runs):
    lines = describe(runs["staging"])
    heads = [line for line in lines if " | " not in line]
    assert len(heads) == len(runs["staging"].resources)
    assert "Volume meeshy-staging-database-data | docker-name = meeshy-staging-database-data" in lines
    assert "Container meeshy-staging-redis | command[00] = redis-server" in lines
    assert all(line.split(" | ")[0] in heads for line in lines)
