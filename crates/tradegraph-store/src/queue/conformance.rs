//! The suite every [`RunQueue`] backend passes (feature `conformance`): order, one owner per
//! instrument, a dead or departing owner's job going to the next one, capped retries, jobs set
//! aside, spreading
//! instruments over workers, and the workers' reports. Each check opens its own queue (a fresh
//! name from `open`), so the checks share nothing.
//!
//! ```ignore
//! tradegraph_store::queue::conformance::run_all(|config| async move {
//!     RedisRunQueue::connect(RedisConfig::new(url), config).unwrap()
//! })
//! .await;
//! ```
// An assertion suite: failing the test is what its panics are for.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use super::job::now;
use super::{Job, Lease, Next, QueueConfig, RunQueue, WorkerId, WorkerInfo};
use std::future::Future;
use std::time::Duration;
use tradegraph_core::{Symbol, Timestamp};

/// The lease the checks run with: short, so that an expiry is quick to wait for.
pub const LEASE: Duration = Duration::from_millis(400);

/// Deliveries before the dead letters in the checks.
pub const MAX_DELIVERIES: u32 = 2;

/// How long the checks wait for a job that should be there.
const WAIT: Duration = Duration::from_millis(200);

/// Every check, each on a fresh queue from `open`.
pub async fn run_all<Q, F, Fut>(open: F)
where
    Q: RunQueue,
    F: Fn(QueueConfig) -> Fut,
    Fut: Future<Output = Q>,
{
    jobs_come_in_order_and_once(&open(config()).await).await;
    one_owner_at_a_time(&open(config()).await).await;
    a_dead_owners_job_goes_to_the_next_owner(&open(config()).await).await;
    an_owner_past_its_lease_gets_no_new_job(&open(config()).await).await;
    a_released_job_goes_to_the_next_owner(&open(config()).await).await;
    retries_are_capped(&open(config()).await).await;
    a_job_set_aside_is_kept_and_not_delivered_again(&open(config()).await).await;
    instruments_spread_over_workers(&open(config()).await).await;
    workers_report_their_load(&open(config()).await).await;
}

/// A queue of its own: a fresh name, [`LEASE`], [`MAX_DELIVERIES`].
pub fn config() -> QueueConfig {
    QueueConfig::default()
        .name(format!("suite{:016x}", rand::random::<u64>()))
        .lease(LEASE)
        .max_deliveries(MAX_DELIVERIES)
}

fn sym(name: &str) -> Symbol {
    Symbol::new(name)
}

/// The lease `worker` gets, which must be on `instrument`.
async fn take<Q: RunQueue + ?Sized>(queue: &Q, worker: &WorkerId, instrument: &Symbol) -> Lease {
    let lease = queue
        .acquire(worker)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{worker} got no instrument, expected {instrument}"));
    assert_eq!(&lease.instrument, instrument, "{worker}'s lease");
    assert_eq!(&lease.worker, worker);
    lease
}

/// The next job, which must be one.
async fn job<Q: RunQueue + ?Sized>(queue: &Q, lease: &Lease) -> Job {
    match queue.next(lease, WAIT).await.unwrap() {
        Next::Job(job) => job,
        other => panic!("{}: expected a job, got {other:?}", lease.worker),
    }
}

