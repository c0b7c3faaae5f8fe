//! Typed Pulse messages without a broker: routing keys read back into binding fields, bodies
//! decoded into the exchange's message type, and messages that do not fit reported with their
//! bytes. (The consumer itself is tested against a real RabbitMQ in `tests/pulse-e2e`.)

use apigen_runtime::bytes::Bytes;
use apigen_runtime::{Binding, Event};
use serde_json::json;
use taskcluster_queue::exchanges::{QueueEvent, TaskCompleted, TaskDefined};

fn task_completed_body() -> serde_json::Value {
    json!({
        "version": 1,
        "runId": 0,
        "workerGroup": "us-east-1",
        "workerId": "i-123",
        "status": {
            "taskId": "fN1SbArXTPSVFNUvaOlinQ",
            "provisionerId": "proj",
            "workerType": "linux",
            "taskQueueId": "proj/linux",
            "schedulerId": "-",
            "projectId": "none",
            "taskGroupId": "fN1SbArXTPSVFNUvaOlinQ",
            "deadline": "2026-11-30T10:00:00.000Z",
            "expires": "2027-11-30T10:00:00.000Z",
            "retriesLeft": 5,
            "state": "completed",
            "runs": [{
                "runId": 0, "state": "completed", "reasonCreated": "scheduled",
                "reasonResolved": "completed", "workerGroup": "us-east-1", "workerId": "i-123",
                "takenUntil": "2026-11-30T09:20:00.000Z", "scheduled": "2026-11-30T09:00:00.000Z",
                "started": "2026-11-30T09:00:01.000Z", "resolved": "2026-11-30T09:10:00.000Z",
                "aNewFieldFromANewerServer": true
            }]
        },
        "fieldAddedLater": {"x": 1}
    })
}

const KEY: &str = "primary.fN1SbArXTPSVFNUvaOlinQ.0.us-east-1.i-123.proj.linux.-.fN1SbArXTPSVFNUvaOlinQ._";

#[test]
fn routing_keys_read_back_into_binding_fields() {
    let key = TaskCompleted::from_routing_key(KEY).unwrap();
    assert_eq!(key.task_id.as_deref(), Some("fN1SbArXTPSVFNUvaOlinQ"));
    assert_eq!(key.run_id.as_deref(), Some("0"));
    assert_eq!(key.worker_type.as_deref(), Some("linux"));
    assert_eq!(key.reserved.as_deref(), Some("_"));
    // A key built from every field is the key it came from.
    assert_eq!(key.routing_key().unwrap(), KEY);
    // A CC'd route is not this exchange's key shape.
    assert_eq!(TaskDefined::from_routing_key("route.index.my.route"), None);
    assert_eq!(TaskDefined::from_routing_key("primary.too.short"), None);
}

#[test]
fn a_message_decodes_into_its_exchange_variant_ignoring_unknown_fields() {
    let body = Bytes::from(task_completed_body().to_string());
    let event = QueueEvent::decode("exchange/taskcluster-queue/v1/task-completed", KEY, &body).unwrap().unwrap();
    match event {
        QueueEvent::TaskCompleted { key, body } => {
            assert_eq!(key.worker_id.as_deref(), Some("i-123"));
            assert_eq!(body.status.runs.len(), 1);
            assert_eq!(body.worker_group, "us-east-1");
        }
        other => panic!("wrong variant: {other:?}"),
    }
    assert!(QueueEvent::EXCHANGES.contains(&"exchange/taskcluster-queue/v1/task-completed"));
    assert_eq!(QueueEvent::EXCHANGES.len(), 11);
}

#[test]
fn other_services_exchanges_are_not_ours() {
    let body = Bytes::from_static(b"{}");
    assert!(QueueEvent::decode("exchange/taskcluster-github/v1/push", KEY, &body).is_none());
}

#[test]
fn bodies_that_do_not_fit_arrive_as_errors_with_their_bytes() {
    let exchange = "exchange/taskcluster-queue/v1/task-completed";
    let not_json = Bytes::from_static(b"this is not json");
    let err = QueueEvent::decode(exchange, KEY, &not_json).unwrap().unwrap_err();
    assert_eq!(err.body, not_json);
    assert_eq!(err.exchange, exchange);
    assert_eq!(err.routing_key, KEY);

    let mut wrong = task_completed_body();
    wrong["status"]["runs"][0]["runId"] = json!("zero");
    let wrong = Bytes::from(wrong.to_string());
    let err = QueueEvent::decode(exchange, KEY, &wrong).unwrap().unwrap_err();
    assert!(err.reason.contains("status.runs[0].runId"), "{err}");
    assert!(err.to_string().contains("task-completed"), "{err}");

    let body = Bytes::from(task_completed_body().to_string());
    let err = QueueEvent::decode(exchange, "primary.x", &body).unwrap().unwrap_err();
    assert!(err.reason.contains("routing key"), "{err}");
}

apigen_runtime::pulse_events! {
    /// Events of two services in one type.
    enum Both {
        Queue(QueueEvent),
        Github(taskcluster_github::exchanges::GithubEvent),
    }
}

#[test]
fn events_of_several_services_combine_into_one_type() {
    let body = Bytes::from(task_completed_body().to_string());
    let e = Both::decode("exchange/taskcluster-queue/v1/task-completed", KEY, &body).unwrap().unwrap();
    assert!(matches!(e, Both::Queue(QueueEvent::TaskCompleted { .. })));
    assert!(Both::decode("exchange/elsewhere/v1/x", KEY, &body).is_none());
}
