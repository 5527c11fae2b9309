//! The connection limit, and the count of open connections that the drain waits on.
//!
//! One count for every route and worker, so that `--max-connections` bounds the descriptors of
//! the whole process. It lives apart from the accept loops and from the server that starts them,
//! so that neither has to reach into the other.

use std::future::Future;
use std::sync::Mutex;

use tokio_util::task::TaskTracker;

/// The open client connections of every route: one count, the task tracker's, which the
/// connection limit reads and the drain waits on.
pub(crate) struct OpenConnections {
    tracker: TaskTracker,
    pub(crate) limit: usize,
    /// Makes "under the limit?" and "spawn" one step, so that routes accepting at the same
    /// moment cannot pass the limit together.
    admitting: Mutex<()>,
}

impl OpenConnections {
    /// No limit reached yet and nothing open.
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            tracker: TaskTracker::new(),
            limit,
            admitting: Mutex::new(()),
        }
    }

    /// Spawns `connection` unless the limit is reached; else hands it back, so that the caller
    /// counts the refusal before the client sees its connection closed.
    pub(crate) fn admit<F>(&self, connection: F) -> Result<(), F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let _one_at_a_time = self
            .admitting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.tracker.len() >= self.limit {
            return Err(connection);
        }
        self.tracker.spawn(connection);
        Ok(())
    }

    /// Connections open now.
    pub(crate) fn len(&self) -> usize {
        self.tracker.len()
    }

    /// Stops admitting for good and waits until every admitted connection has ended.
    pub(crate) async fn close_and_wait(&self) {
        self.tracker.close();
        self.tracker.wait().await;
    }
}
