#!/bin/sh
# Entry point of the ocs-router image: write Crossbar's config.json from the
# site config ($OCS_CONFIG_DIR/default.yaml, the `hub` section), then run
# Crossbar in the foreground. Arguments go to `ocs-router config` (e.g.
# --site-file FILE, --realm R, --port P).
#   CROSSBAR_DIR      node directory (default /data/crossbar)
#   ROUTER_INTERFACE  address to listen on (default 0.0.0.0; 127.0.0.1 with
#                     host networking on a shared machine)
#   SITE_HOST         host entry of the site config to read crossbar settings from
#   CROSSBAR_LOGLEVEL Crossbar's log level (default info)
set -eu
CROSSBAR_DIR="${CROSSBAR_DIR:-/data/crossbar}"
export CROSSBAR_DIR
mkdir -p "$CROSSBAR_DIR"
# A node.pid left by an earlier container would stop Crossbar from starting.
rm -f "$CROSSBAR_DIR/node.pid"
if [ -n "${SITE_HOST:-}" ]; then
    set -- --site-host "$SITE_HOST" "$@"
fi
ocs-router config --interface "${ROUTER_INTERFACE:-0.0.0.0}" \
    --output "$CROSSBAR_DIR/config.json" "$@"
exec crossbar start --cbdir "$CROSSBAR_DIR" --logformat standard --color false \
    --loglevel "${CROSSBAR_LOGLEVEL:-info}"
