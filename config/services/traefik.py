"""Traefik: the stack's entry point, certificates and dashboard (components/platform/traefik.py)."""
from config.services.spec import Probe, ServiceSpec, VolumeUse

SPEC = ServiceSpec(
    name="traefik", rank=50, image="traefik",
    health=Probe(start_period="20s"),           # `traefik healthcheck --ping`
    subdomain="traefik",
    # Losing it means re-issuing every certificate (rate limits).
    volumes=(VolumeUse("traefik-certs", "/letsencrypt"),),
    compose="traefik", compose_required=True,
)
