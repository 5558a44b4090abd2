//! Design §3 "queue": a claimed task whose worker died is reclaimed after its
//! lease and applied exactly once; the dead worker cannot commit late.

use verdict_store::{NewTask, PushOutcome, TaskState};

use crate::harness::{Backend, TestServer, WS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite() {
    a_task_whose_worker_died_is_processed_exactly_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    a_task_whose_worker_died_is_processed_exactly_once(Backend::Postgres).await;
}

async fn a_task_whose_worker_died_is_processed_exactly_once(backend: Backend) {
    // No workers in the server: this test plays the workers by hand.
    let Some(s) = TestServer::spawn_with(backend, |c| c.workers = 0).await else {
        return;
    };
    let store = s.store.clone();
    let xml = b"<test_result><test_runs><test_run name=\"once\" duration=\"1\" status=\"Passed\"/></test_runs></test_result>";
    let task = NewTask {
        workspace_id: WS,
        skip_errors: false,
        payload_encoding: "identity",
        payload_size: xml.len() as i64,
        dedupe_key: "queue-test".to_owned(),
        dedupe_window_ms: 60_000,
        accepted_at: verdict_store::now_ms(),
        ci: None,
        pushed_by: None,
        items_total: Some(1),
    };
    let PushOutcome::Accepted { task_id } = store.enqueue(&task, &mut &xml[..]).await.unwrap()
    else {
        panic!("expected a new task");
    };
    // Worker A claims with a tiny lease and "dies" holding it.
    let dead = store.claim_task("dead-worker", 1).await.unwrap().unwrap();
    assert_eq!(dead.id, task_id);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // Worker B reclaims the expired lease and processes the task.
    let claimed = store.claim_task("worker-b", 60_000).await.unwrap().unwrap();
    assert_eq!((claimed.id, claimed.attempts), (task_id, 2));
    assert!(
        verdict_server::process_claimed_task(&store, &claimed, "worker-b")
            .await
            .unwrap()
    );
    // Worker A comes back and tries to commit: refused, nothing applied twice.
    let late = verdict_server::process_claimed_task(&store, &dead, "dead-worker").await;
    assert!(matches!(late, Ok(false) | Err(_)), "{late:?}");
    let record = store.task(task_id).await.unwrap().unwrap();
    assert_eq!(record.state, TaskState::Success);
    assert!(
        store
            .claim_task("worker-c", 60_000)
            .await
            .unwrap()
            .is_none()
    );
    let page = store
        .read_entities(&verdict_store::EntityQuery {
            collection: verdict_store::collection_by_name("runs").unwrap(),
            workspace_id: WS,
            filter: None,
            fields: None,
            order_by: Vec::new(),
            limit: 10,
            offset: 0,
            ref_fields: Vec::new(),
            current_user: None,
        })
        .await
        .unwrap();
    assert_eq!(page.total_count, 1);
}
