//! Choosing one target per connection, as RFC 2782 describes.
//!
//! The lowest priority among the usable targets wins; within it, a target is chosen at random in
//! proportion to its weight. Weight 0 is not "never": the RFC gives such targets a very small
//! chance, which here is `1 / (sum of weights + 1)` shared among them. The random source is a
//! parameter so that tests can fix the seed and assert exact counts instead of flaky statistics.

use rand::Rng;

use crate::resolve::SrvTarget;

/// Picks a target among those for which `usable` is true, or `None` when none is usable.
///
/// `usable` is how the caller leaves out ejected targets and the ones already tried for this
/// connection, which is what makes a higher priority come into play only when every target of
/// the lower one is failing.
///
/// It works on anything that holds an [`SrvTarget`], so that the proxy can pick among the
/// targets of an answer together with their per-target state, without copying them out.
pub fn pick_target<'a, T, R>(
    targets: &'a [T],
    usable: impl Fn(&T) -> bool,
    rng: &mut R,
) -> Option<&'a T>
where
    T: AsRef<SrvTarget>,
    R: Rng + ?Sized,
{
    let best_priority = targets
        .iter()
        .filter(|t| usable(t))
        .map(|t| t.as_ref().priority)
        .min()?;
    let usable = &usable;
    let in_tier = || {
        targets
            .iter()
            .filter(move |t| t.as_ref().priority == best_priority && usable(t))
    };
    let weight = |t: &T| t.as_ref().weight;
    let total_weight: u64 = in_tier().map(|t| u64::from(weight(t))).sum();
    let zero_weight_count = in_tier().filter(|t| weight(t) == 0).count();

    if total_weight == 0 {
        // Every target has weight 0: the RFC's small chance becomes an even chance.
        let index = rng.random_range(0..zero_weight_count);
        return in_tier().nth(index);
    }
    let lowest_draw = if zero_weight_count > 0 { 0 } else { 1 };
    let draw = rng.random_range(lowest_draw..=total_weight);
    if draw == 0 {
        let index = rng.random_range(0..zero_weight_count);
        return in_tier().filter(|t| weight(t) == 0).nth(index);
    }
    let mut running_sum = 0u64;
    in_tier().filter(|t| weight(t) > 0).find(|t| {
        running_sum += u64::from(weight(t));
        running_sum >= draw
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    fn target(port: u16, priority: u16, weight: u16) -> SrvTarget {
        SrvTarget {
            host: format!("t{port}.example.").into(),
            addr: ([127, 0, 0, 1], port).into(),
            priority,
            weight,
        }
    }

    fn counts(targets: &[SrvTarget], draws: usize, seed: u64) -> Vec<usize> {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut counts = vec![0; targets.len()];
        for _ in 0..draws {
            let chosen = pick_target(targets, |_| true, &mut rng).expect("a usable target");
            let index = targets
                .iter()
                .position(|t| t == chosen)
                .expect("from the list");
            counts[index] += 1;
        }
        counts
    }

    #[test]
    fn distribution_follows_the_weights() {
        let targets = [target(1, 10, 1), target(2, 10, 3), target(3, 10, 6)];
        let counts = counts(&targets, 10_000, 7);
        // Fixed seed: deterministic, and still a fair check that shares are near 10/30/60 %.
        assert!((800..1200).contains(&counts[0]), "{counts:?}");
        assert!((2700..3300).contains(&counts[1]), "{counts:?}");
        assert!((5600..6400).contains(&counts[2]), "{counts:?}");
    }

    #[test]
    fn weight_zero_gets_a_small_but_real_chance() {
        let targets = [target(1, 0, 0), target(2, 0, 99)];
        let counts = counts(&targets, 10_000, 11);
        assert!(counts[0] > 0 && counts[0] < 300, "{counts:?}");
    }

    #[test]
    fn all_zero_weights_share_evenly() {
        let targets = [target(1, 0, 0), target(2, 0, 0)];
        let counts = counts(&targets, 2_000, 3);
        assert!(counts[0] > 800 && counts[1] > 800, "{counts:?}");
    }

    #[test]
    fn lowest_priority_wins_until_it_is_unusable() {
        let targets = [target(1, 20, 5), target(2, 10, 1), target(3, 10, 1)];
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let chosen = pick_target(&targets, |_| true, &mut rng).expect("usable");
            assert_eq!(chosen.priority, 10);
        }
        let fallback = pick_target(&targets, |t| t.priority != 10, &mut rng).expect("usable");
        assert_eq!(fallback.addr.port(), 1);
        assert!(pick_target(&targets, |_| false, &mut rng).is_none());
    }
}
