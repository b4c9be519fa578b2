"""Run a Python-authored pipeline with kfp.local (the peer our Rust local runner is compared with).

Usage (with the venv python, KUBEFLOW_TEST_PYTHON):

    kfp_local_run.py run FILE.py PIPELINE_FUNC --pipeline-root DIR [--args JSON]
    kfp_local_run.py compile FILE.py PIPELINE_FUNC OUT.yaml

`run` imports FILE.py, calls
`kfp.local.init(runner=kfp.local.SubprocessRunner(use_venv=False), pipeline_root=DIR)` and then
the `@dsl.pipeline` function PIPELINE_FUNC with the keyword arguments of the JSON object --args.
kfp.local's own logs and the tasks' streamed output go to stderr; stdout carries exactly one line,
a JSON object:

    {"outputs": {NAME: VALUE, ...},   # the pipeline's declared outputs
     "run_dir": "DIR/<pipeline-name>-<YYYY-mm-dd-HH-MM-SS-ffffff>" or null,
     "seconds": 1.23}                 # wall clock of the pipeline call alone (not the imports)

A parameter output is its JSON value (kfp.local reads numbers as floats unless the output is
typed int, so a float output 3.0 prints as 3.0). An artifact output is

    {"name": ..., "schema_title": "system.Dataset", "uri": "/abs/path", "metadata": {...},
     "content": "<file text>" or null}

where `content` is the file at `uri` when it is a UTF-8 text file of at most 64 KiB, else null
(a directory, a missing file — e.g. a Metrics artifact, whose values live in `metadata` — or a
binary or larger file). A list of artifacts (dsl.Collected over artifacts) is a JSON array of
those objects.

`compile` compiles PIPELINE_FUNC with kfp.compiler.Compiler to OUT.yaml.

Exit status: 0 on success; 1 when the pipeline fails (kfp.local raises, the message is on stderr);
2 on a usage error (bad arguments, no such function, not a pipeline).

Offline: the lightweight components compiled by kfp 2.17.3 start with
`python3 -m pip install --quiet --no-warn-script-location 'kfp==2.17.3' '--no-deps'`. With
use_venv=False kfp.local replaces `python3` by this interpreter, so pip finds kfp 2.17.3 already
installed and does not contact any index; PIP_NO_INDEX=1 is set anyway (inherited by the tasks)
so that a missing package fails at once instead of waiting on the network.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

_MAX_CONTENT = 64 * 1024


def _fail(code, message):
    print(f"kfp_local_run.py: {message}", file=sys.stderr)
    sys.exit(code)


def _load_module(path):
    if not os.path.isfile(path):
        _fail(2, f"no such file: {path}")
    spec = importlib.util.spec_from_file_location("kf_peer_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _pipeline(path, name):
    from kfp.dsl.graph_component import GraphComponent

    module = _load_module(path)
    func = getattr(module, name, None)
    if func is None:
        _fail(2, f"{path} defines no {name!r}")
    if not isinstance(func, GraphComponent):
        _fail(2, f"{name!r} in {path} is not a @dsl.pipeline function")
    return func


def _content(uri):
    try:
        if not os.path.isfile(uri) or os.path.getsize(uri) > _MAX_CONTENT:
            return None
        with open(uri, "rb") as f:
            return f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _jsonable(value):
    from kfp import dsl

    if isinstance(value, dsl.Artifact):
        return {
            "name": value.name,
            "schema_title": type(value).schema_title,
            "uri": value.uri,
            "metadata": _jsonable(dict(value.metadata or {})),
            "content": _content(value.uri),
        }
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _run(ns, out):
    try:
        arguments = json.loads(ns.args)
    except json.JSONDecodeError as err:
        _fail(2, f"--args is not JSON: {err}")
    if not isinstance(arguments, dict):
        _fail(2, "--args must be a JSON object of pipeline parameters")

    os.environ.setdefault("PIP_NO_INDEX", "1")
    os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")

    from kfp import local

    func = _pipeline(ns.file, ns.func)
    root = os.path.abspath(ns.pipeline_root)
    os.makedirs(root, exist_ok=True)
    before = set(os.listdir(root))
    local.init(runner=local.SubprocessRunner(use_venv=False), pipeline_root=root)

    start = time.monotonic()
    try:
        task = func(**arguments)
    except Exception as err:  # kfp.local raises RuntimeError naming the failed task
        _fail(1, f"the pipeline failed: {type(err).__name__}: {err}")
    seconds = time.monotonic() - start

    new = sorted(set(os.listdir(root)) - before - {".kfp_cache"})
    run_dir = os.path.join(root, new[-1]) if len(new) == 1 else None
    outputs = {name: _jsonable(value) for name, value in (task.outputs or {}).items()}
    out.write(json.dumps({"outputs": outputs, "run_dir": run_dir, "seconds": round(seconds, 3)},
                         sort_keys=True) + "\n")
    out.flush()


def _compile(ns):
    from kfp import compiler

    func = _pipeline(ns.file, ns.func)
    compiler.Compiler().compile(pipeline_func=func, package_path=ns.out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a pipeline with kfp.local")
    run.add_argument("file")
    run.add_argument("func")
    run.add_argument("--pipeline-root", required=True)
    run.add_argument("--args", default="{}")
    comp = sub.add_parser("compile", help="compile a pipeline to YAML")
    comp.add_argument("file")
    comp.add_argument("func")
    comp.add_argument("out")
    ns = parser.parse_args()

    if ns.command == "compile":
        _compile(ns)
        return
    # kfp.local logs to sys.stdout and prints the tasks' output: keep the real stdout for the
    # one JSON line and point file descriptor 1 (and sys.stdout) at stderr for everything else.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    _run(ns, out)


if __name__ == "__main__":
    main()
