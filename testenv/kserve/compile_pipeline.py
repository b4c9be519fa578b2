"""Compile a KFP pipeline defined in a Python file with the official compiler (kfp.compiler).

Usage: python compile_pipeline.py SOURCE.py OUTPUT.yaml

The pipeline compiled is the module-level object named `pipeline` if there is one, otherwise the
only `@dsl.pipeline` function of the module. Exit 2 (with a message) when none or several exist.
"""

import importlib.util
import sys

from kfp import compiler
from kfp.dsl.graph_component import GraphComponent


def load_module(path):
    spec = importlib.util.spec_from_file_location("kf_test_pipeline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def pick_pipeline(module):
    chosen = getattr(module, "pipeline", None)
    if isinstance(chosen, GraphComponent):
        return chosen
    found = {name: value for name, value in vars(module).items() if isinstance(value, GraphComponent)}
    if len(found) == 1:
        return next(iter(found.values()))
    if not found:
        sys.exit("compile_pipeline.py: the source defines no @dsl.pipeline function")
    sys.exit(f"compile_pipeline.py: several pipelines ({', '.join(sorted(found))}): name the one "
             "to compile `pipeline`")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, output = sys.argv[1], sys.argv[2]
    compiler.Compiler().compile(pipeline_func=pick_pipeline(load_module(source)), package_path=output)


if __name__ == "__main__":
    main()
