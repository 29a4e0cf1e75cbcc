#!/bin/sh
# Install Debian's HAProxy (the several-instances tests run it as a child with deploy/haproxy.cfg)
# and systemd-analyze (which checks deploy/parley.service). Safe to run again.
set -eu
"$(dirname "$0")/apt-install.sh" haproxy /usr/sbin/haproxy haproxy
command -v systemd-analyze >/dev/null || "$(dirname "$0")/apt-install.sh" systemd /usr/bin/systemd-analyze systemd
