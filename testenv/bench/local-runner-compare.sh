#!/usr/bin/env bash
# Scheduling overhead of a wide fan-out: the Python SDK's kfp.local against our local runner
# (kubeflow_pipelines::local), on the same compiled pipeline. Run by hand, not in CI:
#
#   testenv/bench/local-runner-compare.sh [RUNS]        # RUNS defaults to 3 (median reported)
#
# Env: KF_BENCH_ITEMS (fan-out width, default 200), KUBEFLOW_TEST_PYTHON (the venv python with
# kfp 2.17.3; default: the venv testenv/kserve/build.sh builds), CARGO_TARGET_DIR,
# KF_BENCH_OURS (a command run as `$KF_BENCH_OURS FILE.yaml` instead of the cargo example, e.g.
# an already built binary).
#
# 1. Compiles testenv/bench/fanout.py (fanout_pipeline: ITEMS lightweight Python tasks + 1
#    fan-in; fanout_true_pipeline: ITEMS container tasks running `true`) with kfp 2.17.3.
# 2. Times kfp.local (SubprocessRunner(use_venv=False), via testenv/kserve/kfp_local_run.py) on
#    fanout_pipeline: wall clock of the whole process, and the pipeline call alone (`seconds`).
#    kfp.local cannot run fanout_true_pipeline (SubprocessRunner refuses container components).
# 3. Times our runner on the compiled YAML of both pipelines with the example local_bench
#    (`cargo run --release -p kubeflow-examples --example local_bench -- FILE.yaml`, which prints
#    one JSON line {"tasks": N, "seconds": S}); skipped with a message while it does not exist.
# 4. Prints the medians and the ratio kfp.local / ours.
set -euo pipefail
RUNS="${1:-3}"
ITEMS="${KF_BENCH_ITEMS:-200}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

say() { printf '[local-runner-compare] %s\n' "$*" >&2; }

if [[ -n ${KUBEFLOW_TEST_PYTHON:-} ]]; then
    py="$KUBEFLOW_TEST_PYTHON"
else
    py="$("$repo/testenv/kserve/build.sh" | tail -n1)/bin/python"
fi
[[ -x $py ]] || { say "error: no venv python at $py"; exit 1; }

work="$(mktemp -d /tmp/kf-local-bench.XXXXXX)"
trap 'rm -rf "$work"' EXIT
items_json="$("$py" -c "import json, sys; print(json.dumps(list(range(int(sys.argv[1])))))" "$ITEMS")"
args="{\"items\": $items_json}"

# The compiled YAML carries the default list (200); a different width is compiled in by
# rewriting the default with the official compiler too (a pipeline_func wrapper would rename it).
compile() { # FUNC OUT
    "$py" - "$here/fanout.py" "$1" "$2" "$ITEMS" <<'PY'
import importlib.util, sys
from kfp import compiler
path, func, out, items = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
spec = importlib.util.spec_from_file_location("fanout", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
compiler.Compiler().compile(pipeline_func=getattr(module, func), package_path=out,
                            pipeline_parameters={"items": list(range(items))})
PY
}
compile fanout_pipeline "$work/fanout.yaml"
compile fanout_true_pipeline "$work/fanout-true.yaml"
say "compiled $ITEMS-item fan-outs to $work/fanout.yaml and $work/fanout-true.yaml"

now() { "$py" -c 'import time; print(f"{time.monotonic():.6f}")'; }
field() { "$py" -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])[sys.argv[1]])' "$1"; }

