//! Messages of the V2 / Open Inference Protocol (REST), with the binary tensor extension.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::tensor::{Datatype, InferTensor, TensorData, element_count};

/// The header that carries the length of the JSON part of a binary-extension body.
pub const INFERENCE_HEADER_CONTENT_LENGTH: &str = "inference-header-content-length";

/// An output the caller asks for, optionally in binary form.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct RequestedOutput {
    /// The output's name.
    pub name: String,
    /// `Some(true)`: this output in binary form; `Some(false)`: as JSON; `None`: the request's default.
    pub binary_data: Option<bool>,
    /// Other output parameters.
    pub parameters: Map<String, Value>,
}

impl RequestedOutput {
    /// Asks for the output `name`.
    pub fn new(name: impl Into<String>) -> Self {
        RequestedOutput {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Asks for this output in binary (`true`) or JSON (`false`) form.
    pub fn binary(mut self, yes: bool) -> Self {
        self.binary_data = Some(yes);
        self
    }
}

/// A V2 inference request.
///
/// ```
/// use kubeflow_serving::{InferRequest, InferTensor};
/// let req = InferRequest::new()
///     .id("req-1")
///     .input(InferTensor::new("input-0", vec![1, 4], vec![6.8f32, 2.8, 4.8, 1.4])?)
///     .binary_outputs(true);
/// # Ok::<(), kubeflow_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InferRequest {
    /// Request id, echoed by the server.
    pub id: Option<String>,
    /// Request parameters (e.g. `content_type`).
    pub parameters: Map<String, Value>,
    /// The inputs.
    pub inputs: Vec<InferTensor>,
    /// The outputs wanted (empty: all of them).
    pub outputs: Vec<RequestedOutput>,
    /// Send every input in binary form (FP16 and non-UTF-8 BYTES inputs always are).
    pub binary_inputs: bool,
    /// Ask for every output in binary form (`binary_data_output`).
    pub binary_outputs: bool,
}

impl InferRequest {
    /// An empty request.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the request id.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Adds an input.
    pub fn input(mut self, tensor: InferTensor) -> Self {
        self.inputs.push(tensor);
        self
    }

    /// Asks for an output (outputs not asked for are not returned by servers that honour it).
    pub fn output(mut self, output: RequestedOutput) -> Self {
        self.outputs.push(output);
        self
    }

    /// Adds a request parameter.
    pub fn parameter(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.parameters.insert(key.into(), value.into());
        self
    }

    /// Sends the inputs in binary form.
    pub fn binary_inputs(mut self, yes: bool) -> Self {
        self.binary_inputs = yes;
        self
    }

    /// Asks for binary outputs.
    pub fn binary_outputs(mut self, yes: bool) -> Self {
        self.binary_outputs = yes;
        self
    }

    /// Encodes the body: `(bytes, Some(json_len))` when the binary extension is used, else
    /// `(json, None)`.
    ///
    /// # Errors
    /// When a tensor's shape does not match its data.
    pub fn encode(&self) -> Result<(Vec<u8>, Option<usize>), kubeflow_core::Error> {
        #[derive(Serialize)]
        struct Input<'a> {
            name: &'a str,
            shape: &'a [i64],
            datatype: Datatype,
            #[serde(skip_serializing_if = "Map::is_empty")]
            parameters: Map<String, Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a TensorData>,
        }
        #[derive(Serialize)]
        struct Output<'a> {
            name: &'a str,
            #[serde(skip_serializing_if = "Map::is_empty")]
            parameters: Map<String, Value>,
        }
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            id: Option<&'a str>,
            #[serde(skip_serializing_if = "Map::is_empty")]
            parameters: Map<String, Value>,
            inputs: Vec<Input<'a>>,
            #[serde(skip_serializing_if = "Vec::is_empty")]
            outputs: Vec<Output<'a>>,
        }
        let mut tail: Vec<u8> = Vec::new();
        let mut any_binary = false;
        let mut inputs = Vec::with_capacity(self.inputs.len());
        for t in &self.inputs {
            let n = element_count(&t.name, &t.shape)?;
            if n != t.data.len() {
                return Err(kubeflow_core::Error::invalid_argument(
                    format!("input `{}`", t.name),
                    format!(
                        "shape {:?} holds {n} elements but {} were given",
                        t.shape,
                        t.data.len()
                    ),
                ));
            }
            let mut parameters = t.parameters.clone();
            let data = if self.binary_inputs || !t.data.json_encodable() {
                let bytes = t.data.to_le_bytes();
                any_binary = true;
                parameters.insert("binary_data_size".into(), bytes.len().into());
                tail.extend_from_slice(&bytes);
                None
            } else {
                Some(&t.data)
            };
            inputs.push(Input {
                name: &t.name,
                shape: &t.shape,
                datatype: t.data.datatype(),
                parameters,
                data,
            });
        }
        let mut parameters = self.parameters.clone();
        if self.binary_outputs {
            parameters.insert("binary_data_output".into(), true.into());
        }
        let outputs = self
            .outputs
            .iter()
            .map(|o| {
                let mut parameters = o.parameters.clone();
                if let Some(b) = o.binary_data {
                    parameters.insert("binary_data".into(), b.into());
                }
                Output {
                    name: &o.name,
                    parameters,
                }
            })
            .collect();
        let wire = Wire {
            id: self.id.as_deref(),
            parameters,
            inputs,
            outputs,
        };
        let mut body = serde_json::to_vec(&wire).map_err(|e| {
            kubeflow_core::Error::invalid_argument("request", format!("does not serialise: {e}"))
        })?;
        if !any_binary {
            return Ok((body, None));
        }
        let json_len = body.len();
        body.extend_from_slice(&tail);
        Ok((body, Some(json_len)))
    }
}

