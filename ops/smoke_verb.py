"""`./meeshy smoke STACK [--url URL] [--provision]`: the smoke check (ops/smoke.py) of the stack's
gateway as its smoke user (ops/smoke_user.py; `--provision` first gives one a fresh password in
the database the stack's services use), printed as a table and recorded in the stack's ledger
({"kind": "smoke", "ok", "url", "checks"}), so `preview` and `switch --require-smoke` can
refuse when staging's last smoke check is missing, failed, or older than its last
refresh-staging (`smoke_problem`).

Its own module: ops/verbs.py is at its size limit; ops/verbs.py imports it (registering it).
"""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ops.registry import arg, verb

if TYPE_CHECKING:
    from ops.automation.ledger import Ledger
    from ops.automation.stack_runner import StackRunner


def gateway_url(stack: str, plain_values: dict) -> str:
    """The gateway's public URL, as the platform routes it (https://gate.<stack's domain>)."""
    from config import naming
    domain = plain_values.get("meeshy:domain")
    if not isinstance(domain, str) or not domain:
        raise SystemExit(f"ops smoke: meeshy:domain is not set for stack {stack!r}: pass --url")
    names = naming.StackNames(stack, domain)
    return names.url(names.hosts_of("gateway")[0])


@verb("smoke", "log in as the stack's smoke user and list its conversations and messages",
      arguments=(arg("--url", metavar="URL",
                     help="the gateway to check (default: the stack's public gateway URL)"),
                 arg("--provision", action="store_true",
                     help="first give a migrated user of the database the stack's services use "
                          "a fresh password, kept by ops (never on production)")))
def smoke(args, runner: StackRunner) -> tuple[int, dict]:
    from ops import smoke_user
    from ops.data_ops import DataOperationError
    from ops.meeshy_api import MeeshyApi
    from ops.smoke import format_result, smoke_check
    try:
        if getattr(args, "provision", False):
            provision(runner, args.stack)
        user = smoke_user.load(runner.ledger.root, args.stack)
    except (smoke_user.SmokeUserError, DataOperationError) as error:
        print(f"ops smoke: {error}", file=sys.stderr)
        return 2, None
    url = args.url or gateway_url(args.stack, runner.desired().plain_values())
    result = smoke_check(MeeshyApi(url), user.username, user.password)
    record(runner.ledger, result.to_dict())
    print(format_result(result))
    if any(c.name == "login" and not c.ok for c in result.checks):
        # A refresh-staging (or a migration) since the password was given replaced its hash.
        print(f"ops smoke: the smoke user's login was refused; `./meeshy smoke {args.stack} "
              "--provision` gives it a fresh password", file=sys.stderr)
    return (0 if result.ok else 1), result.to_dict()


def provision(runner: StackRunner, stack: str):
    """A smoke user in the database the stack's services use, given a password by its gateway
    image (ops/smoke_user.py), recorded beside the ledger."""
    from commands.steps import DockerServer
    from config.release_settings import load_release_settings
    from ops import data_ops, smoke_user
    from ops.preflight import protected_problem
    doc = runner.desired()
    if protected_problem(stack, doc):   # refresh-staging's rule: production, or protectData true
        raise smoke_user.SmokeUserError(
            f"--provision refused on stack {stack!r}: it is production or its meeshy:protectData "
            "is true (the default), so its users' passwords are real; a staging refresh-staging "
            "copies production into sets meeshy:protectData: false")
    values = doc.plain_values()
    settings = load_release_settings(stack, values)
    image = (values.get("meeshy:images") or {}).get("gateway")
    server = data_ops.server_for(settings, values)
    if not image or not isinstance(server, DockerServer):
        raise smoke_user.SmokeUserError(f"--provision needs a stack on Docker with "
                                        f"meeshy:images.gateway set; {stack!r} is not one")
    made = smoke_user.provision(stack, image, server.database_uri(settings.live_database),
                                network=server.network, docker_host=server.docker_host)
    smoke_user.save(runner.ledger.root, made.user)
    runner.ledger.append({"kind": "smoke-user", "username": made.user.username,
                          "database": settings.live_database, "image": image})
    return made


def record(ledger: Ledger, result: dict) -> dict:
    return ledger.append({"kind": "smoke", **result})


def smoke_problem(ledger: Ledger, stack: str) -> str | None:
    """Why `stack`'s smoke check does not vouch for its data, or None: the last smoke check is
    missing, failed, or older than the last refresh-staging (it checked the previous copy)."""
    last = _last_of(ledger, ("smoke", "refresh"))
    smoke, refresh = last.get("smoke"), last.get("refresh")
    again = f"run `./meeshy smoke {stack}`"
    if smoke is None:
        return f"{stack} has no smoke check recorded: {again}"
    if not smoke.get("ok"):
        failed = ", ".join(c["name"] for c in smoke.get("checks") or [] if not c.get("ok"))
        return f"{stack}'s last smoke check ({smoke.get('at')}) failed ({failed or 'no check ran'}): " \
               f"fix it, then {again}"
    if refresh is not None and refresh["position"] > smoke["position"]:
        return (f"{stack}'s last smoke check ({smoke.get('at')}) is older than its last "
                f"refresh-staging ({refresh.get('at')}): {again}")
    return None


def require_smoke(runner: StackRunner, staging: str | None) -> None:
    """`--require-smoke [STAGING]` of preview and switch: refused (nothing changed) unless
    STAGING's last smoke check passed on its latest copy."""
    if staging is None:
        return
    from ops.automation.ledger import Ledger
    from ops.automation.snapshots import SnapshotError
    problem = smoke_problem(Ledger(runner.env.ledger_root(runner.project, staging)), staging)
    if problem:
        raise SnapshotError(f"--require-smoke: {problem} (nothing was changed)")


def _last_of(ledger: Ledger, kinds: tuple[str, ...]) -> dict[str, dict]:
    """The last entry of each kind, with its position in the ledger: the order of lines, not
    their `at` (two entries may share a millisecond)."""
    found: dict[str, dict] = {}
    for position, entry in enumerate(ledger.entries()):
        if entry.get("kind") in kinds:
            found[entry["kind"]] = {**entry, "position": position}
    return found
