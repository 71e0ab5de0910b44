#!/usr/bin/env bash
# Install the parts of the test servers that PyPI does not carry (the PyPI ones,
# gcp-storage-emulator, asyncssh, moto, come with `make test` from the dev extra):
#   Azurite, Azure Blob Storage's emulator, from npm into .ci/npm (git ignores it),
#   run by tests/testing/servers_azure.py with the machine's Node.js.
# Idempotent and quiet; a second run only checks the installed version.
set -euo pipefail
cd "$(dirname "$0")"
AZURITE_VERSION=3.37.0
installed=$(node -p "require('./npm/node_modules/azurite/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$AZURITE_VERSION" ]; then
  npm install --prefix npm --no-save --no-audit --no-fund --loglevel=error \
    "azurite@$AZURITE_VERSION" >/dev/null
fi
