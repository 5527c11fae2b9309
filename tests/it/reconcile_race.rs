//! A scheduled reconcile racing the event stream, against the strict Route 53 model and
//! the simulated account: two publishers (the stream's and the reconcile's) share one
//! zone and one ECS, their calls interleave, and the zone must converge.

use std::sync::{Arc, Mutex};

use crate::simulated::tasks::{simple_task, Mode, TaskSpec};

/// One task's moves in the racing stream: what ECS says next, and whether its event is
/// delivered (a lost event is only found by the reconcile).
struct Move {
    task: usize,
    last: &'static str,
    desired: &'static str,
    version: u64,
    delivered: bool,
}

#[tokio::test]
async fn a_reconcile_racing_an_event_stream_converges() {
    use rand::{Rng, SeedableRng};
    let mut resurrected_after_race = Vec::new();
    for seed in 0..24u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let zone = crate::simulated::empty_zone();
        zone.lock()
            .unwrap()
            .seed(crate::simulated::foreign_records());
        zone.lock().unwrap().page_size = 5;
        let account = crate::simulated::account_with_hosts(3);
        let modes = [Mode::Bridge, Mode::Host, Mode::Awsvpc];
        let tasks: Vec<TaskSpec> = (0..14)
            .map(|i| simple_task(i, modes[i % 3], ["web", "api"][i % 2], i % 3))
            .collect();
        let stream = crate::simulated::publisher(&zone, &account).await;
        let reconciler = crate::simulated::publisher(&zone, &account).await;
        let first: Vec<&TaskSpec> = tasks[..6].iter().collect();
        assert!(!ecs_srv::run::events::process(
            &stream,
            crate::simulated::inputs(crate::simulated::running_events(&account, &first))
        )
        .await
        .has_failures());

        // Tasks 6-11 start (11's event is lost), tasks 0-2 drain and stop (2's STOPPED
        // event is lost), tasks 12-13 start and stop within the race; each task's moves
        // stay in order, tasks interleave at random.
        let mut queues: Vec<Vec<Move>> = (6..12)
            .map(|task| {
                vec![Move {
                    task,
                    last: "RUNNING",
                    desired: "RUNNING",
                    version: 2,
                    delivered: task != 11,
                }]
            })
            .collect();
        queues.extend((0..3).map(|task| {
            vec![
                Move {
                    task,
                    last: "STOPPED",
                    desired: "STOPPED",
                    version: 4,
                    delivered: task != 2,
                },
                Move {
                    task,
                    last: "RUNNING",
                    desired: "STOPPED",
                    version: 3,
                    delivered: true,
                },
            ]
        }));
        queues.extend((12..14).map(|task| {
            vec![
                Move {
                    task,
                    last: "STOPPED",
                    desired: "STOPPED",
                    version: 3,
                    delivered: true,
                },
                Move {
                    task,
                    last: "RUNNING",
                    desired: "RUNNING",
                    version: 2,
                    delivered: true,
                },
            ]
        }));
        let mut moves: Vec<Move> = Vec::new();
        while queues.iter().any(|q| !q.is_empty()) {
            let open: Vec<usize> = (0..queues.len())
                .filter(|i| !queues[*i].is_empty())
                .collect();
            let pick = open[rng.random_range(0..open.len())];
            moves.extend(queues[pick].pop());
        }

        let stream_run = async {
            for chunk in moves.chunks(rng.random_range(1..=4)) {
                let mut events = Vec::new();
                for step in chunk {
                    crate::simulated::set_task(
                        &account,
                        &tasks[step.task],
                        step.last,
                        step.desired,
                        step.version,
                    );
                    if step.delivered {
                        events.push(tasks[step.task].event(step.last, step.desired, step.version));
                    }
                }
                for _ in 0..(seed % 5) {
                    tokio::task::yield_now().await;
                }
                // A batch that loses a race with the reconcile's writes fails retryably,
                // and SQS delivers it again: never a permanent failure, and through soon.
                let mut pending = events;
                for _ in 0..4 {
                    if pending.is_empty() {
                        break;
                    }
                    let report = ecs_srv::run::events::process(
                        &stream,
                        crate::simulated::inputs(pending.clone()),
                    )
                    .await;
                    assert!(
                        report.permanent_failures().next().is_none(),
                        "seed {seed}: {report:?}"
                    );
                    pending = report
                        .events
                        .iter()
                        .zip(&pending)
                        .filter(|(outcome, _)| outcome.error.is_some())
                        .map(|(_, event)| event.clone())
                        .collect();
                }
                assert!(
                    pending.is_empty(),
                    "seed {seed}: still failing: {pending:?}"
                );
            }
        };
        let reconcile_run = async {
            for _ in 0..(seed * 3 % 17) {
                tokio::task::yield_now().await;
            }
            ecs_srv::run::reconcile::reconcile(&reconciler, ecs_srv::run::deployment::Mode::Write)
                .await
                .expect("the reconcile completes")
        };
        let ((), raced) = tokio::join!(stream_run, reconcile_run);

        let truth_running: Vec<&TaskSpec> = (3..12).map(|i| &tasks[i]).collect();
        let (owned, foreign) = crate::simulated::zone_contents(&zone, &stream);
        let back: Vec<String> = tasks[..3]
            .iter()
            .chain(&tasks[12..])
            .map(|t| t.task_id.clone())
            .filter(|id| {
                owned.iter().any(|s| {
                    s.routing
                        .set_identifier()
                        .is_some_and(|sid| sid.contains(id.as_str()))
                })
            })
            .collect();
        if !back.is_empty() {
            resurrected_after_race.push((seed, back, raced.changes.len()));
        }
        assert_eq!(
            foreign.len(),
            crate::simulated::foreign_records().len(),
            "seed {seed}: foreign records untouched"
        );

        let quiet =
            ecs_srv::run::reconcile::reconcile(&reconciler, ecs_srv::run::deployment::Mode::Write)
                .await
                .expect("a quiet reconcile completes");
        let (owned, _) = crate::simulated::zone_contents(&zone, &stream);
        assert_eq!(
            owned,
            crate::simulated::expected_records(&stream, &truth_running),
            "seed {seed}: converged after a quiet reconcile ({quiet:?})"
        );
        let idle =
            ecs_srv::run::reconcile::reconcile(&reconciler, ecs_srv::run::deployment::Mode::Write)
                .await
                .expect("an idle reconcile completes");
        assert!(
            idle.batches.is_empty() && idle.changes.is_empty(),
            "seed {seed}: nothing differs, nothing written: {idle:?}"
        );
        let refused = zone.lock().unwrap().rejections().len();
        eprintln!("race seed {seed}: reconcile made {} changes while racing, {refused} batch(es) refused by the strict model and retried", raced.changes.len());
    }
    assert!(resurrected_after_race.is_empty(), "a racing reconcile brought back stopped tasks (seed, tasks, reconcile changes): {resurrected_after_race:?}");
}