/// Jobs come oldest first, each once; when all are acknowledged nothing is pending.
pub async fn jobs_come_in_order_and_once<Q: RunQueue + ?Sized>(queue: &Q) {
    let a = sym("ORDER");
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            queue
                .publish(&a, format!("cycle {i}").as_bytes())
                .await
                .unwrap(),
        );
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids grow: {ids:?}");
    assert_eq!(queue.pending(&a).await.unwrap(), 5);
    let worker = WorkerId::new("w1");
    let lease = take(queue, &worker, &a).await;
    for (i, id) in ids.iter().enumerate() {
        let job = job(queue, &lease).await;
        assert_eq!(&job.id, id);
        assert_eq!(job.payload, format!("cycle {i}").into_bytes());
        assert_eq!((job.deliveries, &job.instrument), (1, &a));
        assert!(queue.ack(&lease, &job.id).await.unwrap());
        assert!(
            !queue.ack(&lease, &job.id).await.unwrap(),
            "acknowledged twice"
        );
    }
    // An id never handed out is not acknowledged, and nothing queued is touched.
    let stray = queue.publish(&a, b"stray").await.unwrap();
    assert!(!queue.ack(&lease, &stray).await.unwrap());
    assert_eq!(queue.pending(&a).await.unwrap(), 1);
    let strayed = job(queue, &lease).await;
    assert_eq!(strayed.id, stray);
    assert!(queue.ack(&lease, &strayed.id).await.unwrap());
    assert_eq!(
        queue.next(&lease, Duration::from_millis(50)).await.unwrap(),
        Next::Idle
    );
    assert_eq!(queue.pending(&a).await.unwrap(), 0);
    queue.release(&lease).await.unwrap();
    // Nothing to do: no instrument to acquire.
    assert_eq!(queue.acquire(&worker).await.unwrap(), None);
    // A job published later makes the instrument worth acquiring again; one published while
    // its owner waits reaches the owner.
    queue.publish(&a, b"later").await.unwrap();
    let lease = take(queue, &worker, &a).await;
    let later = job(queue, &lease).await;
    assert!(queue.ack(&lease, &later.id).await.unwrap());
    let (waited, published) = tokio::join!(queue.next(&lease, Duration::from_secs(2)), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        queue.publish(&a, b"while waiting").await.unwrap()
    });
    match waited.unwrap() {
        Next::Job(job) => assert_eq!(
            (job.id, job.payload),
            (published, b"while waiting".to_vec())
        ),
        other => panic!("the owner waiting got {other:?}"),
    }
}

/// An instrument has one owner until released; the next owner's token is higher.
pub async fn one_owner_at_a_time<Q: RunQueue + ?Sized>(queue: &Q) {
    let b = sym("OWNER");
    queue.publish(&b, b"x").await.unwrap();
    let (w1, w2) = (WorkerId::new("w1"), WorkerId::new("w2"));
    let first = take(queue, &w1, &b).await;
    assert_eq!(queue.acquire(&w2).await.unwrap(), None, "taken twice");
    // Asking again (an answer lost on the way) gives the owner its own lease back.
    assert_eq!(queue.acquire(&w1).await.unwrap(), Some(first.clone()));
    assert!(queue.renew(&first).await.unwrap());
    queue.release(&first).await.unwrap();
    assert!(
        !queue.renew(&first).await.unwrap(),
        "released, still renewed"
    );
    let second = take(queue, &w2, &b).await;
    assert!(second.token > first.token, "{second:?} after {first:?}");
    // The former owner can no longer release it.
    queue.release(&first).await.unwrap();
    assert!(queue.renew(&second).await.unwrap());
}

/// A worker that stops renewing loses the instrument after the lease; the next owner gets the
/// job it had taken first, delivered a second time; the old owner's acknowledgement is refused
/// and it is told the lease is lost.
pub async fn a_dead_owners_job_goes_to_the_next_owner<Q: RunQueue + ?Sized>(queue: &Q) {
    let c = sym("DEAD");
    let first_id = queue.publish(&c, b"one").await.unwrap();
    let second_id = queue.publish(&c, b"two").await.unwrap();
    let (w1, w2) = (WorkerId::new("w1"), WorkerId::new("w2"));
    let dying = take(queue, &w1, &c).await;
    assert_eq!(job(queue, &dying).await.id, first_id);
    assert_eq!(
        queue.acquire(&w2).await.unwrap(),
        None,
        "before the lease ran out"
    );
    tokio::time::sleep(LEASE + Duration::from_millis(150)).await;
    let next = take(queue, &w2, &c).await;
    let again = job(queue, &next).await;
    assert_eq!((&again.id, again.deliveries), (&first_id, 2));
    assert_eq!(again.payload, b"one");
    assert!(
        !queue.ack(&dying, &first_id).await.unwrap(),
        "the old owner acknowledged"
    );
    assert_eq!(queue.next(&dying, WAIT).await.unwrap(), Next::Lost);
    assert!(!queue.renew(&dying).await.unwrap());
    assert!(queue.ack(&next, &again.id).await.unwrap());
    let second = job(queue, &next).await;
    assert_eq!((&second.id, second.deliveries), (&second_id, 1));
    assert!(queue.ack(&next, &second.id).await.unwrap());
    assert_eq!(queue.pending(&c).await.unwrap(), 0);
}

