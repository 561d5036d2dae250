"""A stack's configuration as a document ops can copy, change and hand to `pulumi up --config-file`.

The operator's Pulumi.<stack>.yaml is the desired configuration and ops never leaves it in an
intermediate state: each phase of a switch or rollback runs with its own file (the stack file's
header, i.e. the secrets provider and encryption salt, plus the phase's values). Secrets stay
as ciphertext (`{secure: ...}`) end to end; a plain value never replaces a secret one.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from config.validation import decode as _decode
from config.validation import is_secure


class StackConfigError(ValueError):
    pass


def project_name(project_dir: Path) -> str:
    path = Path(project_dir) / "Pulumi.yaml"
    if not path.is_file():
        raise StackConfigError(f"{path} not found: --project-dir must be a Pulumi project")
    name = (yaml.safe_load(path.read_text()) or {}).get("name")
    if not isinstance(name, str) or not name:
        raise StackConfigError(f"{path}: no project `name`")
    return name


def stack_file(project_dir: Path, stack: str) -> Path:
    return Path(project_dir) / f"Pulumi.{stack}.yaml"


def stack_config(path: Path) -> dict:
    """The `config` mapping of a stack file (full key -> raw YAML value); {} when there is no file.
    A file that is not a readable stack file raises StackConfigError naming it."""
    return ConfigDoc.read(path).config if Path(path).is_file() else {}


@dataclass
class ConfigDoc:
    header: dict = field(default_factory=dict)     # secretsprovider, encryptionsalt, ...
    config: dict = field(default_factory=dict)     # full key -> raw YAML value

    @classmethod
    def read(cls, path: Path) -> "ConfigDoc":
        if not Path(path).is_file():
            raise StackConfigError(f"stack file {path} not found")
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            # An operator's edit gone wrong: one sentence naming the file (and the line).
            where = getattr(error, "problem_mark", None)
            line = f" (line {where.line + 1})" if where is not None else ""
            raise StackConfigError(f"{path}{line}: not a readable YAML stack file: "
                                   f"{getattr(error, 'problem', None) or error}") from None
        if not isinstance(data, dict):
            raise StackConfigError(f"{path}: expected a mapping at the top level")
        config = data.pop("config", None) or {}
        if not isinstance(config, dict):
            raise StackConfigError(f"{path}: `config` must be a mapping")
        return cls(data, config)

    def text(self) -> str:
        data = {**self.header, "config": self.config}
        return yaml.safe_dump(data, sort_keys=True, default_flow_style=False)

    def write(self, path: Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.text())
        tmp.replace(path)
        return path

    def copy(self) -> "ConfigDoc":
        return ConfigDoc(copy.deepcopy(self.header), copy.deepcopy(self.config))

    def plain_values(self) -> dict[str, Any]:
        """Full key -> value of every non-secret entry (what the settings parsers read)."""
        return {k: v for k, v in self.config.items() if not is_secure(v)}

    def secret_keys(self) -> set[str]:
        return {k for k, v in self.config.items() if is_secure(v)}

    def get_path(self, path: str) -> Any:
        key, *rest = _split(path)
        value = self.config.get(key)
        for part in rest:
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def set_path(self, path: str, value: Any) -> "ConfigDoc":
        """Sets `meeshy:migration.pass`-style paths in place; refuses to overwrite a secret."""
        key, *rest = _split(path)
        if is_secure(self.config.get(key)):
            raise StackConfigError(f"{key} is a secret; ops does not replace it with a plain value")
        if not rest:
            self.config[key] = value
            return self
        node = self.config.get(key)
        node = _decode(node)
        if node is None:
            node = {}
        if not isinstance(node, dict):
            raise StackConfigError(f"{key} is not an object, cannot set {path}")
        self.config[key] = node
        for part in rest[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise StackConfigError(f"{path}: {part} is not an object")
            node = child
        node[rest[-1]] = value
        return self

    def with_values(self, values: dict[str, Any]) -> "ConfigDoc":
        doc = self.copy()
        for path, value in values.items():
            doc.set_path(path, value)
        return doc


def _split(path: str) -> list[str]:
    namespace, sep, rest = path.partition(":")
    if not sep or not rest:
        raise StackConfigError(f"config path {path!r} must look like namespace:key[.sub]")
    head, *tail = rest.split(".")
    return [f"{namespace}:{head}", *tail]


def from_history_config(config: dict, current: ConfigDoc) -> ConfigDoc:
    """The configuration an update recorded in the stack's history (an automation ConfigValue
    map: objects come back as JSON text), as a document to re-apply.

    The history holds no secret values (they are read with show_secrets off): each secret key
    takes the ciphertext of the current stack file, whose header (salt) is kept with it. A
    secret the current file no longer has cannot be re-applied, and is named.
    """
    doc = ConfigDoc(copy.deepcopy(current.header), {})
    for key, item in sorted(config.items()):
        if getattr(item, "secret", False):
            if not is_secure(current.config.get(key)):
                raise StackConfigError(f"{key} was a secret of that update and the stack file has "
                                       "no secret value for it: set it with `pulumi config set "
                                       f"--secret {key}` and retry")
            doc.config[key] = copy.deepcopy(current.config[key])
        else:
            doc.config[key] = _decode(item.value)
    return doc
