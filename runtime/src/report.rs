//! What a write did, step by step.

/// The outcome of a multi-step write: rows affected in all, per step, and the root row
/// when the caller asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport<R> {
    /// Sum of the steps' `affected`.
    pub affected: u64,
    /// One entry per step, in execution order.
    pub steps: Vec<WriteStepReport>,
    /// The root row after the write (`*_returning` variants), otherwise `None`.
    pub root: Option<R>,
}

/// Rows affected by one step of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteStepReport {
    /// Stable tag of the step, unique within its graph (`graph:has_many:order_items`).
    pub tag: &'static str,
    /// Rows the step inserted, updated or deleted.
    pub affected: u64,
}

impl<R> WriteReport<R> {
    /// A report from its steps; `affected` is their sum.
    pub fn from_steps(steps: Vec<WriteStepReport>, root: Option<R>) -> Self {
        let affected = steps.iter().map(|s| s.affected).sum();
        Self {
            affected,
            steps,
            root,
        }
    }

    /// Rows affected by the step with this tag (0 when the graph has no such step).
    pub fn step(&self, tag: &str) -> u64 {
        self.steps
            .iter()
            .filter(|s| s.tag == tag)
            .map(|s| s.affected)
            .sum()
    }
}
