//! Hand-built record sets and zones for the unit tests of the answer rules.

use hickory_proto::rr::rdata::A;
use hickory_proto::rr::{Name, RData, RecordType};

use crate::zone::{IndexedZone, RecordSetEntry, Routing, SetData, ZoneSnapshot};

/// A name the tests spell right.
pub fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("test names are valid")
}

/// An A set of `10.0.0.N` for each N of `last_octets`.
pub fn a_set(owner: &str, routing: Routing, last_octets: &[u8]) -> RecordSetEntry {
    RecordSetEntry {
        name: name(owner),
        record_type: RecordType::A,
        routing,
        data: SetData::Values {
            ttl: 10,
            values: last_octets
                .iter()
                .map(|octet| RData::A(A::new(10, 0, 0, *octet)))
                .collect(),
        },
    }
}

/// An alias at `owner` to `target` in the zone.
pub fn alias(
    owner: &str,
    record_type: RecordType,
    routing: Routing,
    target: &str,
) -> RecordSetEntry {
    RecordSetEntry {
        name: name(owner),
        record_type,
        routing,
        data: SetData::Alias {
            target: name(target),
        },
    }
}

/// The zone `zone.` holding `record_sets`.
pub fn zone(record_sets: Vec<RecordSetEntry>) -> IndexedZone {
    IndexedZone::new(ZoneSnapshot {
        apex: name("zone."),
        record_sets,
    })
}
