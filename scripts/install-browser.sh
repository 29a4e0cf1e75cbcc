#!/bin/sh
# Install Debian's Chromium for the browser tests (Playwright drives it through
# executable_path=/usr/bin/chromium; no browser is ever downloaded). Safe to run again; does
# nothing when /usr/bin/chromium is already installed.
set -eu

if [ -x /usr/bin/chromium ]; then
    echo "chromium: already installed (/usr/bin/chromium)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "chromium: run as root (apt-get install)" >&2
    exit 1
fi

# The package lists may be missing on a fresh machine.
apt-cache show chromium >/dev/null 2>&1 || apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core

test -x /usr/bin/chromium
echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo unknown version))"
