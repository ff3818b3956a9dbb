#!/usr/bin/env bash
# Runs the project's Python (.venv), creating or updating it from requirements.txt when needed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$root/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Setting up the Python environment in .venv (pinned requirements.txt)…" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
cd "$root"
exec "$venv/bin/python" "$@"
