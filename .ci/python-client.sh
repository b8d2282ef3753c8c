#!/usr/bin/env bash
# The Python client (clients/python): install it the way a user does — pip into a virtualenv made
# with --system-site-packages on Debian's python3 (httpx and pytest come from Debian packages) —
# then run its tests against real `detour serve` processes (needs the build).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3   # Debian's interpreter: python3-httpx/python3-pytest install for it (not pyenv's)
venv=$(mktemp -d /tmp/detour-client-venv.XXXXXX)
trap 'rm -rf "$venv"' EXIT
"$PY" -m venv --system-site-packages "$venv"
# --no-build-isolation: build with Debian's setuptools instead of fetching one from PyPI (offline CI).
"$venv/bin/pip" install --quiet --no-build-isolation --no-deps ./clients/python
"$venv/bin/python" -c 'import detour_client, httpx; print("detour-client", detour_client.__version__, "httpx", httpx.__version__)'
# From the repo root: `python -m pytest` puts the cwd on sys.path, so the tests import the
# installed package, not clients/python's sources.
"$venv/bin/python" -m pytest -q -p no:cacheprovider -c clients/python/pyproject.toml --rootdir clients/python clients/python/tests
