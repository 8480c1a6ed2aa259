//! A breaker's settings as atomics, read on the hot and recording paths, so that a new
//! configuration applies under running calls.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};

use super::config::{BreakerConfig, Window};
use super::machine::ProbeRules;
use super::window::BUCKETS;
use crate::clock::saturating_nanos as nanos;

/// Settings read on the hot and recording paths, as atomics so that
/// [`crate::breaker_with`] can change them under running calls.
#[derive(Debug)]
pub(super) struct Settings {
    pub(super) failure_rate: AtomicU64,
    pub(super) slow_call_rate: AtomicU64,
    /// Nanoseconds; 0 = off.
    pub(super) slow_call: AtomicU64,
    pub(super) minimum_calls: AtomicU32,
    /// 0 = time-based window.
    pub(super) window_calls: AtomicU32,
    pub(super) bucket_nanos: AtomicU64,
    /// 0 = off.
    pub(super) consecutive_failures: AtomicU32,
    pub(super) open_for: AtomicU64,
    pub(super) max_open_for: AtomicU64,
    pub(super) half_open_calls: AtomicU32,
    /// Nanoseconds; 0 = wait forever.
    pub(super) max_half_open_wait: AtomicU64,
    pub(super) has_classifier: AtomicBool,
}

impl Settings {
    pub(super) fn new(config: &BreakerConfig) -> Self {
        let settings = Self {
            failure_rate: AtomicU64::new(0),
            slow_call_rate: AtomicU64::new(0),
            slow_call: AtomicU64::new(0),
            minimum_calls: AtomicU32::new(0),
            window_calls: AtomicU32::new(0),
            bucket_nanos: AtomicU64::new(0),
            consecutive_failures: AtomicU32::new(0),
            open_for: AtomicU64::new(0),
            max_open_for: AtomicU64::new(0),
            half_open_calls: AtomicU32::new(0),
            max_half_open_wait: AtomicU64::new(0),
            has_classifier: AtomicBool::new(false),
        };
        settings.store(config);
        settings
    }

    pub(super) fn store(&self, c: &BreakerConfig) {
        self.failure_rate.store(c.failure_rate.to_bits(), Relaxed);
        self.slow_call_rate
            .store(c.slow_call_rate.to_bits(), Relaxed);
        self.slow_call.store(c.slow_call.map_or(0, nanos), Relaxed);
        self.minimum_calls.store(c.minimum_calls, Relaxed);
        match c.window {
            Window::Calls(calls) => {
                self.window_calls.store(calls, Relaxed);
                self.bucket_nanos.store(0, Relaxed);
            }
            Window::Time(period) => {
                self.window_calls.store(0, Relaxed);
                self.bucket_nanos
                    .store((nanos(period) / BUCKETS).max(1), Relaxed);
            }
        }
        self.consecutive_failures
            .store(c.consecutive_failures.unwrap_or(0), Relaxed);
        self.open_for.store(nanos(c.open_for), Relaxed);
        self.max_open_for.store(nanos(c.open_for_cap()), Relaxed);
        self.half_open_calls.store(c.half_open_calls, Relaxed);
        self.max_half_open_wait
            .store(c.max_half_open_wait.map_or(0, nanos), Relaxed);
        self.has_classifier.store(c.classifier.is_some(), Relaxed);
    }

    pub(super) fn failure_rate(&self) -> f64 {
        f64::from_bits(self.failure_rate.load(Relaxed))
    }

    pub(super) fn slow_call_rate(&self) -> f64 {
        f64::from_bits(self.slow_call_rate.load(Relaxed))
    }

    pub(super) fn probe_rules(&self) -> ProbeRules {
        ProbeRules {
            half_open_calls: self.half_open_calls.load(Relaxed),
            failure_rate: self.failure_rate(),
            slow_call_rate: self.slow_call_rate(),
        }
    }
}
