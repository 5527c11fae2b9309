//! Where each task's shared sets go: the flat name, or a branch of its tree (see
//! `tree.rs`), pure.
//!
//! A task keeps the place it holds: a set that changes is replaced where it stands, so a
//! task never moves between branches and its DELETE and CREATE stay one pair. A new member
//! goes to the flat name while that holds fewer than 100 sets; the member that would pass
//! 100 turns the name into a tree: one unit moves every held member into branch `_b0` (the
//! aliases at the root come with it in the same ChangeBatch, so the name answers
//! throughout), and new members then go to the branch with the fewest members that has
//! room, opening a new branch when all are full. A root holds 100 branches at most, so a
//! name holds up to 10,000 members: twice ECS's 5,000 tasks per service. Tasks being
//! withdrawn in the same plan free their places first, so a rolling deploy never needs
//! more room than the tasks that run at once.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::batch::TaskChanges;
use crate::plan::ledger::MAX_WEIGHTED_SETS_PER_NAME;
use crate::plan::naming::{branch_name, branch_of, parse_mark, ZoneNaming, MAX_BRANCHES};
use crate::plan::records::{Change, ForeignPolicy, RecordSet, RecordType, Routing};
use crate::plan::zone::ZoneSnapshot;
use crate::plan::TaskIntent;

type NameKey = (String, RecordType);

/// The intents with every shared set at its place, and the units that turn full names
/// into trees (to be planned before any task).
#[derive(Debug, Default)]
pub struct Placement {
    /// The intents, in the order given, with shared sets renamed to their branch.
    pub intents: Vec<(String, TaskIntent)>,
    /// One unit per name that becomes a tree: its members moved to `_b0`.
    pub conversions: Vec<TaskChanges>,
}

/// What one shared name and type holds, as placement counts it.
#[derive(Debug, Default)]
struct NameState {
    /// Task → the name its set stands at (the root or a branch).
    held: BTreeMap<String, String>,
    /// This deployment's sets at the root itself, by task, of tasks that stay.
    direct: Vec<(String, RecordSet)>,
    /// Routed sets of others at the root.
    foreign: usize,
    /// Members per branch, of tasks that stay, and branches with an alias.
    branches: BTreeMap<usize, usize>,
}

impl NameState {
    fn read(view: &ZoneSnapshot, key: &NameKey, leaving: &BTreeSet<&str>) -> Self {
        let (root, record_type) = key;
        let mut state = NameState::default();
        for alias in view.branches.get(key).into_iter().flatten() {
            if let Some((_, branch)) = alias.alias.as_deref().and_then(branch_of) {
                state.branches.entry(branch).or_default();
            }
        }
        for (task_id, sets) in &view.owned {
            for set in sets.iter().filter(|set| set.record_type == *record_type) {
                let stays = !leaving.contains(task_id.as_str());
                if set.name == *root {
                    state.held.insert(task_id.clone(), set.name.clone());
                    if stays {
                        state.direct.push((task_id.clone(), set.clone()));
                    }
                } else if let Some((_, branch)) = branch_of(&set.name).filter(|(r, _)| r == root) {
                    state.held.insert(task_id.clone(), set.name.clone());
                    *state.branches.entry(branch).or_default() += usize::from(stays);
                }
            }
        }
        state.foreign = view
            .foreign
            .iter()
            .filter(|record| {
                record.name == *root
                    && record.known_type() == Some(*record_type)
                    && matches!(
                        record.policy,
                        ForeignPolicy::Weighted | ForeignPolicy::Multivalue
                    )
            })
            .count();
        state
    }

    fn is_tree(&self) -> bool {
        !self.branches.is_empty()
    }

    /// The branch a new member joins: the one with the fewest members that has room, which
    /// keeps branches even, or else a new one at the lowest free index.
    fn branch_for_newcomer(&mut self) -> Option<usize> {
        let roomy = self
            .branches
            .iter()
            .filter(|(_, members)| **members < MAX_WEIGHTED_SETS_PER_NAME)
            .min_by_key(|(branch, members)| (**members, **branch))
            .map(|(branch, _)| *branch);
        let branch =
            roomy.or_else(|| (0..MAX_BRANCHES).find(|b| !self.branches.contains_key(b)))?;
        *self.branches.entry(branch).or_default() += 1;
        Some(branch)
    }
}

