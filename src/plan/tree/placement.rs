//! Where each task's shared sets go: the flat name, or a branch of its tree, pure.
//!
//! A task keeps the place it holds: a set that changes is replaced where it stands, so a
//! task never moves between branches and its DELETE and CREATE stay one pair. A new member
//! goes to the flat name while that holds fewer than 100 sets; the member that would pass
//! 100 turns the name into a tree: one unit moves every held member into branch `_b0` (the
//! aliases at the root come with it in the same ChangeBatch, so the name answers
//! throughout), and new members then go where [`fill`](super::fill) says. A root holds 100
//! branches at most, so a name holds up to 10,000 members: twice ECS's 5,000 tasks per
//! service. Tasks being withdrawn in the same plan free their places first, so a rolling
//! deploy never needs more room than the tasks that run at once.

use std::collections::{BTreeMap, BTreeSet};

use crate::plan::intent::TaskIntent;
use crate::plan::ledger::MAX_ROUTED_SETS_PER_NAME;
use crate::plan::naming::marks::rehashed;
use crate::plan::records::{Change, ForeignPolicy, NameKey, RecordSet, Routing};
use crate::plan::tree::fill::branch_for;
use crate::plan::tree::names::{branch_name, branch_of};
use crate::plan::unit::{Unit, UnitKind};
use crate::plan::zone::ZoneSnapshot;

/// The intents with every shared set at its place, and the units that turn full names
/// into trees (to be planned before any task).
#[derive(Debug, Default)]
pub struct Placement {
    /// The intents, in the order given, with shared sets renamed to their branch.
    pub intents: Vec<(String, TaskIntent)>,
    /// One unit per name that becomes a tree: its members moved to `_b0`.
    pub conversions: Vec<Unit>,
}

/// What one shared name and type holds, as placement counts it.
#[derive(Debug, Default)]
struct NameState {
    /// Task → the name its set stands at (the root or a branch).
    held: BTreeMap<String, String>,
    /// This deployment's sets at the root itself, by task, of tasks that stay.
    direct: Vec<RecordSet>,
    /// Routed sets of others at the root.
    foreign: usize,
    /// Members per branch, of tasks that stay, and branches with an alias.
    branches: BTreeMap<usize, usize>,
}

