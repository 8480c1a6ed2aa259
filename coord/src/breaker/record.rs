//! How a finished call is recorded: a permit's verdict (after the classifier) goes to the
//! closed breaker's windows and run of failures, which may trip it, or to the half-open probe
//! count, which closes or re-opens it. The admission side is in the parent module.

use std::any::Any;
use std::sync::atomic::Ordering::Relaxed;

use super::CircuitBreaker;
use super::machine::{CLOSED, GEN_MASK, OPEN, ProbeOutcome};
use super::permit::{Permit, PermitKind, Verdict};
use super::settings::Recording;
use super::window::Recorded;

impl CircuitBreaker {
    /// The configured classifier's verdict on `error`: `Some(false)` when it does not count.
    /// The classifier is cloned out of the configuration and called outside every lock, so it may
    /// reconfigure this breaker; a classifier that panics counts the error as a failure.
    pub(super) fn classify(&self, error: &dyn Any) -> Option<bool> {
        if !self.settings.has_classifier.load(Relaxed) {
            return None;
        }
        let classifier = crate::locks::read(&self.config).classifier.clone()?;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| classifier.classify(error)))
        {
            Ok(verdict) => verdict,
            Err(_) => {
                tracing::warn!(
                    target: "coord::breaker",
                    breaker = &*self.name,
                    "circuit breaker classifier panicked; the error counts as a failure"
                );
                Some(true)
            }
        }
    }

    #[inline]
    pub(super) fn finish(&self, permit: &Permit<'_>, verdict: Verdict) {
        match permit.kind() {
            PermitKind::Disabled => {}
            PermitKind::Closed => self.finish_closed(permit, verdict),
            PermitKind::Probe => self.finish_probe(permit, verdict),
        }
    }

    #[inline]
    fn is_slow(&self, permit: &Permit<'_>, slow_call: u64) -> bool {
        let started = (permit.tag >> 32) as u32;
        started != 0
            && slow_call != 0
            && u64::from(self.micros().wrapping_sub(started)).saturating_mul(1_000) >= slow_call
    }

    #[inline]
    fn finish_closed(&self, permit: &Permit<'_>, verdict: Verdict) {
        let failed = match verdict {
            Verdict::Success => false,
            Verdict::Failure => true,
            Verdict::Ignore => return,
        };
        let settings = self.settings.recording();
        let slow = self.is_slow(permit, settings.slow_call);
        if !failed {
            if settings.consecutive_failures != 0 {
                // A success ends the run of failures of its own generation only.
                let tag = (permit.generation() & GEN_MASK) << 32;
                let mut current = self.consecutive.load(Relaxed);
                while current != tag && current & !u64::from(u32::MAX) == tag {
                    match self
                        .consecutive
                        .compare_exchange_weak(current, tag, Relaxed, Relaxed)
                    {
                        Ok(_) => break,
                        Err(actual) => current = actual,
                    }
                }
            }
            if !slow
                && settings.window_calls != 0
                && self
                    .count_window
                    .success_is_noop(permit.generation(), settings.window_calls)
            {
                return;
            }
        }
        self.record_closed(permit.generation(), failed, slow, &settings);
    }

    fn record_closed(&self, generation: u64, failed: bool, slow: bool, settings: &Recording) {
        let word = self.machine.load();
        if word.kind() != CLOSED || word.generation() != generation {
            return; // admitted in an earlier generation
        }
        if failed
            && settings.consecutive_failures != 0
            && self.failures_in_a_row(generation) >= settings.consecutive_failures
        {
            self.trip(generation, 1.0);
            return;
        }
        let counts = if settings.window_calls != 0 {
            match self
                .count_window
                .record(generation, settings.window_calls, failed, slow)
            {
                Recorded::Changed(counts) => counts,
                Recorded::Unchanged | Recorded::Stale => return,
            }
        } else {
            let tick = self.now() / settings.bucket_nanos.max(1);
            self.time_window.record(generation, tick, failed, slow)
        };
        if counts.calls < settings.minimum_calls {
            return;
        }
        let rate = counts.failure_rate();
        if (counts.failed > 0 && rate >= settings.failure_rate)
            || (counts.slow > 0 && counts.slow_rate() >= settings.slow_call_rate)
        {
            self.trip(generation, rate);
        }
    }

    fn failures_in_a_row(&self, generation: u64) -> u32 {
        let tag = (generation & GEN_MASK) << 32;
        let mut current = self.consecutive.load(Relaxed);
        loop {
            let count = if current & !u64::from(u32::MAX) == tag {
                (current & u64::from(u32::MAX)) as u32
            } else {
                0
            };
            let next = tag | u64::from(count.saturating_add(1));
            match self
                .consecutive
                .compare_exchange_weak(current, next, Relaxed, Relaxed)
            {
                Ok(_) => return count.saturating_add(1),
                Err(actual) => current = actual,
            }
        }
    }

    #[cold]
    fn trip(&self, generation: u64, rate: f64) {
        let now = self.now();
        let open_for = self.next_open_for(now, false);
        if let Some(transition) = self.machine.trip(generation, now, open_for) {
            self.transitioned(transition, rate);
        }
    }

    #[cold]
    fn finish_probe(&self, permit: &Permit<'_>, verdict: Verdict) {
        let slow = self.is_slow(permit, self.settings.slow_call.load(Relaxed));
        let outcome = match verdict {
            Verdict::Success => ProbeOutcome::Success { slow },
            Verdict::Failure => ProbeOutcome::Failure { slow },
            Verdict::Ignore => ProbeOutcome::Ignored,
        };
        let rules = self.settings.probe_rules();
        if let Some(transition) = self.machine.finish_probe(
            permit.generation(),
            outcome,
            rules,
            || self.now(),
            |now| self.next_open_for(now, true),
        ) {
            let rate = if transition.to == OPEN { 1.0 } else { 0.0 };
            self.transitioned(transition, rate);
        }
    }
}