/// The window the random race rarely hits, held open on purpose: the reconcile lists a
/// task as running, then (while it looks up the host) the task stops and the event
/// stream withdraws it, then the reconcile writes what it listed. Today the stopped
/// task's records come back until the next reconcile; see the reliability report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_that_stops_while_a_reconcile_runs_is_not_brought_back() {
    use std::sync::mpsc;
    use std::time::Duration;
    let zone = crate::simulated::empty_zone();
    let account = crate::simulated::account_with_hosts(1);
    let short_lived = simple_task(0, Mode::Bridge, "web", 0);
    crate::simulated::set_task(&account, &short_lived, "RUNNING", "RUNNING", 2);

    let (at_gate, reached) = mpsc::channel::<()>();
    let (release, released) = mpsc::channel::<()>();
    let (at_gate, released) = (Mutex::new(Some(at_gate)), Mutex::new(released));
    let gate = aws_smithy_mocks::mock!(aws_sdk_ec2::Client::describe_instances)
        .match_requests(move |_| {
            if let Some(signal) = at_gate.lock().unwrap().take() {
                signal.send(()).expect("the stream waits");
                let _ = released
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(10));
            }
            false
        })
        .then_output(|| {
            aws_sdk_ec2::operation::describe_instances::DescribeInstancesOutput::builder().build()
        });
    let clients = ecs_srv::aws::AwsClients::from_parts(
        crate::simulated::account::ecs_client(&account),
        crate::simulated::account::ec2_client_with(&account, vec![gate]),
        crate::support::strict_zone::route53_client(Arc::clone(&zone)),
        ecs_srv::aws::ApiCallLog::default(),
    );
    let reconciler = Arc::new(
        crate::support::config::deployment(crate::simulated::config(), clients)
            .await
            .unwrap(),
    );
    let stream = crate::simulated::publisher(&zone, &account).await;

    let racing = tokio::spawn({
        let reconciler = Arc::clone(&reconciler);
        async move {
            ecs_srv::run::reconcile::reconcile(&reconciler, ecs_srv::run::deployment::Mode::Write)
                .await
        }
    });
    let gate_reached =
        tokio::task::spawn_blocking(move || reached.recv_timeout(Duration::from_secs(10)))
            .await
            .unwrap();
    assert!(
        gate_reached.is_ok(),
        "the reconcile looks the host up after listing the task"
    );
    let events = vec![
        short_lived.event("RUNNING", "RUNNING", 2),
        crate::simulated::stopped_events(&account, &[&short_lived]).remove(0),
    ];
    let report = ecs_srv::run::events::process(&stream, crate::simulated::inputs(events)).await;
    assert!(!report.has_failures(), "{report:?}");
    release.send(()).unwrap();
    let raced = racing.await.unwrap().expect("the reconcile completes");

    let (owned, _) = crate::simulated::zone_contents(&zone, &stream);
    assert!(
        owned.is_empty(),
        "the reconcile brought back a task that stopped while it ran ({} changes): {owned:#?}",
        raced.changes.len()
    );
}
