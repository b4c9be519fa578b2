"""Comparison pipeline (a): parameters only — arithmetic and string operations with defaults.

Run by kfp.local (testenv/kserve/kfp_local_run.py) and by our local runner on the compiled YAML;
both must give the same outputs. With the defaults:
sum=7, product=10.5, greeting="hello kubeflow, hello kubeflow",
summary="10.50 | hello kubeflow, hello kubeflow | x+y | big=10,small=1".
"""

from typing import Dict, List, NamedTuple

from kfp import dsl


@dsl.component(base_image="python:3.11")
def add(a: int, b: int) -> int:
    return a + b


@dsl.component(base_image="python:3.11")
def scale(x: int, factor: float) -> float:
    return x * factor


@dsl.component(base_image="python:3.11")
def greet(name: str, times: int) -> str:
    return ", ".join([f"hello {name}"] * times)


@dsl.component(base_image="python:3.11")
def describe(total: float, greeting: str, loud: bool, tags: List[str], sizes: Dict[str, int]) -> str:
    # Non-string inputs arrive typed: bool, list and dict are rendered by the runner, decoded here.
    # int(): kfp.local hands the numbers inside a dict parameter over as floats (10.0; they pass
    # through a protobuf Struct), the remote backend as written (10).
    text = greeting.upper() if loud else greeting
    sizes_text = ",".join(f"{k}={int(sizes[k])}" for k in sorted(sizes))
    parts = [f"{total:.2f}", text, "+".join(tags), sizes_text]
    return " | ".join(parts)


@dsl.pipeline(name="peer-params")
def params_pipeline(
    a: int = 2,
    b: int = 5,
    factor: float = 1.5,
    name: str = "kubeflow",
    loud: bool = False,
    tags: List[str] = ["x", "y"],
    sizes: Dict[str, int] = {"small": 1, "big": 10},
) -> NamedTuple("Outputs", sum=int, product=float, greeting=str, summary=str):
    total = add(a=a, b=b)
    product = scale(x=total.output, factor=factor)
    greeting = greet(name=name, times=a)
    summary = describe(total=product.output, greeting=greeting.output, loud=loud, tags=tags,
                       sizes=sizes)
    Outputs = NamedTuple("Outputs", sum=int, product=float, greeting=str, summary=str)
    return Outputs(sum=total.output, product=product.output, greeting=greeting.output,
                   summary=summary.output)
