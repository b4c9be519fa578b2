//! Tensor encodings: every datatype through binary and JSON, FP16 conversion, BYTES framing,
//! shape checks, and binary responses.

use kubeflow_serving::tensor::{f16_to_f32, f32_to_f16};
use kubeflow_serving::{Datatype, InferRequest, InferResponse, InferTensor, TensorData};
use serde_json::json;

fn all() -> Vec<TensorData> {
    vec![
        vec![true, false].into(),
        vec![0u8, 255].into(),
        vec![0u16, u16::MAX].into(),
        vec![0u32, u32::MAX].into(),
        vec![0u64, u64::MAX].into(),
        vec![i8::MIN, i8::MAX].into(),
        vec![i16::MIN, i16::MAX].into(),
        vec![i32::MIN, i32::MAX].into(),
        vec![i64::MIN, i64::MAX].into(),
        TensorData::Fp16(vec![f32_to_f16(1.5), f32_to_f16(-2.0)]),
        vec![1.5f32, -0.25].into(),
        vec![1e300f64, -1e-300].into(),
        vec!["héllo", ""].into(),
    ]
}

#[test]
fn every_datatype_round_trips_binary_and_json() {
    for d in all() {
        let dt = d.datatype();
        let back = TensorData::from_le_bytes(&dt, &d.to_le_bytes()).expect("binary");
        assert_eq!(back, d, "{dt} binary");
        let json = serde_json::to_value(&d).expect("json");
        let back = TensorData::from_json(&dt, &json).expect("json back");
        assert_eq!(back, d, "{dt} json");
        assert_eq!(Datatype::parse(dt.as_str()), dt);
    }
    assert_eq!(Datatype::parse("BF16"), Datatype::Unknown("BF16".into()));
}

#[test]
fn fp16_conversion() {
    for x in [
        0.0f32,
        1.0,
        -1.0,
        0.5,
        65504.0,
        6.1035156e-5,
        5.9604645e-8,
        1.5,
        3.140625,
    ] {
        assert_eq!(f16_to_f32(f32_to_f16(x)), x, "{x}");
    }
    assert_eq!(f32_to_f16(1.0), 0x3c00);
    assert_eq!(f32_to_f16(1e6), 0x7c00);
    assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
}

#[test]
fn bytes_binary_framing_and_errors() {
    let d: TensorData = vec!["ab", "c"].into();
    assert_eq!(d.to_le_bytes(), b"\x02\x00\x00\x00ab\x01\x00\x00\x00c");
    assert!(TensorData::from_le_bytes(&Datatype::Bytes, b"\x05\x00\x00\x00ab").is_err());
    assert!(TensorData::from_le_bytes(&Datatype::Fp32, &[0, 0, 0]).is_err());
    assert!(TensorData::from_json(&Datatype::Uint8, &json!([256])).is_err());
    assert!(TensorData::from_json(&Datatype::Int64, &json!([[1, 2], [3, "x"]])).is_err());
}

#[test]
fn json_request_with_fp16_goes_binary() {
    let req = InferRequest::new()
        .input(InferTensor::new("a", vec![2], vec![1f32, 2.]).expect("a"))
        .input(InferTensor::new("h", vec![1], TensorData::Fp16(vec![0x3c00])).expect("h"));
    let (body, hl) = req.encode().expect("encode");
    let n = hl.expect("binary because of FP16");
    let head: serde_json::Value = serde_json::from_slice(&body[..n]).expect("json");
    assert_eq!(head["inputs"][0]["data"], json!([1.0, 2.0]));
    assert_eq!(
        head["inputs"][1]["parameters"]["binary_data_size"],
        json!(2)
    );
    assert_eq!(&body[n..], &[0x00, 0x3c]);
}

#[test]
fn shapes_are_checked() {
    assert!(InferTensor::new("x", vec![2, -1], vec![1f32, 2.]).is_err());
    assert!(InferTensor::new("x", vec![], vec![1f32]).is_ok());
    let mut t = InferTensor::new("x", vec![2], vec![1f32, 2.]).expect("t");
    t.shape = vec![3];
    assert!(InferRequest::new().input(t).encode().is_err());
    // Responses too.
    let body = br#"{"model_name":"m","outputs":[{"name":"o","shape":[3],"datatype":"FP32","data":[1,2]}]}"#;
    let e = InferResponse::decode(body, None).expect_err("mismatch");
    assert!(e.contains("holds 3 elements but 2"), "{e}");
    let body = br#"{"model_name":"m","outputs":[{"name":"o","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}}]}"#;
    let e = InferResponse::decode(body, Some(body.len())).expect_err("no tail");
    assert!(e.contains("only 0 binary bytes"), "{e}");
}
