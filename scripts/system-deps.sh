#!/usr/bin/env bash
# Install the Debian packages the tests and benchmarks need, only when missing.
# Usage: system-deps.sh [bench|langdata]
# lua5.1 runs Scribunto's LuaStandalone in the MediaWiki the Lua fidelity test and benchmark compare with.
# unicode-data holds NormalizationTest.txt, the cases tests/test_scribunto_upstream.py gives mw.ustring.toNFC and friends.
# openssl makes the self-signed certificate tests/test_peer_transport.py serves https with.
# postgresql: initdb and postgres for the store's PostgreSQL backend, started by the tests themselves (tests/pg_server.py).
# zim-tools (zimcheck) and kiwix-tools (kiwix-serve) check and serve the ZIM tests/test_zim.py exports.
set -euo pipefail
PACKAGES=(git mediawiki php-sqlite3 php-cli lua5.1 chromium p7zip-full procps unicode-data openssl zim-tools kiwix-tools postgresql)
# `system-deps.sh langdata`: only what scripts/build_langdata.py reads (MediaWiki's language files, php to read them).
if [ "${1:-}" = "langdata" ]; then
    PACKAGES=(mediawiki php-cli)
fi
# `system-deps.sh bench` adds the web benchmark's load generator and nginx anchor, and the sync benchmark's fossil.
if [ "${1:-}" = "bench" ]; then
    PACKAGES+=(wrk nginx fossil restic borgbackup)
fi
missing=()
for pkg in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
fi
