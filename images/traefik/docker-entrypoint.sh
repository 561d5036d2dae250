#!/bin/sh
# The upstream traefik image's convention: a command made only of flags runs traefik with them.
set -e
case "$1" in -*) set -- traefik "$@" ;; esac
exec "$@"
