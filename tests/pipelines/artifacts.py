"""Comparison pipeline (b): artifacts — a Dataset written by one task and read by the next, which
emits a Model, Metrics (`log_metric`) and an output parameter.

With the defaults (rows=4): the dataset is "0,0\\n1,1\\n2,4\\n3,9\\n" (metadata rows=4), total=14,
the model file is "weights=14" (metadata framework="sum"), metrics metadata {rows: 4, total: 14}.
"""

from typing import NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def make_dataset(rows: int, data: Output[Dataset]):
    with open(data.path, "w") as f:
        for i in range(rows):
            f.write(f"{i},{i * i}\n")
    data.metadata["rows"] = rows


@dsl.component(base_image="python:3.11")
def train(data: Input[Dataset], model: Output[Model], metrics: Output[Metrics]) -> int:
    with open(data.path) as f:
        lines = f.read().splitlines()
    total = sum(int(line.split(",")[1]) for line in lines)
    with open(model.path, "w") as f:
        f.write(f"weights={total}")
    model.metadata["framework"] = "sum"
    metrics.log_metric("rows", len(lines))
    metrics.log_metric("total", total)
    return total


@dsl.pipeline(name="peer-artifacts")
def artifacts_pipeline(rows: int = 4) -> NamedTuple(
        "Outputs", dataset=Dataset, model=Model, metrics=Metrics, total=int):
    made = make_dataset(rows=rows)
    trained = train(data=made.outputs["data"])
    Outputs = NamedTuple("Outputs", dataset=Dataset, model=Model, metrics=Metrics, total=int)
    return Outputs(dataset=made.outputs["data"], model=trained.outputs["model"],
                   metrics=trained.outputs["metrics"], total=trained.outputs["Output"])
