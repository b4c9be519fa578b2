//! `serve_and_predict`: deploy a scikit-learn model with KServe from Rust, wait until it is
//! ready, send V2 (Open Inference Protocol) requests through the Kubeflow gateway, print the
//! predictions.
//!
//! ```text
//! cargo run -p kubeflow-examples --example serve_and_predict                 # on the current cluster
//! cargo run -p kubeflow-examples --example serve_and_predict -- --dry-run    # print the InferenceService
//! cargo run -p kubeflow-examples --example serve_and_predict -- --url http://127.0.0.1:8080
//!                                     # only the predictions, against a model server you run
//! ```
//!
//! The cluster and the gateway are found as every SDK client finds them (kubeconfig,
//! in-cluster, `KUBEFLOW_*` variables such as `KUBEFLOW_ENDPOINT` and the credentials). The
//! namespace is `SERVING_NAMESPACE`, else the configured Kubeflow namespace, else `default`.
//! Exits with 1 on any error, with the reason (a model that failed to load says why).

use std::process::ExitCode;
use std::time::Duration;

use kubeflow_core::{KubeflowClient, KubeflowConfig};
use kubeflow_serving::{
    InferRequest, InferTensor, InferenceClient, InferenceService, ProtocolVersion, Route,
    ServingClient,
};

const NAME: &str = "sklearn-iris-rs";
const MODEL_URI: &str = "gs://kfserving-examples/models/sklearn/1.0/model";

fn inference_service() -> InferenceService {
    let mut isvc = InferenceService::with_model(NAME, "sklearn", MODEL_URI);
    if let Some(model) = isvc.spec.predictor.model.as_mut() {
        model.protocol_version = Some(ProtocolVersion::V2);
    }
    isvc
}

async fn predict(client: &InferenceClient, model: &str) -> anyhow::Result<()> {
    let rows = [
        [6.8f32, 2.8, 4.8, 1.4],
        [6.0, 3.4, 4.5, 1.6],
        [5.1, 3.5, 1.4, 0.2],
    ];
    let data: Vec<f32> = rows.iter().flatten().copied().collect();
    let request = InferRequest::new()
        .id("rust-example")
        .input(InferTensor::new("input-0", vec![3, 4], data)?);
    // JSON, then the binary tensor extension both ways: same answer.
    for binary in [false, true] {
        let response = client
            .infer(
                model,
                &request.clone().binary_inputs(binary).binary_outputs(binary),
            )
            .await?;
        for output in &response.outputs {
            println!(
                "{} (binary={binary}): {} {:?} = {:?}",
                response.model_name,
                output.name,
                output.shape,
                output.data.to_f64_vec().unwrap_or_default()
            );
        }
    }
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--dry-run") {
        println!("{}", serde_json::to_string_pretty(&inference_service())?);
        return Ok(());
    }
    if let Some(i) = args.iter().position(|a| a == "--url") {
        let url = args
            .get(i + 1)
            .ok_or_else(|| anyhow::anyhow!("--url needs a value"))?;
        let client = InferenceClient::from_url(url)?;
        let model = args.get(i + 2).map_or("sklearn-iris", String::as_str);
        println!("server ready: {}", client.server_ready().await?);
        return predict(&client, model).await;
    }

    let mut config = KubeflowConfig::infer().await?;
    if let Ok(ns) = std::env::var("SERVING_NAMESPACE") {
        config = config.namespace(ns);
    }
    let kf = KubeflowClient::new(config)?;
    let serving = ServingClient::new(&kf)?;
    match serving.create(&inference_service()).await {
        Ok(_) => println!("created InferenceService {}/{NAME}", serving.namespace()),
        Err(kubeflow_core::Error::Kube(kube::Error::Api(s))) if s.code == 409 => {
            println!(
                "InferenceService {}/{NAME} exists; reusing it",
                serving.namespace()
            );
        }
        Err(e) => return Err(e.into()),
    }
    let isvc = serving
        .wait_ready(NAME)
        .timeout(Duration::from_secs(600))
        .on_progress(|r| println!("  {r}"))
        .await?
        .ok_or_else(|| anyhow::anyhow!("the InferenceService disappeared"))?;
    println!("ready at {}", isvc.url().unwrap_or("?"));
    let client = serving.inference_client(&isvc, Route::External)?;
    predict(&client, NAME).await
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
