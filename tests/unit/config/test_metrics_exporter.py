"""The optional metrics exporter: off by default, one container on the stack's network when
enabled, reading the stack's own database, never routed."""
from __future__ import annotations

import pytest

from config.settings import SettingsError, load_settings
from testing.mock_pulumi import EXAMPLE_SECRETS, run_stack_file, stack_file_config

IMAGE = "percona/mongodb_exporter:0.43.1"


def enabled(**options):
    return {"meeshy:services": {"metrics-exporter": {"enabled": True, **options}},
            "meeshy:images": {**stack_file_config("staging")["meeshy:images"],
                              "metricsExporter": IMAGE}}


def env(container):
    return dict(e.split("=", 1) for e in container.inputs["envs"])


def test_off_by_default():
    run = run_stack_file("staging")
    assert "metrics-exporter" not in run.exports["containerNames"]


def test_enabled_it_reads_the_stacks_database_and_is_not_routed():
    run = run_stack_file("staging", enabled())
    exporter = run.container("metrics-exporter")
    assert exporter.inputs["image"] == IMAGE
    assert env(exporter)["MONGODB_URI"] == env(run.container("gateway"))["DATABASE_URL"]
    assert not any(label["label"].startswith("traefik.http.routers")
                   for label in exporter.inputs["labels"])
    assert {"label": "traefik.enable", "value": "false"} in exporter.inputs["labels"]
    assert exporter.inputs["healthcheck"]["tests"][-1] == "http://localhost:9216/metrics"
    assert run.exports["containerNames"]["metrics-exporter"] == "meeshy-staging-metrics-exporter"


def test_its_probe_can_be_replaced():
    run = run_stack_file("staging", enabled(healthcheck=["/bin/true"]))
    assert run.container("metrics-exporter").inputs["healthcheck"]["tests"] == ["CMD", "/bin/true"]


def test_enabled_without_its_image_or_with_its_uri_overridden_is_refused():
    config = {**stack_file_config("staging"), **EXAMPLE_SECRETS}
    with pytest.raises(SettingsError) as error:
        load_settings("staging", {**config, "meeshy:services": {"metrics-exporter": {
            "enabled": True, "env": {"MONGODB_URI": "mongodb://elsewhere/x"}}}})
    assert error.value.problems == [
        "meeshy:services.metrics-exporter.env.MONGODB_URI: MONGODB_URI is set by the platform "
        "from the stack's names and secrets; it cannot be overridden",
        "meeshy:images.metricsExporter: missing; meeshy:services.metrics-exporter.enabled is "
        "true and needs it (an image pinned to a version tag or a digest)"]
