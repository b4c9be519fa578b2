//! The real KServe model server (PyPI `kserve` 0.21.0, started by `testenv/kserve/start.sh`)
//! answers V1 and V2 REST exactly as the live captures in
//! `reference/kserve/live-captures/*.jsonl` say, for the custom "toy" model and the scikit-learn
//! iris model. These tests pin the behaviour that the serving SDK's tests build on.

use std::path::PathBuf;

use anyhow::{Context, bail, ensure};
use kubeflow_test_support::python::{
    self, ModelServer, SKLEARN_MODEL, TOY_MODEL, kserve_sklearn_url, kserve_url,
};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

fn reference_dir() -> PathBuf {
    match std::env::var("KUBEFLOW_REFERENCE_DIR") {
        Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference"),
    }
}

fn client() -> anyhow::Result<Client> {
    // no_proxy: the servers are on 127.0.0.1; an HTTP(S)_PROXY of the machine must not apply.
    Client::builder()
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("building the HTTP client")
}

async fn get_json(client: &Client, url: &str) -> anyhow::Result<(StatusCode, Value)> {
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body = response
        .json()
        .await
        .with_context(|| format!("GET {url}: body"))?;
    Ok((status, body))
}

async fn post_json(
    client: &Client,
    url: &str,
    body: &Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let body = response
        .json()
        .await
        .with_context(|| format!("POST {url}: body"))?;
    Ok((status, body))
}