/// A V2 inference response.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct InferResponse {
    /// The model that answered.
    pub model_name: String,
    /// Its version, if the server says.
    pub model_version: Option<String>,
    /// The request id.
    pub id: Option<String>,
    /// Response parameters.
    pub parameters: Map<String, Value>,
    /// The outputs, decoded (binary outputs included).
    pub outputs: Vec<InferTensor>,
}

impl InferResponse {
    /// The output named `name`.
    pub fn output(&self, name: &str) -> Option<&InferTensor> {
        self.outputs.iter().find(|o| o.name == name)
    }

    /// Decodes a response body; `json_len` is the `Inference-Header-Content-Length` value when
    /// the server used the binary extension.
    ///
    /// # Errors
    /// A message saying what is wrong (bad JSON, a binary size beyond the body, a shape that
    /// does not match the data, an unknown datatype).
    pub fn decode(body: &[u8], json_len: Option<usize>) -> Result<Self, String> {
        #[derive(Deserialize)]
        struct Output {
            name: String,
            #[serde(default)]
            shape: Vec<i64>,
            datatype: Datatype,
            #[serde(default)]
            parameters: Option<Map<String, Value>>,
            #[serde(default)]
            data: Option<Value>,
        }
        #[derive(Deserialize)]
        struct Wire {
            #[serde(default)]
            model_name: String,
            #[serde(default)]
            model_version: Option<String>,
            #[serde(default)]
            id: Option<String>,
            #[serde(default)]
            parameters: Option<Map<String, Value>>,
            #[serde(default)]
            outputs: Vec<Output>,
        }
        let (json, mut tail) = match json_len {
            Some(n) if n <= body.len() => body.split_at(n),
            Some(n) => {
                return Err(format!(
                    "Inference-Header-Content-Length is {n} but the body has only {} bytes",
                    body.len()
                ));
            }
            None => (body, &[][..]),
        };
        let wire: Wire = serde_json::from_slice(json).map_err(|e| format!("invalid JSON: {e}"))?;
        let mut outputs = Vec::with_capacity(wire.outputs.len());
        for o in wire.outputs {
            let mut parameters = o.parameters.unwrap_or_default();
            let data = match parameters.remove("binary_data_size") {
                Some(size) => {
                    let size = size
                        .as_u64()
                        .and_then(|s| usize::try_from(s).ok())
                        .ok_or_else(|| {
                            format!("output `{}`: binary_data_size {size} is not a size", o.name)
                        })?;
                    if size > tail.len() {
                        return Err(format!(
                            "output `{}`: binary_data_size {size} but only {} binary bytes left",
                            o.name,
                            tail.len()
                        ));
                    }
                    let (bytes, rest) = tail.split_at(size);
                    tail = rest;
                    TensorData::from_le_bytes(&o.datatype, bytes)
                        .map_err(|e| format!("output `{}`: {e}", o.name))?
                }
                None => {
                    let data = o.data.unwrap_or(Value::Array(Vec::new()));
                    TensorData::from_json(&o.datatype, &data)
                        .map_err(|e| format!("output `{}`: {e}", o.name))?
                }
            };
            let n = element_count(&o.name, &o.shape).map_err(|e| e.to_string())?;
            if n != data.len() {
                return Err(format!(
                    "output `{}`: shape {:?} holds {n} elements but {} were sent",
                    o.name,
                    o.shape,
                    data.len()
                ));
            }
            outputs.push(InferTensor {
                name: o.name,
                shape: o.shape,
                data,
                parameters,
            });
        }
        Ok(InferResponse {
            model_name: wire.model_name,
            model_version: wire.model_version,
            id: wire.id,
            parameters: wire.parameters.unwrap_or_default(),
            outputs,
        })
    }
}

/// `GET /v2`: the server's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerMetadata {
    /// Server name, e.g. `kserve`.
    pub name: String,
    /// Server version.
    pub version: String,
    /// Protocol extensions the server supports.
    #[serde(default)]
    pub extensions: Vec<String>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Metadata of one tensor of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TensorMetadata {
    /// The tensor's name.
    pub name: String,
    /// Its datatype.
    pub datatype: Datatype,
    /// Its shape; `-1` marks a variable dimension.
    #[serde(default)]
    pub shape: Vec<i64>,
    /// Fields not modelled here (e.g. `parameters`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `GET /v2/models/{name}`: a model's metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ModelMetadata {
    /// The model's name.
    pub name: String,
    /// Available versions (`null` on KServe's Python server).
    #[serde(default)]
    pub versions: Option<Vec<String>>,
    /// The framework / backend.
    #[serde(default)]
    pub platform: String,
    /// Inputs.
    #[serde(default)]
    pub inputs: Vec<TensorMetadata>,
    /// Outputs.
    #[serde(default)]
    pub outputs: Vec<TensorMetadata>,
    /// Fields not modelled here.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
