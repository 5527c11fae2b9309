//! Tree names: the branches `_bK.N` that hold a shared name's members once it passes
//! Route 53's 100 sets per name and type (see [`super`]).

use crate::plan::naming::labels::srv_owner_parts;

/// The first characters of a branch label: `_b0` … `_b99`.
const BRANCH_PREFIX: &str = "_b";
/// Branches one root may have: the root holds one weighted alias per branch, and Route 53
/// allows 100 weighted sets per name and type.
pub const MAX_BRANCHES: usize = 100;

/// `N` → `_bINDEX.N`: a branch of the tree at a shared name. The `_` keeps it apart from
/// every task, service and port label ([`dns_label`](crate::plan::naming::dns_label) never yields one), and the branch sits
/// under `N`, so it is read with the service's subtree.
pub fn branch_name(root: &str, index: usize) -> String {
    format!("{BRANCH_PREFIX}{index}.{root}")
}

/// `_bINDEX.N` → `(N, INDEX)`, when the name is a branch of a shared name (a service name
/// `S.Z` or an SRV owner `_P._tcp….`); `None` for every other name, such as the SRV owner
/// of a port labelled `b3` (`_b3._tcp.S.Z`).
pub fn branch_of(name: &str) -> Option<(&str, usize)> {
    let (label, root) = name.split_once('.')?;
    let digits = label.strip_prefix(BRANCH_PREFIX)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    let index: usize = digits.parse().ok().filter(|_| canonical)?;
    let shared_root = !root.starts_with('_') || srv_owner_parts(root).is_some();
    (index < MAX_BRANCHES && shared_root && root.contains('.')).then_some((root, index))
}

/// The shared name a set stands for: the root of a branch, or the name itself.
pub fn tree_root(name: &str) -> &str {
    branch_of(name).map_or(name, |(root, _)| root)
}
