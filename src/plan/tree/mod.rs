//! Names past Route 53's 100 sets per name and type: trees of weighted aliases, pure.
//!
//! Route 53 holds at most 100 routed record sets per name and type; its documented way
//! past that is a tree of weighted aliases. A shared name `N` (`S.Z`, `_P._tcp.S.Z`, or a
//! whole set `_P._tcp._all.S.Z`) that outgrows one record set becomes a *root*: it holds
//! one weighted alias per *branch* `_bK.N` (K from 0 to 99), and each branch holds up to
//! 100 of the members' own sets (or, for a whole set, one shard), exactly as `N` held them
//! before. A query for `N` draws a branch by the alias weights, then a member of the
//! branch by the members' weights.
//!
//! - [`names`]: the branch names and how to read them back.
//! - [`placement`]: where each task's shared sets go (the flat name or a branch), and the
//!   unit that turns a full name into a tree.
//! - [`fill`]: the one rule for the branch a newcomer joins, shared with whole-set shards.
//! - [`aliases`]: the aliases at a root, derived for every ChangeBatch from the zone.

pub(crate) mod aliases;
pub(crate) mod fill;
pub mod names;
pub(crate) mod placement;
