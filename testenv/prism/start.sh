#!/usr/bin/env bash
# Start Prism as a mock + request validator of the official KFP v2beta1 swagger, on 127.0.0.1.
#
#   testenv/prism/start.sh RUN
#
# Writes RUN/pids/prism.pid, RUN/logs/prism.log and appends `export KUBEFLOW_TEST_PRISM_URL=...`
# to RUN/env. The swagger is read in place from ${KUBEFLOW_REFERENCE_DIR:-<repo>/../shared/reference}.
#
# Behaviour tests rely on (see README.md): every operation of the swagger has an apiKey security
# scheme on the `authorization` header, so a request WITHOUT an `Authorization` header gets 401;
# send `Authorization: Bearer <anything>`. A request that breaks the spec gets 422; a valid one
# gets 200 with an example built from the schema.
set -euo pipefail

run="${1:?usage: start.sh RUN_DIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
reference="${KUBEFLOW_REFERENCE_DIR:-$repo/../shared/reference}"
spec="$reference/kfp/swagger/kfp_api_single_file.swagger.json"
timeout_s="${KF_PRISM_START_TIMEOUT:-60}"

log() { echo "[prism/start] $*" >&2; }

if [ ! -f "$spec" ]; then
    log "error: KFP swagger not found at $spec (set KUBEFLOW_REFERENCE_DIR)"
    exit 1
fi
dir="$("$here/build.sh")"
mkdir -p "$run/pids" "$run/logs"

# One bounded probe with node (no curl needed): exit 0 on HTTP 200. Without an Authorization
# header Prism would answer 401 (see README.md).
probe='
fetch(process.argv[1], { headers: { authorization: "Bearer readiness-probe" },
                         signal: AbortSignal.timeout(2000) })
  .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));'

logfile="$run/logs/prism.log"
start=$(date +%s%N)
# Prism needs a fixed -p: take a free loopback port (bind port 0, read it, release it) and retry
# with another one if Prism exits early (another process took it in between).
for attempt in 1 2 3; do
    port="$(node -e '
const s = require("net").createServer();
s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')"
    url="http://127.0.0.1:$port"
    "$dir/node_modules/.bin/prism" mock -h 127.0.0.1 -p "$port" "$spec" >"$logfile" 2>&1 &
    pid=$!
    echo "$pid" >"$run/pids/prism.pid"
    deadline=$(( $(date +%s) + timeout_s ))
    state=starting
    until node -e "$probe" "$url/apis/v2beta1/healthz"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            state=exited
            break
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            log "error: prism not ready on $url after ${timeout_s}s; log tail:"
            tail -n 30 "$logfile" >&2
            exit 1
        fi
        sleep 0.2
    done
    [ "$state" = exited ] || break
    log "prism exited during start-up (attempt $attempt); log tail:"
    tail -n 10 "$logfile" >&2
    [ "$attempt" -lt 3 ] || exit 1
done
echo "export KUBEFLOW_TEST_PRISM_URL=$url" >>"$run/env"
log "prism ready on $url in $(( ($(date +%s%N) - start) / 1000000 )) ms (pid $pid)"
