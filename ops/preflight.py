"""What ops checks before a verb makes its first Pulumi call, reading only files.

A refusal here has created no stack, written no file and left the stack file as it was:
- a stack name without a Pulumi.<name>.yaml is refused, naming the nearest stack file;
- every output path (`--json FILE`) must be writable, so a report is never lost after the work;
- the verbs that apply the stack file (deploy, preview, switch, refresh-staging) parse it with
  the program's own settings model (config/stack_settings.py) and refuse every unknown
  `meeshy:` key;
- the host ports, public hosts and Docker names the stack declares must not be declared by any
  other stack file of the project (stacks share one Docker host and one DNS zone);
- refresh-staging refuses `--from` equal to its destination and a protected destination.

A stack with `meeshy:externalDatabase` runs the release steps alone against that server (no
Docker platform, as tests/e2e/project does): only the release section applies to it, and it
declares no ports, hosts or Docker names.
"""
from __future__ import annotations

import difflib
from pathlib import Path

from config import naming
from config import validation as v
from config.docker_access import is_remote
from config.locations import REPO_ROOT, writable_problem
from config.service_settings import SECRETS_KEY
from config.settings import MappingSource
from config.stack_file import ConfigDoc, StackConfigError, stack_file
from config.stack_settings import PLACEHOLDER, StackSettings, is_external, parse_stack
from ops.remote_host import remote_problems, use_docker_access