/// Decodes standard base64 (with `=` padding), the encoding of binary bodies in the captures.
fn base64_decode(text: &str) -> anyhow::Result<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for (index, byte) in text.bytes().enumerate() {
        let value = ALPHABET
            .iter()
            .position(|&candidate| candidate == byte)
            .with_context(|| format!("invalid base64 byte {byte:#04x} at {index}"))?;
        buffer = (buffer << 6) | u32::try_from(value)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff)?);
        }
    }
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Sends every captured request and compares status, captured headers and body (JSON, or JSON
/// header + binary tail for the binary extension). Returns how many cases it checked.
async fn replay_captures(base: &str, file: &str) -> anyhow::Result<usize> {
    let path = reference_dir().join("kserve/live-captures").join(file);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading {} (set KUBEFLOW_REFERENCE_DIR)", path.display()))?;
    let client = client()?;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (index, line) in text.lines().enumerate() {
        let case: Value = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not JSON", path.display(), index + 1))?;
        let name = case["name"].as_str().unwrap_or("?").to_owned();
        let request = &case["request"];
        let expected = &case["response"];
        let method =
            reqwest::Method::from_bytes(request["method"].as_str().unwrap_or("").as_bytes())
                .with_context(|| format!("case {name}: bad method"))?;
        let url = format!("{base}{}", request["path"].as_str().unwrap_or(""));
        let mut builder = client.request(method, &url);
        if let Some(headers) = request["headers"].as_object() {
            for (key, value) in headers {
                builder = builder.header(key, value.as_str().unwrap_or(""));
            }
        }
        if let Some(body) = request["body_base64"].as_str() {
            builder = builder.body(base64_decode(body).with_context(|| format!("case {name}"))?);
        } else if let Some(body) = request["body_text"].as_str() {
            builder = builder.body(body.to_owned());
        }
        let response = builder
            .send()
            .await
            .with_context(|| format!("case {name}: {url}"))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .with_context(|| format!("case {name}: body"))?;
        let mut problems = Vec::new();
        if Some(u64::from(status)) != expected["status"].as_u64() {
            problems.push(format!("status {status}, captured {}", expected["status"]));
        }
        for header in ["content-type", "inference-header-content-length", "allow"] {
            if let Some(want) = expected["headers"][header].as_str() {
                let got = headers.get(header).and_then(|value| value.to_str().ok());
                if got != Some(want) {
                    problems.push(format!("header {header}: {got:?}, captured {want:?}"));
                }
            }
        }
        if let Some(want) = expected.get("body_json") {
            match serde_json::from_slice::<Value>(&body) {
                Ok(got) if &got == want => {}
                Ok(got) => problems.push(format!("body {got}, captured {want}")),
                Err(err) => problems.push(format!("body is not JSON ({err})")),
            }
        } else if let Some(want) = expected.get("json_part") {
            let split = headers
                .get("inference-header-content-length")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<usize>().ok())
                .filter(|&split| split <= body.len());
            match split {
                Some(split) => {
                    let json: Value = serde_json::from_slice(&body[..split])
                        .with_context(|| format!("case {name}: JSON part"))?;
                    if &json != want {
                        problems.push(format!("JSON part {json}, captured {want}"));
                    }
                    let tail = hex(&body[split..]);
                    if Some(tail.as_str()) != expected["binary_tail_hex"].as_str() {
                        problems.push(format!(
                            "binary tail {tail}, captured {}",
                            expected["binary_tail_hex"]
                        ));
                    }
                }
                None => problems.push("no usable inference-header-content-length".to_owned()),
            }
        } else {
            bail!("case {name}: the capture has neither body_json nor json_part");
        }
        if !problems.is_empty() {
            failures.push(format!("{name}: {}", problems.join("; ")));
        }
        checked += 1;
    }
    ensure!(
        failures.is_empty(),
        "{} of {checked} cases differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(checked)
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn toy_server_matches_the_live_captures() -> anyhow::Result<()> {
    let checked = replay_captures(&kserve_url(), "kserve-0.21.0-custom-toy-model.jsonl").await?;
    assert_eq!(checked, 36, "every captured case is replayed");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn sklearn_server_matches_the_live_captures() -> anyhow::Result<()> {
    let checked = replay_captures(
        &kserve_sklearn_url(),
        "kserve-0.21.0-sklearnserver-iris.jsonl",
    )
    .await?;
    assert_eq!(checked, 36, "every captured case is replayed");
    Ok(())
}

async fn check_v1(
    base: &str,
    model: &str,
    instances: Value,
    predictions: Value,
) -> anyhow::Result<()> {
    let client = client()?;
    let (status, body) = get_json(&client, &format!("{base}/v1/models")).await?;
    assert_eq!((status, body), (StatusCode::OK, json!({"models": [model]})));
    let (status, body) = get_json(&client, &format!("{base}/v1/models/{model}")).await?;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"name": model, "ready": true}))
    );
    let url = format!("{base}/v1/models/{model}:predict");
    let (status, body) = post_json(&client, &url, &json!({"instances": instances})).await?;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"predictions": predictions}))
    );
    let (status, body) = get_json(&client, &format!("{base}/v1/models/nope")).await?;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Model with name nope does not exist."})
        )
    );
    Ok(())
}

async fn check_v2_health_and_metadata(base: &str, model: &str) -> anyhow::Result<()> {
    let client = client()?;
    let (status, body) = get_json(&client, &format!("{base}/v2")).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "kserve");
    assert_eq!(body["version"], "0.21.0", "the pinned KServe version");
    let (status, body) = get_json(&client, &format!("{base}/v2/health/live")).await?;
    assert_eq!((status, body), (StatusCode::OK, json!({"live": true})));
    let (status, body) = get_json(&client, &format!("{base}/v2/health/ready")).await?;
    assert_eq!((status, body), (StatusCode::OK, json!({"ready": true})));
    let (status, body) = get_json(&client, &format!("{base}/v2/models/{model}")).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], model);
    let (status, body) = get_json(&client, &format!("{base}/v2/models/{model}/ready")).await?;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"name": model, "ready": true}))
    );
    Ok(())
}

/// Builds a V2 binary-extension body: JSON header immediately followed by the raw tensor bytes.
fn binary_body(header: &Value, tensor: &[u8]) -> anyhow::Result<(Vec<u8>, usize)> {
    let mut body = serde_json::to_vec(header).context("encoding the JSON header")?;
    let json_len = body.len();
    body.extend_from_slice(tensor);
    Ok((body, json_len))
}

