"""Comparison pipeline (d): an exit handler — the exit task reads dsl.PipelineTaskFinalStatus.

The exit task's result cannot be a pipeline output (it runs outside the handler's group), so it
writes "<message>:<state>:<task name>" to the file `marker` (a path the caller picks) and also
returns it. `n` >= 0: the body succeeds, the pipeline output is n + 1 and the marker holds
"done:SUCCEEDED:exit-handler-1"; n < 0: the body task fails, the pipeline fails and the marker
holds "done:FAILED:exit-handler-1".
"""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def work(n: int) -> int:
    if n < 0:
        raise ValueError(f"n must not be negative, got {n}")
    return n + 1


@dsl.component(base_image="python:3.11")
def report(status: dsl.PipelineTaskFinalStatus, message: str, marker: str) -> str:
    text = f"{message}:{status.state}:{status.pipeline_task_name}"
    with open(marker, "w") as f:
        f.write(text)
    return text


@dsl.pipeline(name="peer-exit-handler")
def exit_pipeline(marker: str, n: int = 41) -> str:
    final = report(message="done", marker=marker)
    with dsl.ExitHandler(final):
        work(n=n)
    return final.output
