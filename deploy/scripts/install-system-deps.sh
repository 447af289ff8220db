#!/usr/bin/env bash
# Install the Debian packages the local observatory or the tests need, only
# those that are missing. Needs root (or sudo) when anything is missing.
# Quiet when everything is there; apt's output is shown only on failure.
#   install-system-deps.sh observatory   what `make observatory` runs: influxdb
#   install-system-deps.sh [test]        everything below (`make test`)
#   influxdb          InfluxDB 1.x server (influxd), for the InfluxDB publisher
#   victoria-metrics  accepts the InfluxDB v2 write API (influxdb-client)
#   docker.io         dockerd, containerd, runc: the HostManager's docker tier
#                     starts a private engine (ocs.testing.docker_engine)
#   busybox-static    /bin/busybox, packed into the local test images (no registry)
#   iproute2          `ip netns` / veth for tests/test_multihost_netns.py (two hosts)
#   debootstrap       root file system of the local base image the container images
#                     are built on in tests (deploy/docker/ocsimages/debian_base.py)
#   chromium          headless browser for the web panel tests (tests/test_web_panel.py,
#                     driven by Python playwright; no browser download)
set -euo pipefail
case "${1:-test}" in
  observatory) want=(influxdb) ;;
  test) want=(influxdb victoria-metrics docker.io busybox-static iproute2 debootstrap chromium) ;;
  *) echo "install-system-deps: unknown set '$1' (expected observatory or test)" >&2; exit 2 ;;
esac
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "==> Installing Debian packages (apt-get): ${missing[*]}"
start=$SECONDS
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-system-deps: could not install ${missing[*]} (apt output above)" >&2
  exit 1
fi
echo "    Debian packages installed in $((SECONDS - start)) s"
