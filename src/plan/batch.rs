//! Packs the changes of many units into as few Route 53 ChangeBatches as the limits allow.
//!
//! Route 53 takes about ten requests per second per account, for every caller together,
//! so one batch per invocation is the goal. A unit's changes stay in one batch whenever they
//! fit, so that a task is either fully updated or not at all; only a unit too large for any
//! batch is split, and then a DELETE and the CREATE that replaces it still travel together.

use crate::plan::records::Change;
use crate::plan::unit::{Unit, UnitKind};

/// The limits of one ChangeBatch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchLimits {
    /// Changes per batch. Route 53 has no cap of its own on changes any more (the 100 of
    /// the 2012 API guide is gone); every change holds at least one value, so the value
    /// limit bounds them anyway.
    pub changes: usize,
    /// ResourceRecord values per batch (Route 53: 1,000).
    pub values: usize,
    /// Characters of value text per batch (Route 53: 32,000).
    pub value_chars: usize,
}

impl BatchLimits {
    /// Route 53's published limits.
    pub const ROUTE53: BatchLimits = BatchLimits {
        changes: 1_000,
        values: 1_000,
        value_chars: 32_000,
    };
}

/// A ChangeBatch ready to send, and the units it serves.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ChangeBatch {
    /// Units with changes in this batch, in order, without repeats.
    pub units: Vec<UnitKind>,
    /// The changes, in the order Route 53 must apply them.
    pub changes: Vec<Change>,
}

impl ChangeBatch {
    /// The tasks among the batch's units.
    pub fn task_ids(&self) -> Vec<String> {
        self.units
            .iter()
            .filter_map(UnitKind::task_id)
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    changes: usize,
    values: usize,
    value_chars: usize,
}

impl Usage {
    fn of(changes: &[Change]) -> Usage {
        changes.iter().fold(Usage::default(), |total, change| {
            let set = change.record_set();
            Usage {
                changes: total.changes + 1,
                values: total.values + set.values.len(),
                value_chars: total.value_chars + set.value_chars(),
            }
        })
    }

    fn plus(self, other: Usage) -> Usage {
        Usage {
            changes: self.changes + other.changes,
            values: self.values + other.values,
            value_chars: self.value_chars + other.value_chars,
        }
    }

    fn fits(self, limits: BatchLimits) -> bool {
        self.changes <= limits.changes
            && self.values <= limits.values
            && self.value_chars <= limits.value_chars
    }
}

/// A change that cannot fit in any batch on its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{unit}: the change to {record} alone exceeds a Route 53 ChangeBatch's limits")]
pub struct OversizedChange {
    /// The unit it belongs to.
    pub unit: UnitKind,
    /// The record set's name and type.
    pub record: String,
}

/// Batches ready to send, and the tasks that cannot be sent at all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packed {
    /// The batches, in task order.
    pub batches: Vec<ChangeBatch>,
    /// Units with a change too large for any batch; nothing of them is in `batches`.
    pub oversized: Vec<OversizedChange>,
}

/// Packs units into batches, in order, each within `limits`. A unit with a change that
/// fits no batch is left out whole and reported, so it never blocks the others.
pub fn pack_batches(units: &[Unit], limits: BatchLimits) -> Packed {
    let mut packed = Packed::default();
    let mut current = ChangeBatch::default();
    let mut used = Usage::default();
    for unit in units.iter().filter(|unit| !unit.changes.is_empty()) {
        let whole = Usage::of(&unit.changes);
        let pieces: Vec<&[Change]> = if whole.fits(limits) {
            vec![unit.changes.as_slice()]
        } else {
            replacement_pieces(&unit.changes)
        };
        if let Some(piece) = pieces.iter().find(|piece| !Usage::of(piece).fits(limits)) {
            let set = piece[0].record_set();
            packed.oversized.push(OversizedChange {
                unit: unit.kind.clone(),
                record: format!("{} {}", set.name, set.record_type),
            });
            continue;
        }
        for piece in pieces {
            let need = Usage::of(piece);
            if !used.plus(need).fits(limits) {
                packed.batches.push(std::mem::take(&mut current));
                used = Usage::default();
            }
            if current.units.last() != Some(&unit.kind) {
                current.units.push(unit.kind.clone());
            }
            current.changes.extend_from_slice(piece);
            used = used.plus(need);
        }
    }
    if !current.changes.is_empty() {
        packed.batches.push(current);
    }
    packed
}

/// Splits a unit's changes into the smallest pieces that may go separately: a DELETE
/// directly followed by the CREATE of the same set is one piece (the planner emits them
/// adjacent), every other change its own.
fn replacement_pieces(changes: &[Change]) -> Vec<&[Change]> {
    let mut pieces = Vec::new();
    let mut start = 0;
    while start < changes.len() {
        let replaced_next = match (&changes[start], changes.get(start + 1)) {
            (Change::Delete(old), Some(Change::Create(new))) => old.key() == new.key(),
            _ => false,
        };
        let end = if replaced_next { start + 2 } else { start + 1 };
        pieces.push(&changes[start..end]);
        start = end;
    }
    pieces
}
