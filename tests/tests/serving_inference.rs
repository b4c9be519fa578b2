//! `kubeflow_serving::InferenceClient` against the real KServe 0.21.0 model servers of the
//! test environment ("toy" and "sklearn-iris"): every V1 and V2 call, JSON and binary, and the
//! error cases. Run: `KF_TESTENV_COMPONENTS="kserve" scripts/test -p kubeflow-tests --test serving_inference`.

use kubeflow_serving::{
    InferRequest, InferTensor, InferenceClient, RequestedOutput, TensorData, tensor::f32_to_f16,
};
use kubeflow_test_support::python::{kserve_sklearn_url, kserve_url};
use serde_json::json;

fn toy() -> InferenceClient {
    InferenceClient::from_url(&kserve_url()).expect("toy client")
}

fn sklearn() -> InferenceClient {
    InferenceClient::from_url(&kserve_sklearn_url()).expect("sklearn client")
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn v1_calls_on_the_toy_model() -> anyhow::Result<()> {
    let c = toy();
    assert!(c.v1_server_live().await?);
    assert_eq!(c.v1_list_models().await?, vec!["toy".to_owned()]);
    assert!(c.v1_model_ready("toy").await?);
    let p = c
        .v1_predict("toy", &json!({"instances": [[1, 2, 3], [4, 5, 6]]}))
        .await?;
    assert_eq!(p, json!({"predictions": [6, 15]}));
    // explain without an explainer: 501 with KServe's message.
    let e = c
        .v1_explain("toy", &json!({"instances": [[1, 2, 3]]}))
        .await
        .expect_err("no explainer");
    assert_eq!(e.status(), Some(501), "{e}");
    assert!(e.to_string().contains("explainer"), "{e}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn v2_metadata_and_health() -> anyhow::Result<()> {
    let c = toy();
    assert!(c.server_live().await?);
    assert!(c.server_ready().await?);
    let m = c.server_metadata().await?;
    assert_eq!(m.name, "kserve");
    assert_eq!(m.version, "0.21.0");
    assert_eq!(c.list_models().await?, vec!["toy".to_owned()]);
    let md = c.model_metadata("toy", None).await?;
    assert_eq!(md.name, "toy");
    assert!(c.model_ready("toy", None).await?);
    let e = c
        .model_metadata("toy", Some("1"))
        .await
        .expect_err("versions unsupported");
    assert_eq!(e.status(), Some(501), "{e}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn v2_infer_every_numeric_datatype_json_and_binary() -> anyhow::Result<()> {
    let c = toy();
    let inputs: Vec<(&str, TensorData)> = vec![
        ("BOOL", vec![true, false, true, true, true, false].into()),
        ("UINT8", vec![1u8, 2, 3, 4, 5, 6].into()),
        ("UINT16", vec![1u16, 2, 3, 4, 5, 6].into()),
        ("UINT32", vec![1u32, 2, 3, 4, 5, 6].into()),
        ("UINT64", vec![1u64, 2, 3, 4, 5, 6].into()),
        ("INT8", vec![1i8, 2, 3, 4, 5, 6].into()),
        ("INT16", vec![1i16, 2, 3, 4, 5, 6].into()),
        ("INT32", vec![1i32, 2, 3, 4, 5, 6].into()),
        ("INT64", vec![1i64, 2, 3, 4, 5, 6].into()),
        (
            "FP16",
            TensorData::Fp16([1f32, 2., 3., 4., 5., 6.].map(f32_to_f16).to_vec()),
        ),
        ("FP32", vec![1f32, 2., 3., 4., 5., 6.].into()),
        ("FP64", vec![1f64, 2., 3., 4., 5., 6.].into()),
    ];
    for (dt, data) in inputs {
        let expected: Vec<f32> = if dt == "BOOL" {
            vec![2.0, 2.0]
        } else {
            vec![6.0, 15.0]
        };
        for binary_in in [false, true] {
            for binary_out in [false, true] {
                let t = InferTensor::new("input-0", vec![2, 3], data.clone())?;
                assert_eq!(t.datatype().as_str(), dt);
                let req = InferRequest::new()
                    .id(format!("{dt}-{binary_in}-{binary_out}"))
                    .input(t)
                    .binary_inputs(binary_in)
                    .binary_outputs(binary_out);
                let r = c.infer("toy", &req).await.map_err(|e| {
                    anyhow::anyhow!("{dt} bin_in={binary_in} bin_out={binary_out}: {e}")
                })?;
                assert_eq!(r.model_name, "toy");
                assert_eq!(
                    r.id.as_deref(),
                    Some(format!("{dt}-{binary_in}-{binary_out}").as_str())
                );
                let o0 = r.output("output0").expect("output0");
                assert_eq!(o0.shape, vec![2]);
                assert_eq!(
                    o0.as_f32(),
                    Some(&expected[..]),
                    "{dt} bin_in={binary_in} bin_out={binary_out}"
                );
                assert_eq!(
                    r.output("output1").and_then(|o| o.as_i64()),
                    Some(&[3i64, 3][..])
                );
            }
        }
    }
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn v2_output_selection_and_per_output_binary() -> anyhow::Result<()> {
    let c = toy();
    let req = InferRequest::new()
        .input(InferTensor::new("input-0", vec![1, 3], vec![1f32, 2., 3.])?)
        .output(RequestedOutput::new("output0").binary(false))
        .output(RequestedOutput::new("output1").binary(true));
    let r = c.infer("toy", &req).await?;
    assert_eq!(
        r.output("output0").and_then(|o| o.as_f32()),
        Some(&[6f32][..])
    );
    assert_eq!(
        r.output("output1").and_then(|o| o.as_i64()),
        Some(&[3i64][..])
    );
    // Only one output asked for.
    let req = InferRequest::new()
        .input(InferTensor::new("input-0", vec![1, 3], vec![1f32, 2., 3.])?)
        .output(RequestedOutput::new("output1"));
    let r = c.infer("toy", &req).await?;
    assert_eq!(r.outputs.len(), 1);
    assert_eq!(r.outputs[0].name, "output1");
    // Request parameters and tensor parameters travel.
    let req = InferRequest::new()
        .parameter("foo", "bar")
        .input(InferTensor::new("input-0", vec![1, 3], vec![7i32, 8, 9])?.parameter("p", 1));
    let r = c.infer("toy", &req).await?;
    assert_eq!(
        r.output("output0").and_then(|o| o.as_f32()),
        Some(&[24f32][..])
    );
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn errors_from_the_real_server() -> anyhow::Result<()> {
    let c = toy();
    // Unknown model: 404 with KServe's message, on every route.
    for e in [
        c.v1_model_ready("nope").await.expect_err("404"),
        c.v1_predict("nope", &json!({"instances": [[1]]}))
            .await
            .expect_err("404"),
        c.model_metadata("nope", None).await.expect_err("404"),
        c.model_ready("nope", None).await.expect_err("404"),
        c.infer(
            "nope",
            &InferRequest::new().input(InferTensor::new("i", vec![1], vec![1f32])?),
        )
        .await
        .expect_err("404"),
    ] {
        assert!(e.is_not_found(), "{e}");
        assert!(
            e.to_string()
                .contains("Model with name nope does not exist"),
            "{e}"
        );
    }
    // Malformed V1 input: 400.
    let e = c
        .v1_predict("toy", &json!({"instances": 5}))
        .await
        .expect_err("400");
    assert_eq!(e.status(), Some(400), "{e}");
    // Unknown requested output: 400.
    let e = c
        .infer(
            "toy",
            &InferRequest::new()
                .input(InferTensor::new("input-0", vec![1, 3], vec![1f32, 2., 3.])?)
                .output(RequestedOutput::new("nope")),
        )
        .await
        .expect_err("400");
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        e.to_string().contains("Unexpected inference output 'nope'"),
        "{e}"
    );
    // Malformed JSON through the raw layer: FastAPI's 422 {"detail": [...]} becomes a clear error.
    let e = c
        .http()
        .post("v2/models/toy/infer")
        .body(r#"{"inputs": [{"name": "input-0""#, "application/json")
        .send()
        .await
        .expect_err("422");
    assert_eq!(e.status(), Some(422), "{e}");
    assert!(e.to_string().contains("JSON decode error"), "{e}");
    // A model error: sklearn with the wrong number of features (500).
    let e = sklearn()
        .v1_predict("sklearn-iris", &json!({"instances": [[1, 2]]}))
        .await
        .expect_err("500");
    assert_eq!(e.status(), Some(500), "{e}");
    assert!(e.to_string().contains("expecting 4 features"), "{e}");
    Ok(())
}

#[tokio::test]
#[ignore = "needs the real servers started by scripts/test"]
async fn sklearn_iris_v1_and_v2() -> anyhow::Result<()> {
    let c = sklearn();
    assert!(c.v1_model_ready("sklearn-iris").await?);
    let p = c
        .v1_predict(
            "sklearn-iris",
            &json!({"instances": [[6.8, 2.8, 4.8, 1.4], [5.1, 3.5, 1.4, 0.2]]}),
        )
        .await?;
    assert_eq!(p, json!({"predictions": [1, 0]}));
    for (binary_in, binary_out) in [(false, false), (true, false), (false, true), (true, true)] {
        let req = InferRequest::new()
            .input(InferTensor::new(
                "input-0",
                vec![2, 4],
                vec![6.8f64, 2.8, 4.8, 1.4, 5.1, 3.5, 1.4, 0.2],
            )?)
            .binary_inputs(binary_in)
            .binary_outputs(binary_out);
        let r = c.infer("sklearn-iris", &req).await?;
        assert_eq!(
            r.outputs[0].as_i64(),
            Some(&[1i64, 0][..]),
            "bin_in={binary_in} bin_out={binary_out}"
        );
    }
    Ok(())
}