# kfp.local
kfp_wall=() kfp_call=()
for ((r = 1; r <= RUNS; r++)); do
    root="$work/kfp-root-$r"
    t0="$(now)"
    out="$("$py" "$repo/testenv/kserve/kfp_local_run.py" run "$here/fanout.py" fanout_pipeline \
        --pipeline-root "$root" --args "$args" 2>"$work/kfp-$r.log")" \
        || { say "kfp.local run $r failed; log tail:"; tail -n 30 "$work/kfp-$r.log" >&2; exit 1; }
    t1="$(now)"
    count="$(printf '%s\n' "$out" | "$py" -c 'import json, sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])["outputs"]["Output"])')"
    [[ $count == "$ITEMS" ]] || { say "kfp.local run $r counted $count tasks, want $ITEMS"; exit 1; }
    call="$(printf '%s\n' "$out" | field seconds)"
    wall="$("$py" -c "print(f'{$t1 - $t0:.3f}')")"
    echo "kfp.local run $r: $((ITEMS + 1)) tasks, wall ${wall} s, pipeline call ${call} s"
    kfp_wall+=("$wall") kfp_call+=("$call")
    rm -rf "$root"
done

# Our runner (the example local_bench, written with kubeflow_pipelines::local).
ours_wall=() ours_true=()
if [[ -n ${KF_BENCH_OURS:-} ]]; then
    # shellcheck disable=SC2206
    ours_cmd=($KF_BENCH_OURS)
elif [[ -f $repo/examples/local_bench.rs ]] && grep -q '"local_bench"' "$repo/examples/Cargo.toml"; then
    cargo build --quiet --release -p kubeflow-examples --example local_bench \
        --manifest-path "$repo/Cargo.toml"
    ours_cmd=(cargo run --quiet --release -p kubeflow-examples --example local_bench
        --manifest-path "$repo/Cargo.toml" --)
else
    ours_cmd=()
fi
if ((${#ours_cmd[@]} == 0)); then
    say "SKIPPED our runner: the example local_bench does not exist yet (examples/local_bench.rs," \
        "[[example]] local_bench in examples/Cargo.toml)"
else
    # The lightweight tasks run `python3` with kfp: put the venv first on PATH.
    export PATH="$(dirname "$py"):$PATH" KUBEFLOW_TEST_PYTHON="$py"
    ours() { # YAML -> prints the wall seconds; checks the task count
        local t0 t1 out tasks
        t0="$(now)"
        out="$("${ours_cmd[@]}" "$1" 2>"$work/ours.log")" \
            || { say "local_bench $1 failed; log tail:"; tail -n 30 "$work/ours.log" >&2; return 1; }
        t1="$(now)"
        tasks="$(printf '%s\n' "$out" | field tasks)"
        say "local_bench $(basename "$1"): $tasks tasks, runner $(printf '%s\n' "$out" | field seconds) s"
        "$py" -c "print(f'{$t1 - $t0:.3f}')"
    }
    for ((r = 1; r <= RUNS; r++)); do
        w="$(ours "$work/fanout.yaml")"
        t="$(ours "$work/fanout-true.yaml")"
        echo "ours run $r: lightweight fan-out wall ${w} s; container \`true\` fan-out wall ${t} s"
        ours_wall+=("$w") ours_true+=("$t")
    done
fi

"$py" - "${kfp_wall[*]}" "${kfp_call[*]}" "${ours_wall[*]:-}" "${ours_true[*]:-}" "$ITEMS" <<'PY'
import statistics, sys
kfp_wall, kfp_call, ours, ours_true = ([float(x) for x in a.split()] for a in sys.argv[1:5])
items = int(sys.argv[5])
print(f"median kfp.local ({items + 1} lightweight tasks): wall {statistics.median(kfp_wall):.2f} s, "
      f"pipeline call {statistics.median(kfp_call):.2f} s")
if ours:
    m = statistics.median(ours)
    print(f"median ours (same YAML): wall {m:.2f} s; ratio kfp.local/ours "
          f"{statistics.median(kfp_wall) / m:.1f}x")
    print(f"median ours ({items} container tasks `true`): wall {statistics.median(ours_true):.2f} s "
          f"(kfp.local SubprocessRunner cannot run container components)")
else:
    print("ours: skipped (no local_bench example yet)")
PY
