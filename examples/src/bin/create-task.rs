//! Creates a task for a Windows generic-worker that echoes "Hello World!":
//! `create-task [<taskQueueId>]`.
use std::time::Duration;

use apigen_runtime::{slug, Time};
use taskcluster_generic_worker::multiuser_windows::Payload;
use taskcluster_queue::{CreateTaskRequest, Queue, TaskMetadata};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let task_queue_id = std::env::args().nth(1).unwrap_or_else(|| "proj-example/win2022".into());
    let now = Time::now();
    let metadata = TaskMetadata::new(
        "An example task",
        "Hello World",
        "someone@example.com",
        "https://github.com/example/example",
    );
    let task = CreateTaskRequest::new(now, now + Duration::from_secs(3 * 3600), metadata)
        .with_expires(now + Duration::from_secs(24 * 3600))
        .with_task_queue_id(task_queue_id)
        .with_payload(Payload::new(vec!["echo Hello World!".to_owned()], 60u64))?;
    let queue = Queue::from_env()?;
    let task_id = slug::nice();
    let status = queue.create_task(&task_id, &task).await?;
    println!("Task {task_id} is {}", status.status.state);
    println!("Live log: {}", queue.get_latest_artifact_url(&task_id, "public/logs/live.log"));
    Ok(())
}
