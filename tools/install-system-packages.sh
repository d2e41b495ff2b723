#!/usr/bin/env bash
# Install the Debian packages the test suite needs, if they are missing and we are allowed to.
#
# `python3 tasks.py test` runs this before pytest. It is safe to run every time: when
# everything is installed it only asks dpkg, so it is quiet and fast (no apt-get update).
# Where it cannot install (no apt-get, not root and no passwordless sudo) it prints one
# line and exits 0: the tests that need a package then skip and say why.
set -euo pipefail

# Add a package here when a test starts needing it.
PACKAGES=(
    postgresql  # initdb/pg_ctl for tests/postgres.py's throwaway clusters
    mariadb-server  # mariadb-install-db/mariadbd for tests/mysql.py's throwaway servers
    chromium    # /usr/bin/chromium, driven headless by tests/test_browser.py (Playwright)
    sqlite3     # the sqlite3 shell: chapter 08 runs a --sql script through it, as a DBA would
)

say() { echo "install-system-packages: $*"; }

is_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing_packages() {
    local package
    for package in "${PACKAGES[@]}"; do
        is_installed "$package" || echo "$package"
    done
}

if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
    say "skipped: no apt-get/dpkg here (not Debian or Ubuntu); install ${PACKAGES[*]} yourself"
    exit 0
fi

mapfile -t MISSING < <(missing_packages)
if [ "${#MISSING[@]}" -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    AS_ROOT=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    AS_ROOT=(sudo -n)
else
    say "skipped: not root and sudo asks for a password; missing: ${MISSING[*]}"
    exit 0
fi

# The tests start their own throwaway clusters; a fresh install need not create (and
# start) Debian's default "main" cluster on port 5432. Read by postgresql-common's
# postinst through the include_dir of createcluster.conf.
NO_MAIN_CLUSTER=/etc/postgresql-common/createcluster.d/50-no-main-cluster.conf
if [[ " ${MISSING[*]} " == *" postgresql"* ]] && [ ! -e "$NO_MAIN_CLUSTER" ]; then
    "${AS_ROOT[@]}" mkdir -p "$(dirname "$NO_MAIN_CLUSTER")"
    echo "create_main_cluster = false" | "${AS_ROOT[@]}" tee "$NO_MAIN_CLUSTER" >/dev/null
fi

# Likewise, Debian's mariadb-server starts its own server from its postinst where an init
# system runs; the tests never use it. policy-rc.d answers "not allowed" (101) for the install.
POLICY_RC_D=/usr/sbin/policy-rc.d
ADDED_POLICY=false
if [[ " ${MISSING[*]} " == *" mariadb-server "* ]] && [ ! -e "$POLICY_RC_D" ]; then
    printf '#!/bin/sh\nexit 101\n' | "${AS_ROOT[@]}" tee "$POLICY_RC_D" >/dev/null
    "${AS_ROOT[@]}" chmod 755 "$POLICY_RC_D"
    ADDED_POLICY=true
fi
remove_policy() { if $ADDED_POLICY; then "${AS_ROOT[@]}" rm -f "$POLICY_RC_D"; fi; }
trap remove_policy EXIT

say "installing ${MISSING[*]}"
APT=("${AS_ROOT[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y
     -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
# Package lists may be missing or stale on a fresh machine (a container image).
if "${APT[@]}" update </dev/null >/dev/null &&
   "${APT[@]}" install --no-install-recommends "${MISSING[@]}" </dev/null >/dev/null; then
    say "installed ${MISSING[*]}"
else
    # Not fatal: the tests that need these packages skip and say so.
    say "could not install ${MISSING[*]} (apt-get failed, see above); continuing"
fi
