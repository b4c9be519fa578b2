"""Comparison pipeline (c): control flow — dsl.If/Elif/Else on a task output (the branch output
picked with dsl.OneOf) and dsl.ParallelFor over a list parameter whose results are fanned in with
dsl.Collected and summed by a downstream task.

With the defaults (x=7, items=[1, 2, 3, 4]): score=70 so grade="high"; sum_of_squares=30.
x=3 gives "mid" (score 30), x=1 gives "low" (score 10).
"""

from typing import List, NamedTuple

from kfp import dsl


@dsl.component(base_image="python:3.11")
def score(x: int) -> int:
    return x * 10


@dsl.component(base_image="python:3.11")
def label(text: str) -> str:
    return text


@dsl.component(base_image="python:3.11")
def square(x: int) -> int:
    return x * x


@dsl.component(base_image="python:3.11")
def add_all(values: List[int]) -> int:
    # int(): kfp.local hands the numbers inside a list parameter over as floats ([1.0, 4.0, ...];
    # they pass through a protobuf ListValue), and the executor rejects a float returned as int.
    return int(sum(values))


@dsl.pipeline(name="peer-control")
def control_pipeline(x: int = 7, items: List[int] = [1, 2, 3, 4]) -> NamedTuple(
        "Outputs", grade=str, sum_of_squares=int):
    scored = score(x=x)
    with dsl.If(scored.output > 50):
        high = label(text="high")
    with dsl.Elif(scored.output > 20):
        mid = label(text="mid")
    with dsl.Else():
        low = label(text="low")
    with dsl.ParallelFor(items) as item:
        squared = square(x=item)
    summed = add_all(values=dsl.Collected(squared.output))
    Outputs = NamedTuple("Outputs", grade=str, sum_of_squares=int)
    return Outputs(grade=dsl.OneOf(high.output, mid.output, low.output),
                   sum_of_squares=summed.output)
