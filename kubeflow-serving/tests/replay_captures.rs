//! Replays the recorded exchanges with the real KServe 0.21.0 model servers
//! (`reference/kserve/live-captures/*.jsonl`) through a local mock server: for every case our
//! client sends an equivalent request (checked by a matcher) and decodes the recorded answer.

use std::path::PathBuf;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use kubeflow_serving::{
    Datatype, InferRequest, InferTensor, InferenceClient, RequestedOutput, TensorData,
};

fn reference_dir() -> PathBuf {
    std::env::var_os("KUBEFLOW_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"))
}

fn captures(file: &str) -> Vec<Value> {
    let p = reference_dir().join("kserve/live-captures").join(file);
    let text =
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("capture line is JSON"))
        .collect()
}

/// The request body bytes of a capture.
fn request_body(req: &Value) -> Vec<u8> {
    if let Some(b) = req["body_base64"].as_str() {
        base64::engine::general_purpose::STANDARD
            .decode(b)
            .expect("base64")
    } else if let Some(t) = req["body_text"].as_str() {
        t.as_bytes().to_vec()
    } else {
        Vec::new()
    }
}

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
}

/// Numbers as f64 and `data` arrays flattened, so that `[[1,2],[3,4]]` and `[1.0,2.0,3.0,4.0]`
/// compare equal.
fn normalize(v: &Value) -> Value {
    fn flat(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
            other => out.push(normalize(other)),
        }
    }
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| {
                    if k == "data" {
                        let mut out = Vec::new();
                        flat(x, &mut out);
                        (k.clone(), Value::Array(out))
                    } else {
                        (k.clone(), normalize(x))
                    }
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A body split by the binary extension into (normalised JSON or raw text, binary tail).
fn split_body(body: &[u8], json_len: Option<usize>) -> (Option<Value>, Vec<u8>) {
    let (j, tail) = match json_len {
        Some(n) => body.split_at(n),
        None => (body, &[][..]),
    };
    (
        serde_json::from_slice::<Value>(j)
            .ok()
            .map(|v| normalize(&v)),
        tail.to_vec(),
    )
}

/// Matches a request equivalent to the recorded one.
struct Equivalent {
    expected_json: Option<Value>,
    expected_raw: Vec<u8>,
    expected_tail: Vec<u8>,
    binary: bool,
    json_content_type: bool,
}

impl wiremock::Match for Equivalent {
    fn matches(&self, r: &Request) -> bool {
        let hl = r
            .headers
            .get("inference-header-content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        if self.binary != hl.is_some() {
            return false;
        }
        let ct = r
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if self.json_content_type && ct != "application/json" {
            return false;
        }
        let (json, tail) = split_body(&r.body, hl);
        match &self.expected_json {
            Some(e) => json.as_ref() == Some(e) && tail == self.expected_tail,
            None => r.body == self.expected_raw,
        }
    }
}

fn response_of(resp: &Value) -> ResponseTemplate {
    let status = resp["status"].as_u64().expect("status") as u16;
    let mut t = ResponseTemplate::new(status);
    let mut body = Vec::new();
    if let Some(j) = resp.get("body_json") {
        body = serde_json::to_vec(j).expect("json");
    } else if let Some(j) = resp.get("json_part") {
        body = serde_json::to_vec(j).expect("json");
    } else if let Some(t) = resp["body_text"].as_str() {
        body = t.as_bytes().to_vec();
    }
    if resp.get("json_part").is_some() {
        let tail = hex_decode(resp["binary_tail_hex"].as_str().expect("tail"));
        let json_len = body.len();
        body.extend_from_slice(&tail);
        t = t.insert_header(
            "inference-header-content-length",
            json_len.to_string().as_str(),
        );
    }
    for (k, v) in resp["headers"].as_object().expect("headers") {
        let k = k.to_ascii_lowercase();
        if [
            "content-length",
            "transfer-encoding",
            "inference-header-content-length",
        ]
        .contains(&k.as_str())
        {
            continue;
        }
        t = t.insert_header(k.as_str(), v.as_str().expect("header value"));
    }
    t.set_body_raw(
        body,
        header(&resp["headers"], "content-type").unwrap_or("application/octet-stream"),
    )
}

fn hex_decode(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// The recorded V2 request as our typed request, or `None` if our types cannot express it
/// (malformed on purpose).
fn typed_request(req: &Value) -> Option<InferRequest> {
    let body = request_body(req);
    let hl: Option<usize> =
        header(&req["headers"], "Inference-Header-Content-Length").and_then(|v| v.parse().ok());
    let binary = hl.is_some();
    let (j, mut tail) = match hl {
        Some(n) => (body.get(..n)?, body.get(n..)?),
        None => (&body[..], &[][..]),
    };
    let v: Value = serde_json::from_slice(j).ok()?;
    let o = v.as_object()?;
    let mut r = InferRequest::new().binary_inputs(binary);
    if let Some(id) = o.get("id") {
        r = r.id(id.as_str()?);
    }
    for (k, p) in o
        .get("parameters")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
    {
        if k == "binary_data_output" {
            r = r.binary_outputs(p.as_bool()?);
        } else {
            r = r.parameter(k, p);
        }
    }
    for i in o.get("inputs")?.as_array()? {
        let dt = Datatype::parse(i["datatype"].as_str()?);
        let shape: Vec<i64> = serde_json::from_value(i["shape"].clone()).ok()?;
        let mut params: Map<String, Value> = i
            .get("parameters")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let data = match params.remove("binary_data_size") {
            Some(n) => {
                let (b, rest) = tail.split_at(n.as_u64()? as usize);
                tail = rest;
                TensorData::from_le_bytes(&dt, b).ok()?
            }
            None => {
                if dt == Datatype::Fp16 {
                    return None; // KServe refuses FP16 as JSON; our client always sends it binary
                }
                TensorData::from_json(&dt, i.get("data")?).ok()?
            }
        };
        let mut t = InferTensor::new(i["name"].as_str()?, shape, data).ok()?;
        for (k, p) in params {
            t = t.parameter(k, p);
        }
        r = r.input(t);
    }
    for out in o
        .get("outputs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
    {
        let mut ro = RequestedOutput::new(out["name"].as_str()?);
        if let Some(b) = out.get("parameters").and_then(|p| p.get("binary_data")) {
            ro = ro.binary(b.as_bool()?);
        }
        r = r.output(ro);
    }
    if !binary && header(&req["headers"], "Content-Type") != Some("application/json") {
        return None; // recorded on purpose without a content type; our client always sends it
    }
    Some(r)
}

/// Outputs (from a JSON response body, or from a binary response's JSON part + tail) in a
/// comparable form.
fn expected_outputs(resp: &Value) -> Value {
    let (j, tail) = match resp.get("json_part") {
        Some(j) => (
            j.clone(),
            hex_decode(resp["binary_tail_hex"].as_str().unwrap_or("")),
        ),
        None => (resp["body_json"].clone(), Vec::new()),
    };
    let mut tail = &tail[..];
    let outs: Vec<Value> = j["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|o| {
            let data: Vec<f64> = match o["parameters"]
                .get("binary_data_size")
                .and_then(Value::as_u64)
            {
                Some(n) => {
                    let (b, rest) = tail.split_at(n as usize);
                    tail = rest;
                    match o["datatype"].as_str() {
                        Some("FP32") => b
                            .chunks(4)
                            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4"))))
                            .collect(),
                        Some("INT64") => b
                            .chunks(8)
                            .map(|c| i64::from_le_bytes(c.try_into().expect("8")) as f64)
                            .collect(),
                        other => panic!("unexpected binary datatype {other:?} in a capture"),
                    }
                }
                None => o["data"]
                    .as_array()
                    .expect("data")
                    .iter()
                    .map(|x| x.as_f64().expect("number"))
                    .collect(),
            };
            json!({"name": o["name"], "shape": o["shape"], "datatype": o["datatype"], "data": data})
        })
        .collect();
    json!({"model_name": j["model_name"], "id": j["id"], "outputs": outs})
}

async fn replay_file(file: &str) -> usize {
    let mut checked = 0;
    for case in captures(file) {
        let name = case["name"].as_str().expect("name").to_owned();
        let req = &case["request"];
        let resp = &case["response"];
        let m = req["method"].as_str().expect("method").to_owned();
        let p = req["path"].as_str().expect("path").to_owned();
        let status = resp["status"].as_u64().expect("status") as u16;

        let server = MockServer::start().await;
        let client = InferenceClient::from_url(&server.uri()).expect("client");

        // What our client will send for this case.
        let typed_infer = if p.ends_with("/infer") && m == "POST" {
            typed_request(req)
        } else {
            None
        };
        let typed = typed_infer.is_some()
            || (m == "GET" && !p.ends_with("/infer") && p != "/nonexistent")
            || ((p.ends_with(":predict") || p.ends_with(":explain"))
                && req.get("body_json").is_some());
        let (expected_json, expected_raw, expected_tail, binary, json_ct) = match &typed_infer {
            Some(r) => {
                let (body, hl) = r.encode().expect("encode");
                let (j, t) = split_body(
                    &request_body(req),
                    header(&req["headers"], "Inference-Header-Content-Length")
                        .and_then(|v| v.parse().ok()),
                );
                // Our own encoding must be equivalent to the recorded one.
                let (oj, ot) = split_body(&body, hl);
                assert_eq!(
                    oj, j,
                    "{name}: our request JSON differs from the recorded one"
                );
                assert_eq!(
                    ot, t,
                    "{name}: our binary tail differs from the recorded one"
                );
                (j, Vec::new(), t, hl.is_some(), hl.is_none())
            }
            None if typed && m == "POST" => (
                req.get("body_json").map(normalize),
                Vec::new(),
                Vec::new(),
                false,
                true,
            ),
            None => (
                None,
                request_body(req),
                Vec::new(),
                header(&req["headers"], "Inference-Header-Content-Length").is_some(),
                false,
            ),
        };
        Mock::given(method(m.as_str()))
            .and(path(p.as_str()))
            .and(Equivalent {
                expected_json,
                expected_raw,
                expected_tail,
                binary,
                json_content_type: json_ct,
            })
            .respond_with(response_of(resp))
            .expect(1)
            .mount(&server)
            .await;

        let model = p
            .split('/')
            .nth(3)
            .map(|s| s.split(':').next().unwrap_or(s).to_owned())
            .unwrap_or_default();
        let result: Result<Value, kubeflow_core::Error> = if let Some(r) = &typed_infer {
            client.infer(&model, r).await.map(|resp| {
                json!({"model_name": resp.model_name, "id": resp.id, "outputs": resp.outputs.iter().map(|o| json!({
                    "name": o.name, "shape": o.shape, "datatype": o.datatype().as_str(), "data": o.data.to_f64_vec()
                })).collect::<Vec<_>>()})
            })
        } else if typed {
            match (m.as_str(), p.as_str()) {
                ("GET", "/") => client
                    .v1_server_live()
                    .await
                    .map(|_| resp["body_json"].clone()),
                ("GET", "/v1/models") => {
                    client.v1_list_models().await.map(|m| json!({"models": m}))
                }
                ("GET", "/v2/models") => client.list_models().await.map(|m| json!({"models": m})),
                ("GET", "/v2") => client
                    .server_metadata()
                    .await
                    .map(|s| serde_json::to_value(s).expect("ser")),
                ("GET", "/v2/health/live") => {
                    client.server_live().await.map(|l| json!({"live": l}))
                }
                ("GET", "/v2/health/ready") => {
                    client.server_ready().await.map(|l| json!({"ready": l}))
                }
                ("GET", p) if p.starts_with("/v1/models/") => client
                    .v1_model_ready(&model)
                    .await
                    .map(|r| json!({"name": model, "ready": r})),
                ("GET", p) if p.starts_with("/v2/models/") && p.ends_with("/ready") => client
                    .model_ready(&model, None)
                    .await
                    .map(|r| json!({"name": model, "ready": r})),
                ("GET", p) if p.contains("/versions/") => client
                    .model_metadata(&model, p.rsplit('/').next())
                    .await
                    .map(|s| serde_json::to_value(s).expect("ser")),
                ("GET", p) if p.starts_with("/v2/models/") => client
                    .model_metadata(&model, None)
                    .await
                    .map(|s| serde_json::to_value(s).expect("ser")),
                ("POST", p) if p.ends_with(":predict") => {
                    client.v1_predict(&model, &req["body_json"]).await
                }
                ("POST", p) if p.ends_with(":explain") => {
                    client.v1_explain(&model, &req["body_json"]).await
                }
                other => panic!("{name}: no typed call for {other:?}"),
            }
        } else {
            // Malformed on purpose: sent through the client's raw HTTP layer, answer decoded.
            let mut rb = client.http().request(m.parse().expect("method"), &p);
            if let Some(h) = header(&req["headers"], "Inference-Header-Content-Length") {
                rb = rb.header("inference-header-content-length", h);
            }
            let body = request_body(req);
            if !body.is_empty() || m == "POST" {
                rb = rb.body(body, header(&req["headers"], "Content-Type").unwrap_or(""));
            }
            rb.send()
                .await
                .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
        };

        match result {
            Ok(v) if status < 300 => {
                if typed_infer.is_some() {
                    assert_eq!(v, expected_outputs(resp), "{name}: decoded outputs");
                } else {
                    assert_eq!(v, resp["body_json"], "{name}: decoded body");
                }
            }
            Ok(v) => panic!("{name}: expected status {status}, got success {v}"),
            Err(e) => {
                assert_eq!(e.status(), Some(status), "{name}: {e}");
                let api = e
                    .api_error()
                    .unwrap_or_else(|| panic!("{name}: not an API error: {e}"));
                let body = &resp["body_json"];
                if let Some(msg) = body.get("error").and_then(Value::as_str) {
                    assert!(
                        e.to_string().contains(msg),
                        "{name}: message {msg:?} missing from {e}"
                    );
                } else if let Some(d) = body.get("detail") {
                    let first = d
                        .as_str()
                        .map(str::to_owned)
                        .or_else(|| d[0]["msg"].as_str().map(str::to_owned))
                        .expect("detail");
                    assert!(
                        e.to_string().contains(&first),
                        "{name}: detail {first:?} missing from {e}; {api:?}"
                    );
                }
                if status == 404 && body.get("error").is_some() {
                    assert!(e.is_not_found());
                }
            }
        }
        server.verify().await;
        checked += 1;
    }
    checked
}

#[tokio::test]
async fn replays_every_toy_model_capture() {
    assert_eq!(
        replay_file("kserve-0.21.0-custom-toy-model.jsonl").await,
        36
    );
}

#[tokio::test]
async fn replays_every_sklearn_capture() {
    assert_eq!(
        replay_file("kserve-0.21.0-sklearnserver-iris.jsonl").await,
        36
    );
}

#[test]
fn shape_mismatch_is_refused_before_sending() {
    let e = InferTensor::new("input-0", vec![2, 3], vec![1f32, 2., 3.]).expect_err("mismatch");
    assert!(e.to_string().contains("holds 6 elements but 3"), "{e}");
}
