"""Reads the stack's `meeshy:` configuration from the Pulumi runtime for `config/stack_settings.py`.

Values come back as the engine passes them (structured values as JSON text, decoded by the
parsers); secret keys are handed over as secret Outputs from `Config.get_secret`, so they stay
secret in state, outputs and container definitions.
"""
from __future__ import annotations

from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from config.naming import NS


class PulumiConfigSource:
    def __init__(self, namespace: str = NS):
        self.namespace = namespace
        self._config = pulumi.Config(namespace)

    def get(self, key: str) -> Any:
        return runtime_config.get_config(key)

    def is_secret(self, key: str) -> bool:
        return runtime_config.is_config_secret(key)

    def secret(self, key: str) -> pulumi.Output:
        return self._config.get_secret(key.split(":", 1)[1])

    def keys(self):
        keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env() or {})
        return sorted(k for k in keys if k.startswith(f"{self.namespace}:"))
