//! The one rule for where a newcomer goes in a tree, shared by the placement of tasks'
//! sets and the shards of whole SRV sets: the branch with the fewest members that has
//! room (which keeps branches even), or else a new branch at the lowest free index.

use std::collections::BTreeMap;

use crate::plan::tree::names::MAX_BRANCHES;

/// The branch a newcomer joins among `branches` (index → its members), by `size` and
/// `has_room`; `None` when every one of the [`MAX_BRANCHES`] is full.
pub fn branch_for<M>(
    branches: &BTreeMap<usize, M>,
    size: impl Fn(&M) -> usize,
    has_room: impl Fn(&M) -> bool,
) -> Option<usize> {
    branches
        .iter()
        .filter(|(_, members)| has_room(members))
        .min_by_key(|(index, members)| (size(members), **index))
        .map(|(index, _)| *index)
        .or_else(|| (0..MAX_BRANCHES).find(|index| !branches.contains_key(index)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_emptiest_branch_with_room_then_the_lowest_free_index() {
        let counts = BTreeMap::from([(0, 100usize), (1, 40), (3, 40)]);
        let pick = |counts: &BTreeMap<usize, usize>| branch_for(counts, |n| *n, |n| *n < 100);
        assert_eq!(
            pick(&counts),
            Some(1),
            "fewest members, lowest index on a tie"
        );
        let full = BTreeMap::from([(0, 100usize), (1, 100)]);
        assert_eq!(pick(&full), Some(2), "a new branch when all are full");
        let all: BTreeMap<usize, usize> = (0..MAX_BRANCHES).map(|b| (b, 100)).collect();
        assert_eq!(pick(&all), None, "no branch past the last");
    }
}
