#!/usr/bin/env bash
# Install Prism (@stoplight/prism-cli, pinned in package.json / package-lock.json) with `npm ci`.
#
# node_modules lives outside the repo, in
# ${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}/prism-<hash of package.json + package-lock.json>/,
# and is used only once it has the `.complete` marker, so a warm run does nothing and a changed
# lock installs afresh. Needs Node.js >= 18 and npm (Node 20 is what we test with).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}"

log() { echo "[prism/build] $*" >&2; }

for tool in node npm; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        log "error: $tool not found: install Node.js >= 18 with npm"
        exit 1
    fi
done
if ! node -e 'process.exit(parseInt(process.versions.node, 10) >= 18 ? 0 : 1)'; then
    log "error: Node.js $(node --version) is too old: Prism 5 needs >= 18"
    exit 1
fi

hash="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)"
dir="$cache/prism-$hash"

mkdir -p "$cache"
exec 9>"$cache/prism.lock"
flock 9

if [ -f "$dir/.complete" ] && [ -x "$dir/node_modules/.bin/prism" ]; then
    log "prism up to date: $dir"
    echo "$dir"
    exit 0
fi

start=$(date +%s)
rm -rf "$dir"
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
log "npm ci in $dir"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
version="$("$dir/node_modules/.bin/prism" --version)"
touch "$dir/.complete"
log "prism $version installed in $(( $(date +%s) - start ))s"
echo "$dir"
