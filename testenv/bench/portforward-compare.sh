#!/usr/bin/env bash
# Side-by-side throughput of `kubectl port-forward` and kubeflow-core's port-forward (the
# `kfui` example, release build) through the same real API server and kwok pod:
#
#   KF_TESTENV_COMPONENTS=k8s scripts/test --exec testenv/bench/portforward-compare.sh [MiB] [rounds]
#
# Runs portforward-throughput.sh alternately for each forwarder (so drift hits both alike)
# and prints each run and the median ratio ours/kubectl.
set -euo pipefail
MIB="${1:-64}"
ROUNDS="${2:-3}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --quiet --release -p kubeflow-examples --example kfui --manifest-path "$repo/Cargo.toml"
KFUI="$target/release/examples/kfui"
[[ -x $KFUI ]] || { echo "kfui not built at $KFUI" >&2; exit 1; }

rate() { sed -n 's/.*: \([0-9.]*\) MiB\/s.*/\1/p' | tail -n1; }
kubectl_rates=() ours_rates=()
for ((r = 1; r <= ROUNDS; r++)); do
    k="$("$here/portforward-throughput.sh" "$MIB" | rate)"
    o="$("$here/portforward-throughput.sh" "$MIB" -- env "KUBECONFIG={kubeconfig}" "$KFUI" \
        --namespace "{ns}" --pod "{pod}" --remote-port "{port}" --port "{local}" | rate)"
    echo "round $r: kubectl $k MiB/s, kubeflow-core $o MiB/s"
    kubectl_rates+=("$k") ours_rates+=("$o")
done
python3 - "${kubectl_rates[*]}" "${ours_rates[*]}" <<'PY'
import statistics, sys
k = [float(x) for x in sys.argv[1].split()]
o = [float(x) for x in sys.argv[2].split()]
print(f"median: kubectl {statistics.median(k):.1f} MiB/s, kubeflow-core {statistics.median(o):.1f} MiB/s, "
      f"ratio {statistics.median(o) / statistics.median(k):.2f}")
PY
