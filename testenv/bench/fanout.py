"""Benchmark pipelines for testenv/bench/local-runner-compare.sh: a wide dsl.ParallelFor fan-out
of a trivial task (200 items by default; the list is a pipeline parameter).

- `fanout_pipeline`: each iteration is a lightweight Python component returning its item; a
  fan-in task counts the collected results (the pipeline output `count`, = number of items), so
  a run is checked to have executed every iteration. kfp.local's SubprocessRunner can run it.
- `fanout_true_pipeline`: each iteration is a container component running `true` (image alpine,
  which a local runner notes and does not pull). kfp.local's SubprocessRunner refuses container
  components ("only supports running Lightweight Python Components"), so this one is timed with
  our runner only.
"""

from typing import List

from kfp import dsl

ITEMS = list(range(200))


@dsl.component(base_image="python:3.11")
def noop(i: int) -> int:
    return i


@dsl.component(base_image="python:3.11")
def count(values: List[int]) -> int:
    return len(values)


@dsl.container_component
def true_task(i: int):
    return dsl.ContainerSpec(image="alpine", command=["true"], args=[i])


@dsl.pipeline(name="bench-fanout")
def fanout_pipeline(items: List[int] = ITEMS) -> int:
    with dsl.ParallelFor(items) as item:
        done = noop(i=item)
    return count(values=dsl.Collected(done.output)).output


@dsl.pipeline(name="bench-fanout-true")
def fanout_true_pipeline(items: List[int] = ITEMS):
    with dsl.ParallelFor(items) as item:
        true_task(i=item)
