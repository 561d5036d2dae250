"""A canonical, readable description of a stack's resources, and the diff between two stacks.

One line per resource (`Kind name`) followed by one line per key property
(`Kind name | property = value`), sorted, secrets shown as [secret]. With `normalize`, the stack's
own Docker prefix becomes `meeshy-<stack>` (and a rolling container's digest `<digest>`) so two
stacks compare like a preview diff: what is left is what really differs (hosts, ports, images, protection).

    python -m testing.describe production            # the description
    python -m testing.describe staging production    # the staging -> production difference
Runs the real program under Pulumi mocks (testing/mock_pulumi.py): no CLI, no Docker.
"""
from __future__ import annotations

import difflib
import hashlib
import re
import shlex
import sys
from typing import Any, Iterable

from config import naming
from testing.mock_pulumi import EXAMPLE_SECRETS, EXAMPLE_SERVICE_SECRET, ProgramRun, Recorded, run_stack_file


def kind(r: Recorded) -> str:
    if r.type.startswith("pulumi:providers:"):
        return f"Provider/{r.type.rsplit(':', 1)[1]}"
    return r.type.rsplit(":", 1)[1] if r.custom else r.type  # components keep their token


def _short(urn_or_ref: str) -> str:
    return urn_or_ref.split("::")[-2] if "::" in urn_or_ref else urn_or_ref


def _container_props(i: dict) -> Iterable[tuple[str, Any]]:
    yield "image", i.get("image")
    yield "restart", i.get("restart")
    for n, arg in enumerate(i.get("command") or []):
        yield f"command[{n:02d}]", arg   # one line per argument: a changed flag is one diff line
    for env in i.get("envs") or []:
        name, _, value = env.partition("=")
        yield f"env.{name}", value
    for label in sorted(i.get("labels") or [], key=lambda x: x["label"]):
        yield f"label.{label['label']}", label["value"]
    for m in sorted(i.get("volumes") or [], key=lambda x: x["containerPath"]):
        source = m.get("volumeName") or f"host:{m.get('hostPath')}"
        yield f"mount {m['containerPath']}", source + (" (read-only)" if m.get("readOnly") else "")
    for p in sorted(i.get("ports") or [], key=lambda x: x["internal"]):
        yield f"publish {int(p['internal'])}", f"{p.get('ip', '0.0.0.0')}:{int(p['external'])}"
    if i.get("healthcheck"):
        yield "healthcheck", shlex.join(i["healthcheck"]["tests"])
    for n in i.get("networksAdvanced") or []:
        yield "network", n["name"]
    for u in sorted(i.get("uploads") or [], key=lambda x: x["file"]):
        yield f"file {u['file']}", "sha256:" + hashlib.sha256(u["content"].encode()).hexdigest()[:12]
    if i.get("wait"):
        yield "wait-healthy", True


def _labels(i: dict) -> Iterable[tuple[str, Any]]:
    for label in sorted(i.get("labels") or [], key=lambda x: x["label"]):
        yield f"label.{label['label']}", label["value"]


def properties(r: Recorded) -> list[tuple[str, Any]]:
    i = r.inputs
    props: list[tuple[str, Any]] = []
    if r.type.endswith(":Container"):
        props += _container_props(i)
    elif r.type.endswith(":Volume") or r.type.endswith(":Network"):
        props += [("docker-name", i.get("name"))] + list(_labels(i))
        if i.get("driver"):
            props.append(("driver", i["driver"]))
    elif r.type.endswith(":RemoteImage"):
        props += [("image", i.get("name")), ("keep-locally", i.get("keepLocally"))]
    elif r.type.startswith("pulumi:providers:"):
        props.append(("host", i.get("host")))
    elif r.type == "command:local:Command":
        # The command and what re-runs it.
        props += [("create", i.get("create")), ("triggers", ", ".join(map(str, i.get("triggers") or [])))]
    if r.custom and r.provider and not r.type.startswith("pulumi:providers:"):
        props.append(("provider", _short(r.provider)))
    for flag in ("protect", "retain_on_delete", "delete_before_replace"):
        if getattr(r, flag):
            props.append((flag.replace("_", "-"), True))
    if r.import_id:
        props.append(("import", r.import_id))
    if r.ignore_changes:
        props.append(("ignore-changes", ", ".join(r.ignore_changes)))
    if r.secret_props:
        props.append(("secret-inputs", ", ".join(sorted(r.secret_props))))
    return props


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe(run: ProgramRun,
             secrets: Iterable[str] = (*EXAMPLE_SECRETS.values(), EXAMPLE_SERVICE_SECRET),
             normalize: bool = False) -> list[str]:
    secret_values = sorted((s for s in secrets if s), key=len, reverse=True)

    def clean(text: str) -> str:
        for s in secret_values:
            text = text.replace(s, "[secret]")
        if normalize:
            text = re.sub(rf"\bmeeshy-{re.escape(run.stack)}\b", "meeshy-<stack>", text)
            # A rolling container's digest differs with everything it is made of.
            text = re.sub(rf"(meeshy-<stack>-[a-z-]+)-[0-9a-f]{{{naming.DIGEST_LENGTH}}}\b",
                          r"\1-<digest>", text)
            text = text.replace(f"`{run.stack}`", "`<stack>`")
        return text

    lines: list[str] = []
    for r in run.resources:
        head = clean(f"{kind(r)} {r.name}")
        lines.append(head)
        for prop, value in properties(r):
            value = _text(value)
            if normalize and prop == "label.meeshy.stack" and value == run.stack:
                value = "<stack>"
            lines.append(clean(f"{head} | {prop} = {value}"))
    return sorted(lines)


def diff(a: list[str], b: list[str], a_name: str, b_name: str) -> list[str]:
    return list(difflib.unified_diff(a, b, a_name, b_name, lineterm="", n=0))


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or any(arg.startswith("-") for arg in argv):
        print(__doc__.strip().splitlines()[-3:][0].strip(), file=sys.stderr)
        print("usage: python -m testing.describe STACK [OTHER_STACK]", file=sys.stderr)
        return 2
    runs = [run_stack_file(stack) for stack in argv]
    if len(runs) == 1:
        print("\n".join(describe(runs[0])))
        return 0
    a, b = (describe(r, normalize=True) for r in runs)
    print("\n".join(diff(a, b, argv[0], argv[1])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
