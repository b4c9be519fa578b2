#!/usr/bin/env bash
# Build the test control plane binaries (etcd, kube-apiserver, kubectl, kwok) from the
# pinned Go module in this directory, cached under
#   ${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}/bin/k8s-<hash of go.mod+go.sum+build.sh+cmd>/
# A warm run (binaries present) does nothing. Prints the cache directory on the last line.
#
# Env: KF_K8S_BUILD_TIMES=1 wraps each `go build` in /usr/bin/time -v and prints
#      wall time and peak RSS (installed with apt-get when missing).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}"

# Versions: keep in sync with go.mod (k8s.io/kubernetes, etcd, kwok).
K8S_VERSION=v1.36.3
ETCD_VERSION=v3.6.13
KWOK_VERSION=v0.8.0

log() { printf '[k8s build] %s\n' "$*" >&2; }

hash_inputs() {
    (cd "$HERE" && cat go.mod go.sum build.sh cmd/*/main.go) | sha256sum | cut -c1-16
}
KEY="$(hash_inputs)"
OUT="$CACHE/bin/k8s-$KEY"
BINS=(etcd kube-apiserver kubectl kwok)

have_all() {
    local b
    for b in "${BINS[@]}"; do [[ -x "$OUT/$b" ]] || return 1; done
    [[ -f "$OUT/kwok-data/crds/kwok.x-k8s.io_portforwards.yaml" ]]
}

if have_all; then
    log "cached: $OUT"
    echo "$OUT"
    exit 0
fi

apt_install() {
    # Install Debian packages only when missing (fresh CI machine).
    local missing=() p
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v go >/dev/null || { log "error: go not found (Go >= 1.26 is required)"; exit 1; }
TIMING="${KF_K8S_BUILD_TIMES:-0}"
if [[ $TIMING == 1 ]]; then apt_install time; fi

export CGO_ENABLED=0 GOWORK=off GOTOOLCHAIN=local
export GOFLAGS="-buildvcs=false -trimpath -mod=readonly"

minor="${K8S_VERSION#v1.}"
minor="${minor%%.*}"
vflags="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION"
vflags+=" -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
vflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
vflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION"
vflags+=" -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"

TMP="$CACHE/bin/.k8s-$KEY.tmp.$$"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

build() { # name package extra-ldflags
    local name=$1 pkg=$2 ld=$3 t0=$SECONDS
    log "building $name ($pkg)"
    if [[ $TIMING == 1 ]]; then
        /usr/bin/time -v -o "$TMP/$name.time" go build -ldflags "-s -w $ld" -o "$TMP/$name" "$pkg"
        local wall rss
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$TMP/$name.time")
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$TMP/$name.time")
        log "built $name: wall $wall, peak RSS $((rss / 1024)) MiB"
    else
        go build -ldflags "-s -w $ld" -o "$TMP/$name" "$pkg"
        log "built $name in $((SECONDS - t0)) s"
    fi
}

cd "$HERE"
log "downloading modules (k8s $K8S_VERSION, etcd $ETCD_VERSION, kwok $KWOK_VERSION)"
go mod download
build etcd ./cmd/etcd ""
build kube-apiserver ./cmd/kube-apiserver "$vflags"
build kubectl k8s.io/kubernetes/cmd/kubectl "$vflags"
build kwok sigs.k8s.io/kwok/cmd/kwok ""

# kwok's stage definitions and CRDs, read in place from the module cache (not copied into the repo).
KWOK_DIR="$(go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)"
mkdir -p "$TMP/kwok-data/stages" "$TMP/kwok-data/crds"
cp "$KWOK_DIR/kustomize/stage/node/fast/node-initialize.yaml" "$TMP/kwok-data/stages/"
cp "$KWOK_DIR"/kustomize/stage/pod/fast/pod-{ready,complete,delete}.yaml "$TMP/kwok-data/stages/"
cp "$KWOK_DIR"/kustomize/crd/bases/kwok.x-k8s.io_{portforwards,clusterportforwards}.yaml "$TMP/kwok-data/crds/"

mkdir -p "$OUT"
mv "$TMP/kwok-data" "$OUT/kwok-data"
for b in "${BINS[@]}"; do mv "$TMP/$b" "$OUT/$b"; done
log "done: $OUT"
echo "$OUT"
