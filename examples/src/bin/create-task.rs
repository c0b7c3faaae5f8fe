//! Creates a task for a Windows generic-worker that echoes "Hello World!":
//! `create-task [<taskQueueId>]`.
use std::time::Duration;

use apigen_runtime::{serde_json, slug, Time};
use taskcluster_generic_worker::multiuser_windows::Payload;
use taskcluster_queue::{CreateTaskRequest, Queue, TaskMetadata};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let task_queue_id = std::env::args().nth(1).unwrap_or_else(|| "proj-example/win2022".into());
    let payload = Payload {
        command: vec!["echo Hello World!".into()],
        max_run_time: 60,
        artifacts: None,
        env: None,
        features: None,
        logs: None,
        mounts: None,
        on_exit_status: None,
        os_groups: None,
        rdp_info: None,
        superseder_url: None,
        taskcluster_proxy_interface: None,
    };
    let now = Time::now();
    let task = CreateTaskRequest {
        created: now,
        deadline: now + Duration::from_secs(3 * 3600),
        expires: Some(now + Duration::from_secs(24 * 3600)),
        metadata: TaskMetadata {
            name: "Hello World".into(),
            description: "An example task".into(),
            owner: "someone@example.com".into(),
            source: "https://github.com/example/example".into(),
        },
        payload: serde_json::from_value(serde_json::to_value(payload)?)?,
        task_queue_id: Some(task_queue_id),
        dependencies: None,
        extra: None,
        priority: None,
        project_id: None,
        provisioner_id: None,
        requires: None,
        retries: None,
        routes: None,
        scheduler_id: None,
        scopes: None,
        tags: None,
        task_group_id: None,
        worker_type: None,
    };
    let queue = Queue::from_env()?;
    let task_id = slug::nice();
    let status = queue.create_task(&task_id, &task).await?;
    println!("Task {task_id} is {:?}", status.status.state);
    println!("Live log: {}", queue.get_latest_artifact_url(&task_id, "public/logs/live.log"));
    Ok(())
}
