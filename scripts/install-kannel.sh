#!/bin/sh
# Install Debian's Kannel SMS gateway (bearerbox, smsbox, and the fake SMSC from kannel-extras)
# without letting the package start its system service: Parley starts the boxes itself with a
# config it writes. Safe to run again; does nothing when bearerbox is already installed.
set -eu

if [ -x /usr/sbin/bearerbox ]; then
    echo "kannel: already installed (/usr/sbin/bearerbox)"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "kannel: run as root (apt-get install)" >&2
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

packages="kannel kannel-extras"
for package in $packages; do
    if ! apt-cache show "$package" >/dev/null 2>&1; then
        apt-get update
        break
    fi
done

DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $packages

test -x /usr/sbin/bearerbox
test -x /usr/sbin/smsbox
echo "kannel: installed"
