#!/usr/bin/env bash
# Start the two KServe model servers of the test environment on 127.0.0.1 (free ports, no gRPC):
#   toy      — custom kserve.Model (toy_model.py), model name "toy"
#   sklearn  — iris SVC trained at start (iris_model.py), model name "sklearn-iris"
#
#   testenv/kserve/start.sh RUN
#
# Writes RUN/pids/kserve-{toy,sklearn}.pid and RUN/logs/kserve-{toy,sklearn}.log, checks that
# both listen on loopback only (check_loopback.py), and appends to RUN/env:
#   KUBEFLOW_TEST_PYTHON, KUBEFLOW_TEST_KSERVE_PYTHON (the same venv python: kserve + kfp),
#   KUBEFLOW_TEST_KSERVE_URL, KUBEFLOW_TEST_KSERVE_SKLEARN_URL.
set -euo pipefail

run="${1:?usage: start.sh RUN_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
timeout_s="${KF_KSERVE_START_TIMEOUT:-90}"

log() { echo "[kserve/start] $*" >&2; }

venv="$("$here/build.sh")"
python="$venv/bin/python"
mkdir -p "$run/pids" "$run/logs"

declare -A pids
start=$(date +%s%N)
for kind in toy sklearn; do
    rm -f "$run/kserve-$kind.port"
    # PYTHONUNBUFFERED: log lines reach the log file as they happen.
    PYTHONUNBUFFERED=1 "$python" "$here/serve.py" --kind "$kind" \
        --port-file "$run/kserve-$kind.port" >"$run/logs/kserve-$kind.log" 2>&1 &
    pids[$kind]=$!
    echo "${pids[$kind]}" >"$run/pids/kserve-$kind.pid"
done

# One bounded probe with the venv's python (no curl needed, no proxy): true on HTTP 200.
ready() {
    "$python" -c '
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
try:
    sys.exit(0 if opener.open(sys.argv[1], timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)' "$1"
}

fail() {
    log "error: $1; log tail of kserve-$2:"
    tail -n 30 "$run/logs/kserve-$2.log" >&2
    exit 1
}

deadline=$(( $(date +%s) + timeout_s ))
declare -A urls
for kind in toy sklearn; do
    while :; do
        if [ -s "$run/kserve-$kind.port" ]; then
            url="http://127.0.0.1:$(cat "$run/kserve-$kind.port")"
            if ready "$url/v2/health/ready"; then
                urls[$kind]=$url
                break
            fi
        fi
        kill -0 "${pids[$kind]}" 2>/dev/null || fail "the $kind model server exited during start-up" "$kind"
        [ "$(date +%s)" -lt "$deadline" ] || fail "the $kind model server was not ready after ${timeout_s}s" "$kind"
        sleep 0.2
    done
    log "$kind model server ready on ${urls[$kind]} after $(( ($(date +%s%N) - start) / 1000000 )) ms (pid ${pids[$kind]})"
done

if ! "$python" "$here/check_loopback.py" "${pids[toy]}" "${pids[sklearn]}" >"$run/logs/kserve-sockets.log" 2>&1; then
    cat "$run/logs/kserve-sockets.log" >&2
    log "error: a model server listens on a non-loopback address"
    exit 1
fi

{
    echo "export KUBEFLOW_TEST_PYTHON=$python"
    echo "export KUBEFLOW_TEST_KSERVE_PYTHON=$python"
    echo "export KUBEFLOW_TEST_KSERVE_URL=${urls[toy]}"
    echo "export KUBEFLOW_TEST_KSERVE_SKLEARN_URL=${urls[sklearn]}"
} >>"$run/env"
