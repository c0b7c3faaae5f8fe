//! Lists the artifacts of a task run with named temporary credentials (valid for a day) made
//! from the permanent ones in the environment, restricted further by authorized scopes:
//! `temp-credentials <taskId> [<runId>]`. The permanent client needs
//! `auth:create-client:demo-client/taskcluster-client-rust`.
use apigen_runtime::{ClientBuilder, Credentials};
use taskcluster_queue::Queue;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let task_id = args.next().ok_or("usage: temp-credentials <taskId> [<runId>]")?;
    let run_id = args.next().unwrap_or_else(|| "0".into());
    let temporary = Credentials::from_env()?
        .ok_or("TASKCLUSTER_CLIENT_ID is not set")?
        .create_named_temporary_credentials(
            "demo-client/taskcluster-client-rust",
            std::time::Duration::from_secs(24 * 3600),
            ["queue:get-artifact:*", "queue:list-artifacts:*"],
        )?
        .with_authorized_scopes(["queue:list-artifacts:*"]);
    let queue = Queue::new(&ClientBuilder::from_env()?.credentials(temporary).build()?);
    let artifacts = queue.list_artifacts(&task_id, &run_id, None, None).await?;
    println!("Task {task_id} run {run_id} artifacts:");
    for artifact in &artifacts.artifacts {
        println!("  * {}", artifact.name);
    }
    Ok(())
}
