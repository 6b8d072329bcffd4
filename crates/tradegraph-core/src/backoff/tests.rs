use super::*;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn delays_grow_then_cap() {
    let b = Backoff::new(ms(100), Duration::from_secs(1));
    assert_eq!(b.ceiling(1), ms(100));
    assert_eq!(b.ceiling(3), ms(400));
    assert_eq!(b.ceiling(50), Duration::from_secs(1));
    for attempt in 1..10 {
        assert!(b.delay(attempt) <= b.ceiling(attempt));
    }
}

#[test]
fn without_jitter_the_delay_is_the_ceiling() {
    let b = Backoff::new(ms(100), ms(350)).with_jitter(Jitter::None);
    let delays: Vec<_> = (1..6).map(|a| b.delay(a)).collect();
    assert_eq!(delays, [100, 200, 350, 350, 350].map(ms).to_vec());
}

#[test]
fn attempt_zero_counts_as_the_first() {
    let b = Backoff::new(ms(80), ms(1000));
    assert_eq!(b.ceiling(0), ms(80));
}

#[test]
fn a_fractional_multiplier_grows_slowly() {
    let b = Backoff::new(ms(100), ms(1000))
        .with_multiplier(1.5)
        .with_jitter(Jitter::None);
    assert_eq!(b.delay(2), ms(150));
    assert_eq!(b.delay(3), ms(225));
}

#[test]
fn a_bad_multiplier_becomes_a_constant_delay() {
    for bad in [0.5, -2.0, f64::NAN, f64::INFINITY] {
        let b = Backoff::new(ms(100), ms(1000)).with_multiplier(bad);
        assert_eq!(b.multiplier(), 1.0, "{bad}");
        assert_eq!(b.ceiling(7), ms(100), "{bad}");
        assert_eq!(b, b, "equality must stay reflexive");
    }
}

#[test]
fn full_jitter_spreads_and_repeats_with_a_seed() {
    let b = Backoff::new(ms(80), ms(1000));
    let draws: Vec<_> = (0..50)
        .map(|_| b.delay_with(2, &mut StdRng::seed_from_u64(7)))
        .collect();
    assert!(
        draws.iter().all(|d| *d == draws[0]),
        "same seed, same delay"
    );
    let mut rng = StdRng::seed_from_u64(1);
    let spread: Vec<_> = (0..200).map(|_| b.delay_with(2, &mut rng)).collect();
    assert!(spread.iter().all(|d| *d <= ms(160)));
    assert!(
        spread.iter().any(|d| *d < ms(80)),
        "draws cover the lower half"
    );
    assert!(
        spread.iter().any(|d| *d > ms(80)),
        "draws cover the upper half"
    );
}

#[test]
fn the_default_is_the_feeds_schedule() {
    let b = Backoff::default();
    assert_eq!((b.initial(), b.max()), (ms(500), Duration::from_secs(30)));
    assert_eq!((b.multiplier(), b.jitter()), (2.0, Jitter::Full));
}

proptest! {
    #[test]
    fn ceilings_never_exceed_max_nor_shrink(
        initial in 0u64..100_000,
        max in 0u64..1_000_000,
        multiplier in 1.0f64..10.0,
        attempt in 1u32..200,
    ) {
        let b = Backoff::new(ms(initial), ms(max)).with_multiplier(multiplier);
        prop_assert!(b.ceiling(attempt) <= ms(max));
        prop_assert!(b.ceiling(attempt) <= b.ceiling(attempt + 1));
        prop_assert!(b.delay(attempt) <= b.ceiling(attempt));
    }
}

#[test]
fn attempts_count_up_cap_their_delay_and_start_again_when_healthy() {
    let mut attempts = Attempts::new(Backoff::new(ms(100), ms(350)));
    assert_eq!(attempts.count(), 0);
    let counted: Vec<u32> = (0..4)
        .map(|_| {
            let (attempt, delay) = attempts.failed();
            assert!(delay <= attempts.backoff().ceiling(attempt), "{delay:?}");
            attempt
        })
        .collect();
    assert_eq!(counted, [1, 2, 3, 4]);
    assert_eq!(attempts.count(), 4);
    attempts.healthy();
    assert_eq!(attempts.count(), 0);
    let exact = Attempts::new(Backoff::new(ms(100), ms(350)).with_jitter(Jitter::None));
    let mut exact_after_health = exact;
    assert_eq!(exact_after_health.failed(), (1, ms(100)));
    assert_eq!(exact_after_health.failed(), (2, ms(200)));
    exact_after_health.healthy();
    assert_eq!(exact_after_health.failed(), (1, ms(100)));
}
