//! Labels: how free text from ECS (families, services, containers, docker labels) becomes
//! one valid DNS label, and the pieces of SRV owner names.
//!
//! Every name ecs-srv writes is built from labels made here, and [`dns_label`] can only
//! produce a single label of `[a-z0-9-]`: no input can add a label, escape the zone, or
//! start with the `_` that SRV owner names reserve.

/// Longest DNS label (RFC 1035, 2.3.4).
pub const MAX_LABEL_LEN: usize = 63;
/// Longest domain name in presentation form without the trailing dot.
pub const MAX_NAME_LEN: usize = 253;
/// Longest SetIdentifier Route 53 accepts.
pub const MAX_SET_IDENTIFIER_LEN: usize = 128;

/// Turns any text into one DNS label: lower case ASCII letters, digits and `-`.
///
/// Every other character becomes `-`, runs of `-` collapse, and the label never starts
/// or ends with `-`. A label that would pass 63 characters is cut and given a short hash
/// of the whole input, so two long names that share a prefix stay apart. Input with no
/// letter or digit at all yields `x` plus its hash, never an empty label.
pub fn dns_label(raw: &str) -> String {
    label_within(raw, MAX_LABEL_LEN)
}

/// The `P` of an SRV owner name `_P._tcp...`: a [`dns_label`] one character shorter, so
/// that the leading `_` still fits in 63.
pub fn srv_port_label(raw: &str) -> String {
    label_within(raw, MAX_LABEL_LEN - 1)
}

pub(crate) fn label_within(raw: &str, max_len: usize) -> String {
    let mut label = String::with_capacity(raw.len().min(max_len));
    for ch in raw.chars() {
        let mapped = match ch {
            'a'..='z' | '0'..='9' => ch,
            'A'..='Z' => ch.to_ascii_lowercase(),
            _ => '-',
        };
        if mapped == '-' && (label.is_empty() || label.ends_with('-')) {
            continue;
        }
        label.push(mapped);
    }
    while label.ends_with('-') {
        label.pop();
    }
    if label.is_empty() {
        return format!("x-{:08x}", short_hash(raw));
    }
    if label.len() > max_len {
        let suffix = format!("-{:08x}", short_hash(raw));
        label.truncate(max_len - suffix.len());
        while label.ends_with('-') {
            label.pop();
        }
        label.push_str(&suffix);
    }
    label
}

/// FNV-1a folded to 32 bits: stable across builds and platforms, which std's hasher is
/// not, so a name hashed today matches the same name hashed by next year's binary.
pub fn short_hash(text: &str) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as u32
}

/// The transport label of an SRV owner name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// `_tcp`
    Tcp,
    /// `_udp`
    Udp,
}

impl Transport {
    /// `_tcp` or `_udp`.
    pub fn label(self) -> &'static str {
        match self {
            Transport::Tcp => "_tcp",
            Transport::Udp => "_udp",
        }
    }
}

/// `_P`, `_tcp` or `_udp`, and the rest of an SRV owner name; `None` for other names.
pub fn srv_owner_parts(name: &str) -> Option<(&str, &str, &str)> {
    let mut labels = name.splitn(3, '.');
    let (port, transport, rest) = (labels.next()?, labels.next()?, labels.next()?);
    let is_srv_owner =
        port.len() > 1 && port.starts_with('_') && matches!(transport, "_tcp" | "_udp");
    is_srv_owner.then_some((port, transport, rest))
}