impl NameState {
    fn read(view: &ZoneSnapshot, key: &NameKey, leaving: &BTreeSet<&str>) -> Self {
        let mut state = NameState::default();
        for alias in view.branches.get(key).into_iter().flatten() {
            if let Some((_, branch)) = alias.alias.as_deref().and_then(branch_of) {
                state.branches.entry(branch).or_default();
            }
        }
        for (task_id, sets) in &view.owned {
            let stays = !leaving.contains(task_id.as_str());
            for set in sets.iter().filter(|set| set.record_type == key.record_type) {
                if set.name == key.name {
                    state.held.insert(task_id.clone(), set.name.clone());
                    if stays {
                        state.direct.push(set.clone());
                    }
                } else if let Some((_, branch)) =
                    branch_of(&set.name).filter(|(r, _)| *r == key.name)
                {
                    state.held.insert(task_id.clone(), set.name.clone());
                    *state.branches.entry(branch).or_default() += usize::from(stays);
                }
            }
        }
        state.foreign = view
            .foreign
            .iter()
            .filter(|record| {
                record.name == key.name
                    && record.known_type() == Some(key.record_type)
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

    /// Whether the name stays flat: it fits, or somebody else's sets share it and it cannot
    /// become a tree (the ledger then refuses what does not fit, naming the full name).
    fn stays_flat(&self, newcomers: usize) -> bool {
        let flat_need = self.direct.len() + self.foreign + newcomers;
        !self.is_tree() && (flat_need <= MAX_ROUTED_SETS_PER_NAME || self.foreign > 0)
    }

    /// Claims a place for a newcomer; see [`branch_for`].
    fn branch_for_newcomer(&mut self) -> Option<usize> {
        let branch = branch_for(&self.branches, |n| *n, |n| *n < MAX_ROUTED_SETS_PER_NAME)?;
        *self.branches.entry(branch).or_default() += 1;
        Some(branch)
    }
}

/// Where each task's shared set of each name goes, when that is not the name itself.
type Places = BTreeMap<(String, NameKey), String>;

/// Places every publish intent's shared routed sets; see the module docs.
pub fn place_tasks(intents: &[(String, TaskIntent)], view: &ZoneSnapshot) -> Placement {
    let leaving: BTreeSet<&str> = intents
        .iter()
        .filter(|(_, intent)| matches!(intent, TaskIntent::Withdraw))
        .map(|(task_id, _)| task_id.as_str())
        .collect();
    let mut placement = Placement::default();
    let mut places = Places::new();
    for (key, tasks) in shared_names(intents) {
        let state = NameState::read(view, &key, &leaving);
        if let Some(unit) = place_name(&key, tasks, state, &mut places) {
            placement.conversions.push(unit);
        }
    }
    placement.intents = intents
        .iter()
        .map(|(task_id, intent)| (task_id.clone(), placed(task_id, intent, &places)))
        .collect();
    placement
}

/// Every shared name a publish intent writes, with its tasks in intent order.
fn shared_names(intents: &[(String, TaskIntent)]) -> BTreeMap<NameKey, Vec<&str>> {
    let mut names: BTreeMap<NameKey, Vec<&str>> = BTreeMap::new();
    for (task_id, intent) in intents {
        for set in intent.wanted().iter().filter(|set| is_shared_routed(set)) {
            let tasks = names.entry(set.name_key()).or_default();
            if !tasks.contains(&task_id.as_str()) {
                tasks.push(task_id);
            }
        }
    }
    names
}

/// Places one name's tasks; returns the unit that turns the name into a tree, if it must.
fn place_name(
    key: &NameKey,
    tasks: Vec<&str>,
    mut state: NameState,
    places: &mut Places,
) -> Option<Unit> {
    let newcomers: Vec<&str> = tasks
        .into_iter()
        .filter(|task| !state.held.contains_key(*task))
        .collect();
    let mut conversion = None;
    if !state.stays_flat(newcomers.len()) && !state.is_tree() {
        let branch = branch_name(&key.name, 0);
        for set in &state.direct {
            if let Some(task) = set.mark().and_then(|mark| mark.task_id()) {
                state.held.insert(task.to_owned(), branch.clone());
            }
        }
        state.branches.insert(0, state.direct.len());
        conversion = Some(convert(key, &state.direct));
    }
    for (task, name) in &state.held {
        places.insert((task.clone(), key.clone()), name.clone());
    }
    if state.is_tree() {
        for task in newcomers {
            if let Some(branch) = state.branch_for_newcomer() {
                places.insert(
                    (task.to_owned(), key.clone()),
                    branch_name(&key.name, branch),
                );
            }
        }
    }
    conversion
}

/// A task's intent with each shared set at its place.
fn placed(task_id: &str, intent: &TaskIntent, places: &Places) -> TaskIntent {
    let TaskIntent::Publish(sets) = intent else {
        return TaskIntent::Withdraw;
    };
    let mut sets: Vec<RecordSet> = sets
        .iter()
        .map(
            |set| match places.get(&(task_id.to_owned(), set.name_key())) {
                Some(name) if *name != set.name && is_shared_routed(set) => moved(set, name),
                _ => set.clone(),
            },
        )
        .collect();
    sets.sort();
    TaskIntent::Publish(sets)
}

/// The unit that turns a full name into a tree: each member's set deleted at the root and
/// created, the same but for its mark's hash, in branch `_b0`.
fn convert(key: &NameKey, direct: &[RecordSet]) -> Unit {
    let branch = branch_name(&key.name, 0);
    let mut changes: Vec<Change> = direct.iter().cloned().map(Change::Delete).collect();
    changes.extend(direct.iter().map(|set| Change::Create(moved(set, &branch))));
    Unit {
        kind: UnitKind::TreeConversion(key.clone()),
        changes,
    }
}

/// The same task set at another name of its tree (a root or one of its branches), its
/// mark's hash made for the new name.
fn moved(set: &RecordSet, name: &str) -> RecordSet {
    let rename = |id: &String| rehashed(id, name, set.record_type);
    let routing = match &set.routing {
        Routing::Weighted {
            set_identifier,
            weight,
        } => Routing::Weighted {
            set_identifier: rename(set_identifier),
            weight: *weight,
        },
        Routing::Multivalue { set_identifier } => Routing::Multivalue {
            set_identifier: rename(set_identifier),
        },
        other => other.clone(),
    };
    RecordSet {
        name: name.to_owned(),
        routing,
        ..set.clone()
    }
}

/// Whether a wanted set stands at a name the tasks of a service (or of a one-off family)
/// share, with routing: the sets a tree can hold.
fn is_shared_routed(set: &RecordSet) -> bool {
    set.routing.is_routed()
        && set.alias.is_none()
        && set
            .mark()
            .and_then(|mark| mark.role())
            .is_some_and(|role| role.is_shared_name())
}
