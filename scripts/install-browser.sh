#!/bin/sh
# Install what the browser tests need: Debian's Chromium (Playwright drives it through
# executable_path=/usr/bin/chromium; no browser is ever downloaded) and axe-core from npm (the
# accessibility checks inject build/browser/node_modules/axe-core/axe.min.js into the pages).
# Safe to run again; does nothing for a part already installed.
set -eu
cd "$(dirname "$0")/.."

AXE_VERSION=4.14.1
AXE_DIR=build/browser

apt_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "browser tests: run as root to install $* (apt-get install)" >&2
        exit 1
    fi
    # The package lists may be missing on a fresh machine.
    apt-cache show "$1" >/dev/null 2>&1 || apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

if [ -x /usr/bin/chromium ]; then
    echo "chromium: already installed (/usr/bin/chromium)"
else
    apt_install chromium fonts-dejavu-core
    test -x /usr/bin/chromium
    echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || echo unknown version))"
fi

if grep -qs "\"version\": \"$AXE_VERSION\"" "$AXE_DIR/node_modules/axe-core/package.json"; then
    echo "axe-core: already installed ($AXE_VERSION)"
else
    command -v npm >/dev/null 2>&1 || apt_install npm
    npm install --prefix "$AXE_DIR" --no-save --no-package-lock --no-audit --no-fund --silent "axe-core@$AXE_VERSION"
    test -f "$AXE_DIR/node_modules/axe-core/axe.min.js"
    echo "axe-core: installed ($AXE_VERSION)"
fi
