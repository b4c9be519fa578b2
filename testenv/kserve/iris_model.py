"""A scikit-learn model served by KServe: an SVC trained at start on the iris data set that ships
inside scikit-learn (`load_iris`, no download), saved with joblib and loaded back the way KServe's
sklearn server loads `model.joblib`.

V1 and V2 inputs/outputs follow KServe's helpers `get_predict_input` / `get_predict_response`
(V2 output `output-0`, INT64 class ids); model errors become InferenceError (HTTP 500).
"""

import os
import tempfile

import joblib
from kserve import Model
from kserve.errors import InferenceError
from kserve.utils.utils import get_predict_input, get_predict_response
from sklearn.datasets import load_iris
from sklearn.svm import SVC


class IrisModel(Model):
    """Iris classifier (classes 0 setosa, 1 versicolor, 2 virginica)."""

    def __init__(self, name):
        super().__init__(name)
        self._model = None
        self.load()

    def load(self):
        features, labels = load_iris(return_X_y=True)
        trained = SVC(gamma="scale", probability=True, random_state=0).fit(features, labels)
        with tempfile.TemporaryDirectory(prefix="kf-iris-") as directory:
            path = os.path.join(directory, "model.joblib")
            joblib.dump(trained, path)
            self._model = joblib.load(path)
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None, response_headers=None):
        try:
            instances = get_predict_input(payload)
            result = self._model.predict(instances)
            return get_predict_response(payload, result, self.name)
        except Exception as error:
            raise InferenceError(str(error)) from error
