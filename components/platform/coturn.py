"""Coturn (TURN for calls) with the certificate dumper, behind `meeshy:services.coturn.enabled`.

Traefik obtains the certificate of `turn.<site>` (a router to `noop@internal` exists only for
that), the dumper exports it from Traefik's certificate volume (mounted read-only) to a volume of
PEM files, and coturn reads them read-only. Coturn's shared secret reaches it in a configuration
file uploaded read-only whose content is a secret Output: never on its command line, which
`docker inspect` and the state would show in plain text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.platform.app_service import operator_files, operator_mounts
from components.platform.containers import ContainerSpec, Mount, Publish, health_of, spec_mounts
from components.platform.context import StackContext
from components.platform.routing import cert_resolver, router_labels
from components.platform.volumes import stack_volume
from config.services.coturn import CERTS_DIR, TURN_PORT, TURNS_PORT
from config.settings import Settings

CONFIG_PATH = "/etc/coturn/turnserver.conf"
# traefik-certs-dumper's `file` mode: one folder per domain, rewritten when acme.json changes.
DUMPER_COMMAND = ("file", "--version", "v2", "--source", "/letsencrypt/acme.json",
                  "--dest", CERTS_DIR, "--domain-subdir", "--watch")


def turn_config(options: dict, host: str, realm: str, secret: Any) -> Any:
    """turnserver.conf for one stack; `secret` is an Output, so the whole text stays secret."""
    text = "\n".join([
        f"listening-port={TURN_PORT}", f"tls-listening-port={TURNS_PORT}",
        f"min-port={options['min_port']}", f"max-port={options['max_port']}",
        f"realm={realm}", f"server-name={host}", "fingerprint", "use-auth-secret",
        "static-auth-secret={secret}",
        f"cert={CERTS_DIR}/{host}/certificate.crt", f"pkey={CERTS_DIR}/{host}/privatekey.key",
        "no-cli", "log-file=stdout", ""])
    return pulumi.Output.secret(secret).apply(lambda value: text.replace("{secret}", value))


def turn_ports(options: dict) -> list[Publish]:
    ports = [Publish(p, p, protocol=proto) for p in (TURN_PORT, TURNS_PORT) for proto in ("tcp", "udp")]
    ports += [Publish(p, p, protocol="udp")
              for p in range(options["min_port"], options["max_port"] + 1)]
    return ports


def dumper_container(settings: Settings, traefik_certs: Any, certs: Any) -> ContainerSpec:
    """The certificate dumper's container (pure): Traefik's volume read-only, coturn's written."""
    options = settings.services.of("coturn").options
    host = settings.names.hosts_of("coturn")[0]
    return ContainerSpec(
        service="certs-dumper", image=settings.images.by_key()["certsDumper"],
        command=list(options.get("certs_dumper_command") or DUMPER_COMMAND),
        mounts=[Mount("/letsencrypt", volume=traefik_certs, read_only=True),
                Mount(CERTS_DIR, volume=certs)],
        health=health_of("certs-dumper", ["CMD", "test", "-s",
                                          f"{CERTS_DIR}/{host}/certificate.crt"]),
    )


def coturn_container(settings: Settings, certs: Any) -> ContainerSpec:
    """Coturn's container (pure); `certs` is the name of the volume the dumper fills."""
    names, extra = settings.names, settings.services.of("coturn")
    options = extra.options
    host = names.hosts_of("coturn")[0]
    return ContainerSpec(
        service="coturn", image=settings.images.by_key()["coturn"],
        command=["-c", CONFIG_PATH],
        labels=router_labels(names, "coturn", (host,), internal_service="noop@internal",
                             resolver=cert_resolver(settings)),
        envs=extra.environment(),
        mounts=[*spec_mounts("coturn", {"turn-certs": certs}), *operator_mounts(extra)],
        read_only_files={**operator_files(extra), CONFIG_PATH: turn_config(
            options, host, options["realm"] or names.site_domain, options["auth_secret"].value)},
        ports=turn_ports(options),
        health=health_of("coturn", ["CMD", *options["healthcheck"]]),
    )


@dataclass(frozen=True)
class CoturnArgs:
    ctx: StackContext
    traefik_certs: Any                 # the Traefik certificate volume's name (an Output)


class Coturn(pulumi.ComponentResource):
    def __init__(self, name: str, args: CoturnArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("meeshy:coturn:Coturn", name, None, opts)
        ctx, s = args.ctx, args.ctx.settings
        host = s.names.hosts_of("coturn")[0]
        self.certs = stack_volume(s, "turn-certs", provider=ctx.provider, parent=self)
        dumper = dumper_container(s, args.traefik_certs, self.certs.name)
        self.dumper = ctx.container(dumper, parent=self, depends_on=ctx.image_deps("certsDumper"))
        spec = coturn_container(s, self.certs.name)
        self.container = ctx.container(spec, parent=self,
                                       depends_on=[*ctx.image_deps("coturn"), self.dumper])
        self.container_name = self.container.name
        self.url = pulumi.Output.from_input(f"turn:{host}:{TURN_PORT}")
        self.register_outputs({"container_name": self.container_name, "url": self.url,
                               "certs_dumper": self.dumper.name, "certs_volume": self.certs.name})
