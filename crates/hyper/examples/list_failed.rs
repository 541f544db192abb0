//! List every failed or running workflow execution of one workflow with the
//! hyper adapter, following pages lazily.
//!
//! ```text
//! TENCENTCLOUD_SECRET_ID=… TENCENTCLOUD_SECRET_KEY=… \
//! cargo run -p cos-ci-hyper --example list_failed -- \
//!     examplebucket-1250000000 ap-beijing [WORKFLOW_ID or ""] [ENDPOINT]
//! ```
//! Without `ENDPOINT` it talks to the real service
//! (`https://<bucket>.ci.<region>.myqcloud.com`).

use std::collections::BTreeSet;
use std::process::ExitCode;

use cos_ci_client::{Config, Credentials};
use cos_ci_hyper::HyperClient;
use cos_ci_proto::{ListWorkflowExecutions, PageSize, StateFilter};
use futures_util::StreamExt;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bucket, region, rest @ ..] = args.as_slice() else {
        return Err("usage: list_failed BUCKET REGION [WORKFLOW_ID] [ENDPOINT]".into());
    };
    let secret_id =
        std::env::var("TENCENTCLOUD_SECRET_ID").map_err(|_| "set TENCENTCLOUD_SECRET_ID")?;
    let secret_key =
        std::env::var("TENCENTCLOUD_SECRET_KEY").map_err(|_| "set TENCENTCLOUD_SECRET_KEY")?;
    let mut config = Config::new(bucket, region, Credentials::new(secret_id, secret_key))
        .map_err(|e| e.to_string())?;
    if let Some(endpoint) = rest.get(1) {
        config = config.with_endpoint(endpoint).map_err(|e| e.to_string())?;
    }
    let client = HyperClient::new(config);

    let request = ListWorkflowExecutions {
        workflow_id: rest.first().filter(|id| !id.is_empty()).cloned(),
        states: Some(BTreeSet::from([StateFilter::Failed, StateFilter::Running])),
        size: PageSize::new(100).ok(),
        ..Default::default()
    };
    let mut executions = std::pin::pin!(
        client.list_all_workflow_executions(request, cos_ci_client::PagingOptions::all())
    );
    let mut count = 0;
    while let Some(execution) = executions.next().await {
        let execution = execution.map_err(|e| e.to_string())?;
        count += 1;
        if count <= 5 {
            println!(
                "{} {} {}",
                execution.run_id, execution.state, execution.object
            );
        }
    }
    println!("{count} failed or running executions");
    Ok(())
}
