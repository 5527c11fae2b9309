//! The property over small worlds: one to twelve tasks of up to three services, every
//! setting, every kind of foreign record, every way Route 53 fails. `PROPTEST_CASES` sets
//! the cases (default 32).

/// Any interleaving of a small world's events converges to the documented layout, with
/// no moment unanswered, no resurrection and no collateral damage.
#[test]
fn small_worlds_converge_to_the_documented_layout_with_every_task_answered_throughout() {
    super::run_property(
        "small worlds",
        super::runner(super::cases("PROPTEST_CASES", 32), file!()),
        super::scenario::small_worlds(),
    );
}
