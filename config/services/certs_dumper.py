"""Exports Traefik's certificates for coturn (runs with coturn; components/platform/coturn.py)."""
from config.services.spec import Probe, ServiceSpec, VolumeUse

SPEC = ServiceSpec(
    name="certs-dumper", rank=130, image="certsDumper",
    health=Probe(start_period="120s"),      # until Traefik has the certificate
    runs="coturn",
    volumes=(VolumeUse("traefik-certs", "/letsencrypt", owner=False, read_only=True),),
    compose="certs-dumper",
)