/// Places every publish intent's shared routed sets; see the module docs.
pub fn place_tasks(
    intents: &[(String, TaskIntent)],
    view: &ZoneSnapshot,
    naming: &ZoneNaming,
) -> Placement {
    let leaving: BTreeSet<&str> = intents
        .iter()
        .filter(|(_, intent)| matches!(intent, TaskIntent::Withdraw))
        .map(|(task_id, _)| task_id.as_str())
        .collect();
    // Every shared name a publish intent writes, with its newcomers in intent order.
    let mut names: BTreeMap<NameKey, Vec<&str>> = BTreeMap::new();
    for (task_id, intent) in intents {
        let TaskIntent::Publish(sets) = intent else {
            continue;
        };
        for set in sets.iter().filter(|set| is_shared_routed(set)) {
            let newcomers = names
                .entry((set.name.clone(), set.record_type))
                .or_default();
            if !newcomers.contains(&task_id.as_str()) {
                newcomers.push(task_id);
            }
        }
    }
    let mut placement = Placement::default();
    // Task and shared name → where its set goes, when that is not the name itself.
    let mut places: BTreeMap<(String, NameKey), String> = BTreeMap::new();
    for (key, tasks) in names {
        let mut state = NameState::read(view, &key, &leaving);
        let newcomers: Vec<&str> = tasks
            .into_iter()
            .filter(|task| !state.held.contains_key(*task))
            .collect();
        let flat_need = state.direct.len() + state.foreign + newcomers.len();
        if !state.is_tree() && (flat_need <= MAX_WEIGHTED_SETS_PER_NAME || state.foreign > 0) {
            // It fits, or somebody else's sets share the name and it cannot become a tree
            // (the ledger then refuses what does not fit, naming the full name).
            for (task, name) in &state.held {
                places.insert((task.clone(), key.clone()), name.clone());
            }
            continue;
        }
        if !state.is_tree() {
            let unit = convert(&key, &state.direct, naming);
            for (task, _) in &state.direct {
                state.held.insert(task.clone(), branch_name(&key.0, 0));
            }
            state.branches.insert(0, state.direct.len());
            placement.conversions.push(unit);
        }
        for (task, name) in &state.held {
            places.insert((task.clone(), key.clone()), name.clone());
        }
        for task in newcomers {
            if let Some(branch) = state.branch_for_newcomer() {
                places.insert((task.to_owned(), key.clone()), branch_name(&key.0, branch));
            }
        }
    }
    placement.intents = intents
        .iter()
        .map(|(task_id, intent)| {
            let placed = match intent {
                TaskIntent::Withdraw => TaskIntent::Withdraw,
                TaskIntent::Publish(sets) => {
                    let mut sets: Vec<RecordSet> = sets
                        .iter()
                        .map(|set| {
                            let key = (task_id.clone(), (set.name.clone(), set.record_type));
                            match places.get(&key) {
                                Some(name) if *name != set.name && is_shared_routed(set) => {
                                    naming.moved(set, name)
                                }
                                _ => set.clone(),
                            }
                        })
                        .collect();
                    sets.sort();
                    TaskIntent::Publish(sets)
                }
            };
            (task_id.clone(), placed)
        })
        .collect();
    placement
}

/// The unit that turns a full name into a tree: each member's set deleted at the root and
/// created, the same but for its mark's hash, in branch `_b0`.
fn convert(key: &NameKey, direct: &[(String, RecordSet)], naming: &ZoneNaming) -> TaskChanges {
    let branch = branch_name(&key.0, 0);
    let mut changes: Vec<Change> = direct
        .iter()
        .map(|(_, set)| Change::Delete(set.clone()))
        .collect();
    changes.extend(
        direct
            .iter()
            .map(|(_, set)| Change::Create(naming.moved(set, &branch))),
    );
    TaskChanges {
        task_id: format!("tree {} {}", key.0, key.1),
        changes,
    }
}

/// Whether a wanted set stands at a name the tasks of a service (or of a one-off family)
/// share, with routing: the sets a tree can hold.
fn is_shared_routed(set: &RecordSet) -> bool {
    set.routing != Routing::Simple
        && set.alias.is_none()
        && set
            .routing
            .set_identifier()
            .and_then(parse_mark)
            .is_some_and(|mark| mark.role.is_shared_name())
}
