//! The property over large services: one service of 90 to 300 tasks (trees at its names,
//! shards of its whole sets) beside a small one. `LARGE_PROPTEST_CASES` sets the cases
//! (default 2).

/// A large service's events, in any interleaving, converge to the documented layout of
/// trees and shards, with no moment unanswered.
#[test]
fn large_services_converge_to_documented_trees_and_shards_with_every_task_answered_throughout() {
    super::run_property(
        "large services",
        super::runner(super::cases("LARGE_PROPTEST_CASES", 2), file!()),
        super::scenario::large_services(),
    );
}
