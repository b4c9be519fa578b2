#!/usr/bin/env bash
# Start the real Kubernetes test control plane for one test run (see testenv/README.md):
#   etcd + kube-apiserver (static admin token, RBAC) on free 127.0.0.1 ports,
#   the upstream Kubeflow CRDs from ${KUBEFLOW_REFERENCE_DIR} (server-side applied, Established),
#   kwok as a fake kubelet with one Ready node whose pods/portforward reaches 127.0.0.1.
# Usage: testenv/k8s/start.sh RUN   (RUN = the per-run directory of scripts/test)
# Writes $RUN/pids/{etcd,kube-apiserver,kwok}.pid, $RUN/logs/*.log, appends to $RUN/env.
set -euo pipefail

RUN="${1:?usage: start.sh RUN_DIR}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
REF="${KUBEFLOW_REFERENCE_DIR:-$REPO/../shared/reference}"
NODE_NAME="${KF_KWOK_NODE_NAME:-kwok-node-0}"
READY_TIMEOUT="${KF_K8S_READY_TIMEOUT:-180}" # seconds, per wait

log() { printf '[k8s start] %s\n' "$*" >&2; }

mkdir -p "$RUN/pids" "$RUN/logs"
W="$RUN/k8s"
mkdir -p "$W/pki" "$W/etcd-data"
RUN="$(cd "$RUN" && pwd)"
W="$RUN/k8s"

fail() {
    log "error: $*"
    local f
    for f in "$RUN"/logs/etcd.log "$RUN"/logs/kube-apiserver.log "$RUN"/logs/kwok.log; do
        [[ -f $f ]] || continue
        log "---- last lines of $f"
        tail -n 25 "$f" >&2 || true
    done
    exit 1
}

