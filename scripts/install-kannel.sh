#!/bin/sh
# Install Debian's Kannel SMS gateway (bearerbox, smsbox, and the fake SMSC from kannel-extras)
# without letting the package start its system service: Parley starts the boxes itself with a
# config it writes. Safe to run again; does nothing when bearerbox is already installed.
set -eu
"$(dirname "$0")/apt-install.sh" kannel /usr/sbin/bearerbox kannel kannel-extras
test -x /usr/sbin/smsbox
