#!/bin/sh
# The same calling convention as the upstream redis image, so the components' command
# (`redis-server --appendonly yes ...`) and a bare flag list both work.
set -e
case "$1" in -*) set -- redis-server "$@" ;; esac
if [ "$1" = redis-server ]; then
  # No config file: Redis 7 would enter protected mode and refuse the other containers.
  case " $* " in *" --protected-mode "*) ;; *) set -- "$@" --protected-mode no ;; esac
fi
exec "$@"
