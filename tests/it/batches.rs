//! Full-size ChangeBatches through the strict Route 53 model: Route 53 takes up to 1,000
//! ResourceRecord elements and 32,000 characters a request, with no cap on the number of
//! changes, so a deploy's events go out in as few requests as those limits allow.

use crate::simulated::tasks::{simple_task, Mode, TaskSpec};
use crate::simulated::{account_with_hosts, empty_zone, inputs, publisher, running_events};
use ecs_srv::run::events::process;

#[tokio::test]
async fn fifty_new_tasks_take_one_change_request() {
    let zone = empty_zone();
    let account = account_with_hosts(3);
    let publisher = publisher(&zone, &account).await;
    let tasks: Vec<TaskSpec> = (0..50)
        .map(|i| simple_task(i, Mode::Awsvpc, "web", i % 3))
        .collect();
    let refs: Vec<&TaskSpec> = tasks.iter().collect();
    let report = process(&publisher, inputs(running_events(&account, &refs))).await;
    assert!(!report.has_failures(), "{report:#?}");
    let zone = zone.lock().unwrap();
    let batches = zone.accepted_batches();
    assert_eq!(
        batches.len(),
        1,
        "150 changes fit one request: {:?}",
        batches.iter().map(|b| b.len()).collect::<Vec<_>>()
    );
    assert_eq!(batches[0].len(), 150);
    assert_eq!(zone.problems(), Vec::<String>::new());
}