class PreflightError(ValueError):
    """Every reason a verb is refused before it starts, one sentence each."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(self.problems[0])
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            super().__init__(f"refused, {len(self.problems)} problems:\n{lines}")


def existing_stacks(project_dir: Path) -> list[str]:
    return sorted(p.name[len("Pulumi."):-len(".yaml")] for p in Path(project_dir).glob("Pulumi.*.yaml"))


def missing_stack_problem(project_dir: Path, stack: str, option: str = "") -> str | None:
    """`no stack file Pulumi.stagign.yaml; did you mean staging?`, or None when it exists."""
    if stack_file(project_dir, stack).is_file():
        return None
    known = existing_stacks(project_dir)
    near = difflib.get_close_matches(stack, known, n=1, cutoff=0.6)
    hint = (f"did you mean {near[0]}?" if near else
            f"the stacks here are {', '.join(known)}" if known else "this project has no stack file")
    return f"{option}no stack file Pulumi.{stack}.yaml in {Path(project_dir).resolve()}; {hint}"


def parsed(stack: str, doc: ConfigDoc) -> StackSettings:
    """The stack file through the program's one settings model (secret values present but
    encrypted: only their presence and storage are checked)."""
    return parse_stack(stack, stack_file_source(doc))


def stack_file_source(doc: ConfigDoc) -> MappingSource:
    """The stack file as the engine gives it to the program, values unread: the entries of
    meeshy:serviceSecrets, set one by one (`--secret --path`), stand as encrypted values (the
    program's checks of their shape need the value, which only `pulumi up` decrypts), and the
    section counts as secret as the engine counts it, unless an entry was set in plain text."""
    config, secret = dict(doc.config), set(doc.secret_keys())
    entries = config.get(SECRETS_KEY)
    if isinstance(entries, dict) and entries:
        if all(v.is_secure(value) for value in entries.values()):
            secret.add(SECRETS_KEY)
        config[SECRETS_KEY] = {name: PLACEHOLDER if v.is_secure(value) else value
                               for name, value in entries.items()}
    return MappingSource(config, secret)


def settings_problems(stack: str, doc: ConfigDoc) -> list[str]:
    """Every problem the program would raise on this stack file, each naming its key once."""
    return list(parsed(stack, doc).problems)


def footprint(stack: str, doc: ConfigDoc) -> dict[str, dict[str, str]]:
    """What this stack takes on the shared host: kind -> {host port, host or Docker name: the
    key that declares it}. Read leniently: the stack's own problems are reported apart."""
    found: dict[str, dict[str, str]] = {"host port": {}, "public host": {}, "volume": {}, "network": {}}
    if naming.stack_name_error(stack):
        return found
    model = parsed(stack, doc)
    if model.external:
        return found
    for name in ("http", "https", "database", "redis"):
        if model.ports and getattr(model.ports, name) is not None:
            found["host port"][str(getattr(model.ports, name))] = f"meeshy:ports.{name}"
    names = naming.StackNames(stack, model.domain or "invalid.invalid")
    if model.domain:
        for service in ("web", *naming.SUBDOMAINS):
            for host in names.hosts_of(service):
                found["public host"][host] = "meeshy:domain"
    adopt = model.adopt
    for purpose in naming.VOLUMES:
        if purpose in adopt.volumes:
            found["volume"][adopt.volumes[purpose]] = f"meeshy:adopt.volumes.{purpose}"
        else:
            found["volume"][names.volume(purpose)] = "the stack name"
    main = adopt.networks.get("main")
    found["network"][main.name if main else names.network] = (
        "meeshy:adopt.networks.main" if main else "the stack name")
    return found


def cross_stack_problems(project_dir: Path, stack: str, doc: ConfigDoc) -> list[str]:
    """What this stack would take that another stack file of the project already declares.
    Containers and Traefik routers are named `meeshy-<stack>-<service>`, so they follow the
    stack name and cannot collide; an unreadable other file is that stack's own problem."""
    mine, problems = footprint(stack, doc), []
    for other in existing_stacks(project_dir):
        if other == stack:
            continue
        try:
            theirs = footprint(other, ConfigDoc.read(stack_file(project_dir, other)))
        except StackConfigError:
            continue
        for kind, taken in mine.items():
            for thing, key in sorted(taken.items()):
                if thing in theirs[kind]:
                    problems.append(f"{key}: {kind} {thing} is also declared by stack {other} "
                                    f"({theirs[kind][thing]} in Pulumi.{other}.yaml); stacks on "
                                    "one host never share it")
    return problems


def protected_problem(stack: str, doc: ConfigDoc) -> str | None:
    """Why refresh-staging must not restore over `stack`, by its own settings: production, or
    meeshy:protectData true (the platform's default; a stack without the platform is protected
    only when it says so)."""
    raw = doc.config.get("meeshy:protectData")
    if stack == naming.PRODUCTION:
        why = "it is production"
    elif v.as_bool(raw, "meeshy:protectData", not is_external(doc.config), v.Problems()):
        why = "its meeshy:protectData is true" + (" (the default)" if raw is None else "")
    else:
        return None
    return (f"refusing to restore into stack {stack}: {why}, so its data is never "
            "replaced by another stack's backup")


def refresh_problems(project_dir: Path, stack: str, source: str) -> list[str]:
    if source == stack:
        return [f"--from {source} is the destination itself; --from names the "
                "stack whose latest backup is copied into it (default production)"]
    missing = missing_stack_problem(project_dir, source, "--from: ")
    return [missing] if missing else []


def check(args) -> None:
    """Raises PreflightError listing every reason `args` (parsed by ops/cli.py) is refused, by
    what its verb declares (ops/registry.py): a verb on a stack needs its stack file and a
    writable --json; one that applies the stack file needs it to pass the settings model and
    to take nothing another stack file declares; and each verb's own checks."""
    from ops.verbs import VERBS  # importing the verbs registers them
    declared = VERBS[args.verb]
    problems = []
    if declared.on_stack:
        if getattr(args, "json", None) is not None:
            problems.append(writable_problem(args.json, "--json"))
        missing = missing_stack_problem(args.project_dir, args.stack)
        problems.append(missing)
    if declared.check:
        problems += declared.check(args) or []
    if declared.on_stack and not missing and declared.applies:
        try:
            doc = ConfigDoc.read(stack_file(args.project_dir, args.stack))
        except StackConfigError as error:
            problems.append(str(error))
        else:
            problems += settings_problems(args.stack, doc)
            problems += cross_stack_problems(args.project_dir, args.stack, doc)
            if declared.check_file:
                problems.append(declared.check_file(args.stack, doc))
    problems = [p for p in problems if p]
    if args.verb == "audit":
        check_audit(args)
    elif declared.on_stack and not problems and args.verb != "history":
        check_remote(args)
    if problems:
        raise PreflightError(problems)


def check_remote(args) -> None:
    """A stack on an ssh:// engine (ops/remote_host.py): the server must be usable, checked by
    one ssh connection that changes nothing; then the docker CLI of every step gets its options."""
    try:
        values = ConfigDoc.read(stack_file(args.project_dir, args.stack)).plain_values()
    except StackConfigError as error:
        raise PreflightError([str(error)]) from None
    problems = remote_problems(values)
    if problems:
        raise PreflightError(problems)
    use_docker_access(values)


def check_audit(args) -> None:
    """The audit of a compose deployment on an ssh:// engine (`--docker-host`) connects with the
    stack file's meeshy:dockerSsh, checked like any verb's before the engine is asked anything."""
    if not is_remote(args.docker_host):
        return
    path = args.stack_file or stack_file(REPO_ROOT, args.stack)
    try:
        values = ConfigDoc.read(path).plain_values() if Path(path).is_file() else {}
    except StackConfigError as error:
        raise PreflightError([str(error)]) from None
    values = {**values, "meeshy:dockerHost": args.docker_host}
    problems = remote_problems(values)
    if problems:
        raise PreflightError(problems)
    use_docker_access(values)