/// A worker whose lease ran out gets no new job, even one published after: the instrument's new
/// owner gets it.
pub async fn an_owner_past_its_lease_gets_no_new_job<Q: RunQueue + ?Sized>(queue: &Q) {
    let x = sym("LATE");
    queue.publish(&x, b"first").await.unwrap();
    let (w1, w2) = (WorkerId::new("w1"), WorkerId::new("w2"));
    let stalled = take(queue, &w1, &x).await;
    let first = job(queue, &stalled).await;
    assert!(queue.ack(&stalled, &first.id).await.unwrap());
    // It stalls past its lease; a job comes; another worker takes the instrument.
    tokio::time::sleep(LEASE + Duration::from_millis(150)).await;
    let second = queue.publish(&x, b"second").await.unwrap();
    let owner = take(queue, &w2, &x).await;
    assert_eq!(queue.next(&stalled, WAIT).await.unwrap(), Next::Lost);
    let got = job(queue, &owner).await;
    assert_eq!((&got.id, got.deliveries), (&second, 1));
    assert!(queue.ack(&owner, &got.id).await.unwrap());
    // A wait is cut to half the lease, so the lease it renewed still holds when it ends.
    let started = tokio::time::Instant::now();
    assert_eq!(
        queue.next(&owner, Duration::from_secs(5)).await.unwrap(),
        Next::Idle
    );
    assert!(started.elapsed() < LEASE, "waited {:?}", started.elapsed());
    assert!(queue.renew(&owner).await.unwrap());
}

/// A worker that gives an instrument back (shutting down) leaves its job to the next owner at
/// once, without waiting for the lease, and the giving back does not count as a delivery.
pub async fn a_released_job_goes_to_the_next_owner<Q: RunQueue + ?Sized>(queue: &Q) {
    let d = sym("RELEASED");
    let id = queue.publish(&d, b"cycle").await.unwrap();
    let (w1, w2) = (WorkerId::new("w1"), WorkerId::new("w2"));
    let leaving = take(queue, &w1, &d).await;
    assert_eq!(job(queue, &leaving).await.id, id);
    queue.release(&leaving).await.unwrap();
    let next = take(queue, &w2, &d).await;
    let again = job(queue, &next).await;
    assert_eq!((&again.id, again.deliveries), (&id, 1));
    assert!(queue.ack(&next, &id).await.unwrap());
}

/// A job delivered more than `max_deliveries` times (its owners died on it) goes to the dead
/// letters; the next job comes.
pub async fn retries_are_capped<Q: RunQueue + ?Sized>(queue: &Q) {
    let e = sym("POISON");
    let poison = queue.publish(&e, b"poison").await.unwrap();
    let fine = queue.publish(&e, b"fine").await.unwrap();
    let worker = WorkerId::new("w1");
    for delivery in 1..=MAX_DELIVERIES {
        let lease = take(queue, &worker, &e).await;
        let job = job(queue, &lease).await;
        assert_eq!((&job.id, job.deliveries), (&poison, delivery));
        // The worker dies on it: the lease runs out.
        tokio::time::sleep(LEASE + Duration::from_millis(150)).await;
    }
    let lease = take(queue, &worker, &e).await;
    let next = job(queue, &lease).await;
    assert_eq!((&next.id, next.deliveries), (&fine, 1));
    let dead = queue.dead_letters(&e).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(queue.dead_letter_count(&e).await.unwrap(), 1);
    assert_eq!(queue.dead_letter_count(&sym("NO-SUCH")).await.unwrap(), 0);
    assert_eq!(dead[0].job.id, poison);
    assert_eq!(dead[0].job.payload, b"poison");
    assert_eq!(dead[0].job.deliveries, MAX_DELIVERIES + 1);
    assert!((now().millis() - dead[0].at.millis()).abs() < 60_000);
    assert!(queue.ack(&lease, &next.id).await.unwrap());
    assert_eq!(queue.pending(&e).await.unwrap(), 0);
}

