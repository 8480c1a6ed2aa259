//! The `objective = ".."` key of `#[track_performance]`: the call site joins its operation to
//! the objective on its first call, then costs one atomic load per call.

use std::sync::OnceLock;

/// A call site's membership of an objective (a `static` in macro-generated code).
#[derive(Debug)]
pub struct ObjectiveSite {
    objective: &'static str,
    joined: OnceLock<()>,
}

impl ObjectiveSite {
    /// The membership of the objective `objective`, not joined yet.
    pub const fn new(objective: &'static str) -> Self {
        Self {
            objective,
            joined: OnceLock::new(),
        }
    }

    /// Joins `operation` to the objective, the first time only.
    #[inline]
    pub fn join(&self, operation: &str) {
        self.joined
            .get_or_init(|| super::registry::join(operation, self.objective));
    }
}