apt_install() {
    local missing=() p
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    log "installing Debian packages: ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}
apt_install openssl curl python3 python3-yaml ca-certificates

[[ -d $REF ]] || fail "reference dir not found: $REF (set KUBEFLOW_REFERENCE_DIR)"
REF="$(cd "$REF" && pwd)"

BIN="$("$HERE/build.sh" | tail -n 1)"
[[ -x $BIN/kube-apiserver ]] || fail "build.sh did not produce binaries in $BIN"
KUBECTL="$BIN/kubectl"

# ---------------------------------------------------------------- free ports
declare -A TAKEN=()
free_port() {
    local i p
    for ((i = 0; i < 200; i++)); do
        p=$((20000 + RANDOM % 40000))
        [[ -n ${TAKEN[$p]:-} ]] && continue
        # A port is free when nothing accepts a connection on it.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            TAKEN[$p]=1
            echo "$p"
            return 0
        fi
    done
    return 1
}
ETCD_PORT=$(free_port) && ETCD_PEER_PORT=$(free_port) && API_PORT=$(free_port) &&
    KWOK_PORT=$(free_port) || fail "no free port found"

# ---------------------------------------------------------------- certificates
log "certificates in $W/pki"
(
    cd "$W/pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=kubeflow-rs-test-ca \
        -keyout ca.key -out ca.crt 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >san.ext
    for c in apiserver kubelet; do
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$c" -keyout "$c.key" -out "$c.csr" 2>/dev/null
        openssl x509 -req -in "$c.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
            -extfile san.ext -out "$c.crt" 2>/dev/null
    done
    # The API server's client certificate towards the kubelet (kwok): user kube-apiserver-kubelet-client.
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver-kubelet-client" \
        -keyout kubelet-client.key -out kubelet-client.csr 2>/dev/null
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in kubelet-client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile client.ext -out kubelet-client.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
) || fail "openssl failed"
ADMIN_TOKEN="$(openssl rand -hex 24)"
UNPRIV_TOKEN="$(openssl rand -hex 24)"
{
    echo "$ADMIN_TOKEN,kubeflow-test-admin,uid-admin,\"system:masters\""
    echo "$UNPRIV_TOKEN,kubeflow-test-nobody,uid-nobody"
} >"$W/pki/tokens.csv"
chmod 600 "$W/pki/tokens.csv" "$W/pki"/*.key

start_bg() { # name cmd... ; writes pid file, logs
    local name=$1
    shift
    "$@" >"$RUN/logs/$name.log" 2>&1 &
    echo $! >"$RUN/pids/$name.pid"
}
alive() { kill -0 "$(cat "$RUN/pids/$1.pid")" 2>/dev/null; }

wait_until() { # description timeout process-name command...
    local what=$1 timeout=$2 proc=$3 t0=$SECONDS
    shift 3
    until "$@" >/dev/null 2>&1; do
        [[ -z $proc ]] || alive "$proc" || fail "$proc exited while waiting for $what"
        ((SECONDS - t0 < timeout)) || fail "timed out after ${timeout}s waiting for $what"
        sleep 0.5
    done
    log "$what after $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- etcd
# kube-apiserver does not finish its graceful shutdown once etcd is gone, so etcd runs under a
# small supervisor (its PID is etcd.pid): on TERM it waits up to 6 s for kube-apiserver to
# exit, then stops etcd (TERM, 2 s, KILL): all within the 10 s that scripts/test allows.
etcd_supervised() {
    "$@" &
    local etcd=$!
    stop_etcd() {
        local i api
        api="$(cat "$RUN/pids/kube-apiserver.pid" 2>/dev/null || true)"
        for ((i = 0; i < 60; i++)); do
            [[ -n $api ]] && kill -0 "$api" 2>/dev/null || break
            sleep 0.1
        done
        kill -TERM "$etcd" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do
            kill -0 "$etcd" 2>/dev/null || exit 0
            sleep 0.1
        done
        kill -KILL "$etcd" 2>/dev/null || true
        exit 0
    }
    trap stop_etcd TERM INT
    wait "$etcd"
}
log "etcd on 127.0.0.1:$ETCD_PORT"
start_bg etcd etcd_supervised "$BIN/etcd" --name=default --data-dir="$W/etcd-data" \
    --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="default=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync=true --watch-progress-notify-interval=5s \
    --quota-backend-bytes=4294967296 --log-level=warn
wait_until "etcd healthy" "$READY_TIMEOUT" etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

# ---------------------------------------------------------------- kube-apiserver
APISERVER="https://127.0.0.1:$API_PORT"
log "kube-apiserver on $APISERVER"
start_bg kube-apiserver "$BIN/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --bind-address=127.0.0.1 --secure-port="$API_PORT" \
    --advertise-address=127.0.0.1 --endpoint-reconciler-type=none \
    --tls-cert-file="$W/pki/apiserver.crt" --tls-private-key-file="$W/pki/apiserver.key" \
    --cert-dir="$W/pki/generated" \
    --client-ca-file="$W/pki/ca.crt" \
    --service-account-issuer="$APISERVER" \
    --service-account-key-file="$W/pki/sa.key" --service-account-signing-key-file="$W/pki/sa.key" \
    --token-auth-file="$W/pki/tokens.csv" --authorization-mode=RBAC \
    --service-cluster-ip-range=10.0.0.0/24 \
    --disable-admission-plugins=ServiceAccount,StorageObjectInUseProtection \
    --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP \
    --kubelet-client-certificate="$W/pki/kubelet-client.crt" \
    --kubelet-client-key="$W/pki/kubelet-client.key" \
    --kubelet-certificate-authority="$W/pki/ca.crt" \
    --profiling=false
ready() {
    curl -fsS --cacert "$W/pki/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN" "$APISERVER/readyz" |
        grep -qx ok
}
wait_until "kube-apiserver ready" "$READY_TIMEOUT" kube-apiserver ready

# ---------------------------------------------------------------- kubeconfigs
write_kubeconfig() { # file user token
    cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kubeflow-test
  cluster:
    server: $APISERVER
    certificate-authority-data: $(base64 -w0 <"$W/pki/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: kubeflow-test
  context:
    cluster: kubeflow-test
    user: $2
    namespace: default
current-context: kubeflow-test
EOF
    chmod 600 "$1"
}
KUBECONFIG_FILE="$W/kubeconfig"
write_kubeconfig "$KUBECONFIG_FILE" kubeflow-test-admin "$ADMIN_TOKEN"
write_kubeconfig "$W/kubeconfig-unprivileged" kubeflow-test-nobody "$UNPRIV_TOKEN"
kc() { "$KUBECTL" --kubeconfig="$KUBECONFIG_FILE" "$@"; }

# ---------------------------------------------------------------- upstream CRDs
t0=$SECONDS
crd_files=()
while IFS= read -r f; do crd_files+=("$f"); done < <(
    for d in katib/crds kserve/crds notebooks/crds training/crds; do
        [[ -d $REF/$d ]] && find "$REF/$d" -name '*.yaml' -type f
    done | sort
)
((${#crd_files[@]})) || fail "no CRD files under $REF/{katib,kserve,notebooks,training}/crds"
applied=0
patches=()
apply_args=()
for f in "${crd_files[@]}"; do
    rel="${f#"$REF"/}"
    case "$(basename "$f")" in
    minimal-*) continue ;; # a trimmed copy of a CRD that is also present in full
    *validation_patches*)
        patches+=("$f")
        continue
        ;;
    esac
    if grep -q '^apiVersion: apiextensions.k8s.io/v1beta1' "$f"; then
        # apiextensions.k8s.io/v1beta1 was removed in Kubernetes 1.22: convert to v1 in memory.
        out="$W/converted-$applied.json"
        python3 "$HERE/crd_v1beta1_to_v1.py" "$f" >"$out" ||
            fail "could not convert $rel to apiextensions.k8s.io/v1"
        apply_args+=(-f "$out")
    elif grep -q '^kind: CustomResourceDefinition' "$f"; then
        apply_args+=(-f "$f")
    else
        continue
    fi
    applied=$((applied + 1))
done
# One kubectl call (server-side: some CRDs are too big for client-side apply's annotation).
kc apply --server-side --force-conflicts --field-manager=kubeflow-testenv "${apply_args[@]}" \
    >>"$RUN/logs/crds.log" 2>&1 || fail "applying the upstream CRDs failed (see $RUN/logs/crds.log)"
log "$applied upstream CRDs applied in $((SECONDS - t0)) s"
for p in "${patches[@]}"; do
    # kustomize JSON6902 patches of the notebook controller (required container name/image).
    kc patch crd notebooks.kubeflow.org --type=json --patch-file="$p" >>"$RUN/logs/crds.log" 2>&1 ||
        fail "patch ${p#"$REF"/} failed (see $RUN/logs/crds.log)"
done
kc wait --for=condition=Established crd --all --timeout="${READY_TIMEOUT}s" >>"$RUN/logs/crds.log" 2>&1 ||
    fail "CRDs not Established (see $RUN/logs/crds.log)"
log "all CRDs Established after $((SECONDS - t0)) s"

# ---------------------------------------------------------------- kwok (fake kubelet)
for k in portforwards clusterportforwards; do
    kc apply --server-side --field-manager=kubeflow-testenv -f "$BIN/kwok-data/crds/kwok.x-k8s.io_$k.yaml" \
        >>"$RUN/logs/crds.log" 2>&1 || fail "apply kwok CRD $k failed"
done
kc wait --for=condition=Established crd/portforwards.kwok.x-k8s.io crd/clusterportforwards.kwok.x-k8s.io \
    --timeout="${READY_TIMEOUT}s" >>"$RUN/logs/crds.log" 2>&1 || fail "kwok CRDs not Established"

log "kwok on 127.0.0.1:$KWOK_PORT (node $NODE_NAME)"
start_bg kwok "$BIN/kwok" --kubeconfig="$KUBECONFIG_FILE" \
    --config="$BIN/kwok-data/stages/node-initialize.yaml" \
    --config="$BIN/kwok-data/stages/pod-ready.yaml" \
    --config="$BIN/kwok-data/stages/pod-complete.yaml" \
    --config="$BIN/kwok-data/stages/pod-delete.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --node-ip=127.0.0.1 --node-port="$KWOK_PORT" --server-address="127.0.0.1:$KWOK_PORT" \
    --node-lease-duration-seconds=0 \
    --tls-cert-file="$W/pki/kubelet.crt" --tls-private-key-file="$W/pki/kubelet.key" \
    --enable-crds=PortForward,ClusterPortForward

kc apply --server-side --field-manager=kubeflow-testenv -f - >>"$RUN/logs/crds.log" 2>&1 <<EOF || fail "creating node $NODE_NAME failed"
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
EOF
node_ready() {
    [[ "$(kc get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" == True ]]
}
wait_until "node $NODE_NAME Ready" "$READY_TIMEOUT" kwok node_ready
kwok_listening() { (exec 3<>"/dev/tcp/127.0.0.1/$KWOK_PORT") 2>/dev/null; }
wait_until "kwok kubelet server listening" "$READY_TIMEOUT" kwok kwok_listening

cat >>"$RUN/env" <<EOF
export KUBEFLOW_TEST_KUBECONFIG='$KUBECONFIG_FILE'
export KUBEFLOW_TEST_UNPRIVILEGED_KUBECONFIG='$W/kubeconfig-unprivileged'
export KUBEFLOW_TEST_APISERVER='$APISERVER'
export KUBEFLOW_TEST_KWOK_NODE='$NODE_NAME'
export KUBEFLOW_TEST_KUBECTL='$KUBECTL'
export KUBEFLOW_TEST_K8S_VERSION='$("$BIN/kube-apiserver" --version | awk '{print $2}')'
EOF
log "ready: $APISERVER (kubeconfig $KUBECONFIG_FILE)"
