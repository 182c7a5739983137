#!/usr/bin/env bash
# Installs the browser test's npm package (playwright-core, pinned by package-lock.json) into TOOLS_DIR, a
# build directory (nothing in the source tree). The browser itself is Debian's chromium (scripts/setup);
# playwright-core downloads no browser. Idempotent: a stamp of the inputs skips the work when nothing changed.
#   setup-tools.sh TOOLS_DIR
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
tools=${1:?usage: setup-tools.sh TOOLS_DIR}
mkdir -p "$tools"
tools=$(cd "$tools" && pwd)

for program in node npm; do
  if ! command -v "$program" >/dev/null; then
    echo "browser setup-tools: $program not found (scripts/setup installs nodejs)" >&2
    exit 1
  fi
done

# npm's cache: the user's, or one in TOOLS_DIR where there is no writable home directory.
if [ -z "${npm_config_cache:-}" ] && { [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; }; then
  export npm_config_cache="$tools/npm-cache"
fi
# playwright-core must not try to download browsers.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

# One setup at a time per tools directory (two ctest runs sharing a build directory).
exec 9>"$tools/.lock"
flock -w 600 9 || { echo "browser setup-tools: timed out waiting for another setup of $tools" >&2; exit 1; }

stamp=$(cat "$here/package.json" "$here/package-lock.json" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$tools/.stamp" ] && [ "$(cat "$tools/.stamp")" = "$stamp" ] && [ -f "$tools/node_modules/playwright-core/index.mjs" ]; then
  echo "browser setup-tools: $tools is up to date"
  exit 0
fi
rm -f "$tools/.stamp"
echo "browser setup-tools: npm ci (package-lock.json) into $tools"
cp "$here/package.json" "$here/package-lock.json" "$tools/"
(cd "$tools" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false)
echo "$stamp" >"$tools/.stamp"
echo "browser setup-tools: ready in $tools"