/// A job set aside (unreadable to this worker) is kept in the dead letters with its payload
/// and not delivered again; the next job comes. A former owner cannot set one aside.
pub async fn a_job_set_aside_is_kept_and_not_delivered_again<Q: RunQueue + ?Sized>(queue: &Q) {
    let e = sym("ASIDE");
    let unreadable = queue.publish(&e, b"format 2").await.unwrap();
    let fine = queue.publish(&e, b"fine").await.unwrap();
    let lease = take(queue, &WorkerId::new("w1"), &e).await;
    let first = job(queue, &lease).await;
    assert_eq!(first.id, unreadable);
    assert!(queue.set_aside(&lease, &first).await.unwrap());
    let next = job(queue, &lease).await;
    assert_eq!(next.id, fine, "the job set aside is not delivered again");
    let dead = queue.dead_letters(&e).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(
        (&dead[0].job.id, dead[0].job.payload.as_slice()),
        (&unreadable, &b"format 2"[..])
    );
    // Its lease run out, the former owner sets nothing aside.
    tokio::time::sleep(LEASE + Duration::from_millis(150)).await;
    let taken = take(queue, &WorkerId::new("w2"), &e).await;
    assert!(!queue.set_aside(&lease, &next).await.unwrap());
    let again = job(queue, &taken).await;
    assert_eq!(again.id, fine);
    assert!(queue.ack(&taken, &again.id).await.unwrap());
    assert_eq!(queue.pending(&e).await.unwrap(), 0);
    assert_eq!(queue.dead_letter_count(&e).await.unwrap(), 1);
}

/// Two instruments with work go to two workers; a third worker finds nothing.
pub async fn instruments_spread_over_workers<Q: RunQueue + ?Sized>(queue: &Q) {
    let (f, g) = (sym("SPREADF"), sym("SPREADG"));
    queue.publish(&f, b"f").await.unwrap();
    queue.publish(&g, b"g").await.unwrap();
    let one = queue.acquire(&WorkerId::new("w1")).await.unwrap().unwrap();
    let two = queue.acquire(&WorkerId::new("w2")).await.unwrap().unwrap();
    let mut held = [one.instrument.clone(), two.instrument.clone()];
    held.sort();
    assert_eq!(held, [f, g]);
    assert_eq!(queue.acquire(&WorkerId::new("w3")).await.unwrap(), None);
}

/// Workers heard from within three of their intervals (by the store's clock) are listed with
/// their load; the others are not.
pub async fn workers_report_their_load<Q: RunQueue + ?Sized>(queue: &Q) {
    let report = |name: &str, beat: Timestamp, done: u64| WorkerInfo {
        id: WorkerId::new(name),
        started: Timestamp::from_millis(beat.millis() - 60_000),
        beat,
        interval_ms: if name == "gone" { 300 } else { 10_000 },
        instruments: vec![sym("BTCUSDT")],
        capacity: 4,
        done,
    };
    let now = now();
    let (a, b) = (report("wa", now, 7), report("wb", now, 9));
    queue.beat(&a).await.unwrap();
    queue.beat(&b).await.unwrap();
    // Reported once with a 300 ms interval: gone after 900 ms, by the store's clock.
    let gone = report("gone", now, 1);
    queue.beat(&gone).await.unwrap();
    let mut all = vec![a.clone(), b.clone(), gone];
    all.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(queue.workers().await.unwrap(), all);
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(queue.workers().await.unwrap(), [a.clone(), b.clone()]);
    // A new report replaces the last.
    let busier = report("wa", now, 8);
    queue.beat(&busier).await.unwrap();
    assert_eq!(queue.workers().await.unwrap(), [busier, b]);
}
