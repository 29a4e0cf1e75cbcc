#!/bin/sh
# Install Debian packages without letting their install scripts start a system service (the
# tests start the programs themselves, as children). Usage: scripts/apt-install.sh NAME BINARY PACKAGE...
# Safe to run again; does nothing when BINARY is already installed.
set -eu
name="$1" binary="$2"
shift 2

if [ -x "$binary" ]; then
    echo "$name: already installed ($binary)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "$name: run as root (apt-get install)" >&2
    exit 1
fi

policy=/usr/sbin/policy-rc.d
backup=""
restore_policy() {
    if [ -n "$backup" ]; then
        mv -f "$backup" "$policy"
    else
        rm -f "$policy"
    fi
}
if [ -e "$policy" ]; then
    backup="$(mktemp /usr/sbin/policy-rc.d.parley.XXXXXX)"
    cp -p "$policy" "$backup"
fi
trap restore_policy EXIT
printf '#!/bin/sh\nexit 101\n' >"$policy"
chmod 755 "$policy"

for package in "$@"; do
    if ! apt-cache show "$package" >/dev/null 2>&1; then
        apt-get update
        break
    fi
done

DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"

test -x "$binary"
echo "$name: installed"
