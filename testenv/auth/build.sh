#!/usr/bin/env bash
# Builds the real authentication servers of the test environment (component "auth"):
# Dex and oauth2-proxy, pinned by go.mod/go.sum in this directory.
#
# Binaries are cached under
#   ${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}/bin/auth-<hash of go.mod, go.sum, build.sh>/
# and the build is skipped when that directory is complete. Progress goes to stderr; the
# cache directory is printed on stdout. Resource figures of the build (wall time, peak RSS
# from /usr/bin/time -v) are kept in build-stats.txt there.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache_root="${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}"
hash="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
out="$cache_root/bin/auth-$hash"

if [[ -x "$out/dex" && -x "$out/oauth2-proxy" && -f "$out/.complete" ]]; then
    echo "auth: cached binaries in $out" >&2
    echo "$out"
    exit 0
fi

if ! command -v go >/dev/null 2>&1; then
    echo "auth: the go command is needed (Go >= 1.26)" >&2
    exit 1
fi
if [[ ! -x /usr/bin/time ]]; then
    echo "auth: installing Debian package 'time' (for build resource figures)" >&2
    sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq time >&2
fi

mkdir -p "$cache_root/bin"
tmp="$(mktemp -d "$cache_root/bin/.auth-build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

export CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly

cd "$here"
dex_version="$(go list -m -f '{{.Version}}' github.com/dexidp/dex)"
proxy_version="$(go list -m -f '{{.Version}}' github.com/oauth2-proxy/oauth2-proxy/v7)"

build() { # name package ldflags
    local name="$1" pkg="$2" ldflags="$3"
    echo "auth: building $name ($pkg)" >&2
    /usr/bin/time -v -o "$tmp/$name.time" \
        go build -trimpath -buildvcs=false -ldflags "-s -w $ldflags" -o "$tmp/$name" "$pkg"
    local wall rss
    wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/$name.time")"
    rss="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/$name.time")"
    echo "$name: wall $wall, peak RSS ${rss} KiB" | tee -a "$tmp/build-stats.txt" >&2
}

build dex github.com/dexidp/dex/cmd/dex \
    "-X main.version=$dex_version"
build oauth2-proxy github.com/oauth2-proxy/oauth2-proxy/v7 \
    "-X github.com/oauth2-proxy/oauth2-proxy/v7/pkg/version.VERSION=$proxy_version"

{
    echo "dex $dex_version"
    echo "oauth2-proxy $proxy_version"
} >"$tmp/versions.txt"
touch "$tmp/.complete"

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "auth: built into $out" >&2
echo "$out"
