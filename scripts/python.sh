#!/usr/bin/env bash
# Runs the project's Python (.venv), creating or updating it when needed: with the app's requirements
# (requirements-app.txt: what `npm start` needs to build the pack) or, with PY_REQUIREMENTS=dev, the tests' as well
# (requirements.txt, which includes the app's).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
case "${PY_REQUIREMENTS:-app}" in
  app) file="$root/requirements-app.txt" ;;
  dev) file="$root/requirements.txt" ;;
  *) echo "PY_REQUIREMENTS must be app or dev, not '${PY_REQUIREMENTS}'" >&2; exit 2 ;;
esac
# One stamp per requirements file; the dev set includes the app's, so installing it stamps both.
stamp() { echo "$venv/.$(basename "$1" .txt).sha256"; }
want() { { sha256sum "$1"; sha256sum "$root/requirements-app.txt"; } | cut -d' ' -f1 | tr -d '\n'; }
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$(stamp "$file")" 2>/dev/null)" != "$(want "$file")" ]; then
  echo "Setting up the Python environment in .venv ($(basename "$file"), pinned)…" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$file" >&2
  want "$file" > "$(stamp "$file")"
  if [ "$file" = "$root/requirements.txt" ]; then want "$root/requirements-app.txt" > "$(stamp "$root/requirements-app.txt")"; fi
fi
cd "$root"
exec "$venv/bin/python" "$@"
