#!/usr/bin/env bash
# Install the Azure CLI the scenario test in tests/azcli runs, into a venv of its own.
#
# Not the project's venv: azure-cli 2.91.0 is 733 MB and pins its own versions of the Azure SDKs
# (azure-mgmt-containerregistry==15.1.0b3, azure-mgmt-authorization==5.0.0b2, ...), which must not
# decide the console's. Idempotent: a venv already holding this version is left as it is.
#
#   tests/azcli/install.sh            # into .venv-azcli at the repository root
#   ACR_CONSOLE_AZ_VENV=DIR tests/azcli/install.sh
#
# The tests find az at $ACR_CONSOLE_AZ_VENV/bin/az (default .venv-azcli/bin/az).
set -euo pipefail
cd "$(dirname "$0")/../.."

version=2.91.0
venv=${ACR_CONSOLE_AZ_VENV:-.venv-azcli}
python=${PYTHON:-python3}

installed() {
  [ -x "$venv/bin/az" ] && compgen -G "$venv/lib/python3*/site-packages/azure_cli-$version.dist-info" > /dev/null
}

if installed; then
  echo "azure-cli $version: already in $venv"
  exit 0
fi
echo "azure-cli $version: installing into $venv (about 730 MB; a few minutes)"
started=$(date +%s)
rm -rf "$venv"
"$python" -m venv "$venv"
log="$venv/install.log"
if ! "$venv/bin/pip" install --disable-pip-version-check "azure-cli==$version" > "$log" 2>&1; then
  grep -v "^WARNING: Location" "$log" | tail -n 30 >&2
  echo "azure-cli $version: pip failed; the whole log is in $log" >&2
  exit 1
fi
installed || { echo "azure-cli $version: pip succeeded but $venv/bin/az is missing" >&2; exit 1; }
echo "azure-cli $version: installed in $(( $(date +%s) - started )) s"
