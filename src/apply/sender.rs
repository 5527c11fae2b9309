//! The one seam between a real run and a dry run: where a ChangeBatch goes. Everything
//! before it (reading, planning, packing, deriving aliases, re-checking) is the same code
//! on both; the dry run's sender accepts every batch without sending it, and the batches
//! it was given are what the dry run reports.

use crate::aws::route53::pacing::WritePacer;
use crate::aws::route53::{self, Route53Error};
use crate::plan::records::Change;

/// Where batches go.
#[derive(Debug)]
pub enum Sender<'a> {
    /// To Route 53, one paced ChangeResourceRecordSets per batch.
    Route53 {
        /// The client (through the zone's role when the zone is in another account).
        client: &'a aws_sdk_route53::Client,
        /// The hosted zone.
        zone_id: &'a str,
        /// Spaces out requests.
        pacer: &'a WritePacer,
    },
    /// Nowhere: a dry run. Every batch is taken as Route 53 would take it.
    DryRun,
}

impl Sender<'_> {
    /// Sends one batch; Route 53's change id, or `dry-run`.
    pub async fn send(&self, changes: &[Change], comment: &str) -> Result<String, Route53Error> {
        match self {
            Sender::Route53 {
                client,
                zone_id,
                pacer,
            } => {
                pacer.ready().await;
                route53::send_batch(client, zone_id, changes, comment).await
            }
            Sender::DryRun => Ok("dry-run".to_owned()),
        }
    }

    /// Whether batches reach the zone (so that a view of the zone after them is true).
    pub fn writes(&self) -> bool {
        matches!(self, Sender::Route53 { .. })
    }
}
