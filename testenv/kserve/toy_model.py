"""The "toy" KServe model of the test environment.

V1 `predict`: `{"instances"|"inputs": [[row], ...]}` -> `{"predictions": [row sums]}`.
V2 `infer`: the first input, reshaped to (shape[0], -1) -> `output0` (FP32 row sums) and
`output1` (INT64 row lengths). `use_binary_outputs` and `requested_outputs` are passed to the
response, so KServe's binary tensor extension and output selection work.
"""

import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model
from kserve.errors import InvalidInput


class ToyModel(Model):
    """Row sums and row lengths, for V1 and V2."""

    def __init__(self, name):
        super().__init__(name)
        self.load()

    def load(self):
        self.ready = True
        return self.ready

    async def predict(self, payload, headers=None, response_headers=None):
        if isinstance(payload, InferRequest):
            return self._predict_v2(payload)
        rows = payload.get("instances", payload.get("inputs"))
        if not isinstance(rows, list):
            raise InvalidInput('Expected "instances" or "inputs" to be a list')
        return {"predictions": [sum(row) for row in rows]}

    def _predict_v2(self, request):
        tensor = request.inputs[0]
        rows = tensor.as_numpy()
        rows = rows.reshape(tensor.shape[0], -1) if tensor.shape else rows.reshape(1, -1)
        sums = rows.sum(axis=1).astype(np.float32)
        lengths = np.full(rows.shape[0], rows.shape[1], dtype=np.int64)
        outputs = [
            InferOutput(name="output0", shape=[rows.shape[0]], datatype="FP32", data=sums.tolist()),
            InferOutput(name="output1", shape=[rows.shape[0]], datatype="INT64", data=lengths.tolist()),
        ]
        return InferResponse(
            response_id=request.id or "generated",
            model_name=self.name,
            infer_outputs=outputs,
            use_binary_outputs=request.use_binary_outputs,
            requested_outputs=request.request_outputs,
        )