/// POSTs a binary-extension body; returns (JSON part, binary tail) of a binary response.
async fn post_binary(
    url: &str,
    body: Vec<u8>,
    json_len: usize,
) -> anyhow::Result<(Value, Vec<u8>)> {
    let response = client()?
        .post(url)
        .header("Content-Type", "application/octet-stream")
        .header("Inference-Header-Content-Length", json_len.to_string())
        .body(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = response.status();
    let split = response
        .headers()
        .get("inference-header-content-length")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    let bytes = response.bytes().await.context("reading the body")?;
    ensure!(
        status == StatusCode::OK,
        "status {status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    let split = split.context("the binary response has no inference-header-content-length")?;
    ensure!(
        split <= bytes.len(),
        "header length {split} > body length {}",
        bytes.len()
    );
    let json = serde_json::from_slice(&bytes[..split]).context("JSON part")?;
    Ok((json, bytes[split..].to_vec()))
}

fn f32_le(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

fn i64_le(values: &[i64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|value| value.to_le_bytes())
        .collect()
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn toy_server_v1_and_v2() -> anyhow::Result<()> {
    let base = kserve_url();
    check_v1(
        &base,
        TOY_MODEL,
        json!([[1, 2, 3], [4, 5, 6]]),
        json!([6, 15]),
    )
    .await?;
    check_v2_health_and_metadata(&base, TOY_MODEL).await?;

    let client = client()?;
    let infer = format!("{base}/v2/models/{TOY_MODEL}/infer");
    let request = json!({"id": "t-1", "inputs": [
        {"name": "input-0", "shape": [2, 3], "datatype": "FP32", "data": [1, 2, 3, 4, 5, 6]}]});
    let (status, body) = post_json(&client, &infer, &request).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], "t-1");
    assert_eq!(body["model_name"], TOY_MODEL);
    assert_eq!(
        body["outputs"],
        json!([
            {"name": "output0", "shape": [2], "datatype": "FP32", "parameters": null, "data": [6.0, 15.0]},
            {"name": "output1", "shape": [2], "datatype": "INT64", "parameters": null, "data": [3, 3]}
        ])
    );

    // Output selection is passed through by the toy model.
    let request = json!({"id": "t-2", "inputs": [
        {"name": "input-0", "shape": [1, 4], "datatype": "INT32", "data": [1, 2, 3, 4]}],
        "outputs": [{"name": "output1"}]});
    let (status, body) = post_json(&client, &infer, &request).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["outputs"],
        json!([{"name": "output1", "shape": [1], "datatype": "INT64", "parameters": null, "data": [4]}])
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn toy_server_binary_tensor_extension() -> anyhow::Result<()> {
    let infer = format!("{}/v2/models/{TOY_MODEL}/infer", kserve_url());
    let tensor = f32_le(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);

    // Binary input and binary outputs.
    let header = json!({"id": "bin-1", "parameters": {"binary_data_output": true}, "inputs": [
        {"name": "input-0", "shape": [2, 3], "datatype": "FP32", "parameters": {"binary_data_size": 24}}]});
    let (body, json_len) = binary_body(&header, &tensor)?;
    let (json, tail) = post_binary(&infer, body, json_len).await?;
    assert_eq!(
        json,
        json!({"id": "bin-1", "model_name": TOY_MODEL, "model_version": null, "outputs": [
            {"name": "output0", "shape": [2], "datatype": "FP32", "parameters": {"binary_data_size": 8}},
            {"name": "output1", "shape": [2], "datatype": "INT64", "parameters": {"binary_data_size": 16}}]})
    );
    let mut want = f32_le(&[6.0, 15.0]);
    want.extend(i64_le(&[3, 3]));
    assert_eq!(tail, want);

    // Per-output choice: output0 as JSON, output1 binary.
    let header = json!({"id": "bin-2", "inputs": [
        {"name": "input-0", "shape": [1, 3], "datatype": "FP32", "parameters": {"binary_data_size": 12}}],
        "outputs": [{"name": "output0", "parameters": {"binary_data": false}},
                    {"name": "output1", "parameters": {"binary_data": true}}]});
    let (body, json_len) = binary_body(&header, &tensor[..12])?;
    let (json, tail) = post_binary(&infer, body, json_len).await?;
    assert_eq!(json["outputs"][0]["data"], json!([6.0]));
    assert_eq!(
        json["outputs"][1]["parameters"],
        json!({"binary_data_size": 8})
    );
    assert_eq!(tail, i64_le(&[3]));

    // Binary body without the header length is refused.
    let (body, _) = binary_body(&header, &tensor[..12])?;
    let response = client()?.post(&infer).body(body).send().await?;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn sklearn_server_v1_and_v2() -> anyhow::Result<()> {
    let base = kserve_sklearn_url();
    // One flower of each class: setosa (0), versicolor (1), virginica (2).
    let rows = json!([
        [5.1, 3.5, 1.4, 0.2],
        [6.8, 2.8, 4.8, 1.4],
        [6.3, 3.3, 6.0, 2.5]
    ]);
    check_v1(&base, SKLEARN_MODEL, rows, json!([0, 1, 2])).await?;
    check_v2_health_and_metadata(&base, SKLEARN_MODEL).await?;

    let client = client()?;
    let infer = format!("{base}/v2/models/{SKLEARN_MODEL}/infer");
    let request = json!({"id": "iris-1", "inputs": [{"name": "input-0", "shape": [2, 4],
        "datatype": "FP32", "data": [6.8, 2.8, 4.8, 1.4, 5.1, 3.5, 1.4, 0.2]}]});
    let (status, body) = post_json(&client, &infer, &request).await?;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"model_name": SKLEARN_MODEL, "model_version": null, "id": "iris-1", "parameters": null,
               "outputs": [{"name": "output-0", "shape": [2], "datatype": "INT64", "parameters": null, "data": [1, 0]}]})
    );

    // Binary in, binary out.
    let header = json!({"id": "iris-bin", "parameters": {"binary_data_output": true}, "inputs": [
        {"name": "input-0", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]});
    let (body, json_len) = binary_body(&header, &f32_le(&[6.3, 3.3, 6.0, 2.5]))?;
    let (json, tail) = post_binary(&infer, body, json_len).await?;
    assert_eq!(
        json["outputs"][0]["parameters"],
        json!({"binary_data_size": 8})
    );
    assert_eq!(tail, i64_le(&[2]));
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn private_model_server_starts_and_stops() -> anyhow::Result<()> {
    let server = ModelServer::start_toy().await?;
    let url = server.url().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_ne!(
        url,
        kserve_url(),
        "a private server must not be the shared one"
    );
    assert!(python::kserve_python().exists());
    let client = client()?;
    let predict = format!("{url}/v1/models/{}:predict", server.model_name());
    let (status, body) = post_json(
        &client,
        &predict,
        &json!({"instances": [[1, 1], [2, 2, 2]]}),
    )
    .await?;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"predictions": [2, 6]}))
    );

    drop(server);
    // Killed by PID on drop: the port no longer answers (a fresh client: no pooled connection).
    match self::client()?
        .get(format!("{url}/v2/health/live"))
        .send()
        .await
    {
        Ok(response) => bail!("the dropped server still answers: {}", response.status()),
        Err(err) => assert!(err.is_connect(), "expected connection refused, got {err}"),
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn private_sklearn_server_predicts() -> anyhow::Result<()> {
    let server = ModelServer::start_sklearn().await?;
    assert_eq!(server.model_name(), SKLEARN_MODEL);
    let predict = format!("{}/v1/models/{SKLEARN_MODEL}:predict", server.url());
    let (status, body) = post_json(
        &client()?,
        &predict,
        &json!({"instances": [[6.3, 3.3, 6.0, 2.5]]}),
    )
    .await?;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"predictions": [2]}))
    );
    Ok(())
}
