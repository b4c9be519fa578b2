#!/usr/bin/env bash
# Build the Python venv of the test environment (KServe model server + kfp compiler + scikit-learn).
#
#   testenv/kserve/build.sh            # creates the venv if missing, prints its path last
#
# The venv lives in ${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}/venv-kserve-<hash>/, where
# <hash> covers requirements.txt, constraints.txt and the Python version, so a warm run does
# nothing and a changed pin builds a new venv. A venv is used only once it has the `.complete`
# marker (an interrupted build is removed and redone). Python: ${KUBEFLOW_TESTENV_PYTHON:-python3}.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${KUBEFLOW_TESTENV_CACHE:-$HOME/.cache/kubeflow-rs}"
python="${KUBEFLOW_TESTENV_PYTHON:-python3}"

log() { echo "[kserve/build] $*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
    log "error: $python not found (set KUBEFLOW_TESTENV_PYTHON to a Python 3.11-3.13)"
    exit 1
fi
# kserve 0.21 needs Python >= 3.10, < 3.14; scikit-learn 1.9 and numpy 2.4 need >= 3.11.
if ! "$python" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)'; then
    log "error: $("$python" --version 2>&1) does not fit the pins: use Python 3.11-3.13 (KUBEFLOW_TESTENV_PYTHON)"
    exit 1
fi
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        log "installing python3-venv (apt-get)"
        apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
    else
        log "error: $python has no venv/ensurepip module (install python3-venv)"
        exit 1
    fi
fi

pyver="$("$python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
hash="$( { cat "$here/requirements.txt" "$here/constraints.txt"; echo "python $pyver"; } | sha256sum | cut -c1-16)"
venv="$cache/venv-kserve-$hash"

mkdir -p "$cache"
exec 9>"$cache/venv-kserve.lock"
flock 9

if [ -f "$venv/.complete" ]; then
    log "venv up to date: $venv"
    echo "$venv"
    exit 0
fi

start=$(date +%s)
rm -rf "$venv"
log "creating $venv (Python $pyver; takes 1-2 minutes)"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --no-input \
    -r "$here/requirements.txt" -c "$here/constraints.txt"
"$venv/bin/python" -m pip check >&2
"$venv/bin/python" -c 'import kserve, kfp, kfp.kubernetes, sklearn, joblib' \
    || { log "error: the venv cannot import kserve/kfp/kfp.kubernetes/sklearn/joblib"; exit 1; }
touch "$venv/.complete"
log "venv built in $(( $(date +%s) - start ))s: $venv"
echo "$venv"
