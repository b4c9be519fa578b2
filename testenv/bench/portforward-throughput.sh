#!/usr/bin/env bash
# Throughput of a port-forwarding command: pushes N MiB through a forwarded local port to a
# local echo server behind a kwok pod (API server -> kwok "kubelet" -> echo), reading every
# byte back, and prints MiB/s (each byte crosses the forward twice: MiB/s counts it once).
#
# Needs the k8s test environment, e.g.:
#   KF_TESTENV_COMPONENTS=k8s scripts/test --exec testenv/bench/portforward-throughput.sh 64
#   KF_TESTENV_COMPONENTS=k8s scripts/test --exec testenv/bench/portforward-throughput.sh 64 -- \
#       my-forwarder --namespace {ns} --pod {pod} --remote {port} --local 127.0.0.1:{local}
# Placeholders in the command: {ns} {pod} {port} {local} {kubeconfig} {kubectl}.
# Default command: kubectl port-forward.
set -euo pipefail

MIB="${1:-64}"
shift || true
[[ ${1:-} == -- ]] && shift
if (($#)); then
    CMD=("$@")
else
    CMD=("{kubectl}" "--kubeconfig={kubeconfig}" -n "{ns}" port-forward --address=127.0.0.1 "pod/{pod}" "{local}:{port}")
fi
: "${KUBEFLOW_TEST_KUBECONFIG:?run through: KF_TESTENV_COMPONENTS=k8s scripts/test --exec $0}"
: "${KUBEFLOW_TEST_KWOK_NODE:?run through scripts/test --exec}"
KUBECTL="${KUBEFLOW_TEST_KUBECTL:-kubectl}"
kc() { "$KUBECTL" --kubeconfig="$KUBEFLOW_TEST_KUBECONFIG" "$@"; }
say() { printf '[bench] %s\n' "$*" >&2; }

WORK="$(mktemp -d /tmp/kf-bench.XXXXXX)"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    sleep 0.2
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# Echo server (prints its port, then serves until killed).
python3 -u - >"$WORK/echo.port" 2>"$WORK/echo.log" <<'EOF' &
import socket, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)
def serve(c):
    with c:
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            c.sendall(b)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
PIDS+=($!)
for ((i = 0; i < 100; i++)); do [[ -s $WORK/echo.port ]] && break; sleep 0.1; done
ECHO_PORT="$(head -n1 "$WORK/echo.port")"
[[ -n $ECHO_PORT ]] || { say "echo server did not start"; exit 1; }

NS="bench-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
POD="echo"
PORT=8080
kc create namespace "$NS" >/dev/null
kc apply --server-side -f - >/dev/null <<EOF
apiVersion: kwok.x-k8s.io/v1alpha1
kind: PortForward
metadata: {name: $POD, namespace: $NS}
spec:
  forwards:
  - ports: [$PORT]
    target: {address: 127.0.0.1, port: $ECHO_PORT}
---
apiVersion: v1
kind: Pod
metadata: {name: $POD, namespace: $NS}
spec:
  nodeName: $KUBEFLOW_TEST_KWOK_NODE
  containers:
  - name: main
    image: kwok.invalid/fake:never-pulled
    ports: [{containerPort: $PORT}]
EOF
kc -n "$NS" wait --for=condition=Ready "pod/$POD" --timeout=60s >/dev/null

LOCAL="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ARGS=()
for a in "${CMD[@]}"; do
    a="${a//\{ns\}/$NS}"
    a="${a//\{pod\}/$POD}"
    a="${a//\{port\}/$PORT}"
    a="${a//\{local\}/$LOCAL}"
    a="${a//\{kubeconfig\}/$KUBEFLOW_TEST_KUBECONFIG}"
    a="${a//\{kubectl\}/$KUBECTL}"
    ARGS+=("$a")
done
say "forwarder: ${ARGS[*]}"
"${ARGS[@]}" >"$WORK/forward.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 300; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$LOCAL") 2>/dev/null && break
    kill -0 "${PIDS[-1]}" 2>/dev/null || { say "forwarder exited:"; cat "$WORK/forward.log" >&2; exit 1; }
    sleep 0.1
done

python3 - "$LOCAL" "$MIB" <<'EOF'
import socket, sys, threading, time
port, mib = int(sys.argv[1]), int(sys.argv[2])
chunk = bytes(range(256)) * 4096  # 1 MiB
def run(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    total = n * len(chunk)
    def send():
        for _ in range(n):
            s.sendall(chunk)
    t = threading.Thread(target=send)
    t0 = time.perf_counter()
    t.start()
    got, view = 0, bytearray()
    while got < total:
        b = s.recv(1 << 20)
        if not b:
            raise SystemExit(f"connection closed after {got} of {total} bytes")
        if got < len(chunk):
            view += b[: len(chunk) - got]
        got += len(b)
    dt = time.perf_counter() - t0
    t.join()
    s.close()
    if bytes(view[: len(chunk)]) != chunk[: len(view)]:
        raise SystemExit("echoed bytes differ")
    return dt
run(1)  # warm-up: first connection sets up the stream
dt = run(mib)
print(f"{mib} MiB echoed in {dt:.2f} s: {mib / dt:.1f} MiB/s (each way)")
EOF
kc -n "$NS" delete pod "$POD" --wait=false >/dev/null 2>&1 || true
