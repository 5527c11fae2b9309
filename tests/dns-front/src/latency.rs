//! Which latency set answers a query: the asking VPC's own region's, else the closest
//! region's that has one.
//!
//! Route 53's developer guide, "Latency-based routing in private hosted zones": "For
//! private hosted zones, Route 53 answers DNS queries with an endpoint that is in the same
//! AWS Region, or is closest in distance to the AWS Region of the VPC that the query
//! originated from." Distance here is the great-circle distance between the cities the
//! regions are in, from the small table below (rounded coordinates are plenty to order
//! regions). A region the table does not know is taken as farther than every known one;
//! ties, and a choice among regions none of which is known, go to the region first by name,
//! so the answer never depends on the order the zone was listed in.

/// Approximate location (latitude, longitude in degrees) of each region's city.
const REGIONS: &[(&str, f64, f64)] = &[
    ("af-south-1", -33.9, 18.4),
    ("ap-east-1", 22.3, 114.2),
    ("ap-northeast-1", 35.7, 139.7),
    ("ap-northeast-2", 37.6, 127.0),
    ("ap-northeast-3", 34.7, 135.5),
    ("ap-south-1", 19.1, 72.9),
    ("ap-south-2", 17.4, 78.5),
    ("ap-southeast-1", 1.35, 103.8),
    ("ap-southeast-2", -33.9, 151.2),
    ("ap-southeast-3", -6.2, 106.8),
    ("ap-southeast-4", -37.8, 145.0),
    ("ap-southeast-5", 3.1, 101.7),
    ("ap-southeast-7", 13.75, 100.5),
    ("ca-central-1", 45.5, -73.6),
    ("ca-west-1", 51.0, -114.1),
    ("cn-north-1", 39.9, 116.4),
    ("cn-northwest-1", 38.5, 106.3),
    ("eu-central-1", 50.1, 8.7),
    ("eu-central-2", 47.4, 8.5),
    ("eu-north-1", 59.3, 18.1),
    ("eu-south-1", 45.5, 9.2),
    ("eu-south-2", 41.6, -0.9),
    ("eu-west-1", 53.3, -6.3),
    ("eu-west-2", 51.5, -0.1),
    ("eu-west-3", 48.9, 2.3),
    ("il-central-1", 32.1, 34.8),
    ("me-central-1", 24.5, 54.4),
    ("me-south-1", 26.1, 50.6),
    ("mx-central-1", 20.6, -100.4),
    ("sa-east-1", -23.5, -46.6),
    ("us-east-1", 38.9, -77.4),
    ("us-east-2", 40.0, -83.0),
    ("us-gov-east-1", 40.0, -83.0),
    ("us-gov-west-1", 45.8, -119.7),
    ("us-west-1", 37.4, -121.9),
    ("us-west-2", 45.8, -119.7),
];

/// Mean Earth radius, km.
const EARTH_RADIUS_KM: f64 = 6_371.0;

fn location(region: &str) -> Option<(f64, f64)> {
    REGIONS
        .iter()
        .find(|(name, _, _)| *name == region)
        .map(|(_, lat, lon)| (*lat, *lon))
}

/// Great-circle distance between two regions in km; `None` when either is unknown.
pub fn distance_km(from: &str, to: &str) -> Option<f64> {
    let ((lat1, lon1), (lat2, lon2)) = (location(from)?, location(to)?);
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let (dphi, dlambda) = ((lat2 - lat1).to_radians(), (lon2 - lon1).to_radians());
    let a = (dphi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (dlambda / 2.0).sin().powi(2);
    Some(2.0 * EARTH_RADIUS_KM * a.sqrt().asin())
}

/// The region among `available` that answers a query from `asking`: the same region when
/// it is there, else the closest, else (nothing known) the first by name.
pub fn closest<'a>(asking: &str, available: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let rank = |region: &'a str| {
        let distance = if region == asking {
            -1.0
        } else {
            distance_km(asking, region).unwrap_or(f64::INFINITY)
        };
        (distance, region)
    };
    available
        .into_iter()
        .map(rank)
        .min_by(|(d1, r1), (d2, r2)| d1.total_cmp(d2).then_with(|| r1.cmp(r2)))
        .map(|(_, region)| region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_asking_region_answers_for_itself_when_it_has_a_set() {
        assert_eq!(
            closest("eu-west-1", ["us-east-1", "eu-west-1"]),
            Some("eu-west-1")
        );
    }

    #[test]
    fn otherwise_the_closest_region_answers() {
        let available = ["us-east-1", "eu-west-1", "ap-southeast-1"];
        assert_eq!(closest("eu-central-1", available), Some("eu-west-1"));
        assert_eq!(closest("us-west-2", available), Some("us-east-1"));
        assert_eq!(closest("ap-northeast-1", available), Some("ap-southeast-1"));
        assert_eq!(
            closest("sa-east-1", ["eu-west-1", "us-east-1"]),
            Some("us-east-1")
        );
    }

    #[test]
    fn unknown_regions_are_farthest_and_ties_go_by_name() {
        assert_eq!(
            closest("us-east-1", ["xx-new-1", "eu-west-1"]),
            Some("eu-west-1")
        );
        assert_eq!(
            closest("xx-new-1", ["us-east-2", "eu-west-1"]),
            Some("eu-west-1")
        );
        assert_eq!(
            closest("us-east-2", ["us-gov-east-1", "us-east-1"]),
            Some("us-gov-east-1")
        );
        assert_eq!(closest("us-east-1", std::iter::empty()), None);
    }

    #[test]
    fn distances_are_plausible() {
        let atlantic = distance_km("us-east-1", "eu-west-1").expect("both known");
        assert!((5_000.0..6_500.0).contains(&atlantic), "{atlantic}");
        assert_eq!(distance_km("us-east-1", "us-east-1"), Some(0.0));
        assert_eq!(distance_km("us-east-1", "xx-new-1"), None);
    }
}
