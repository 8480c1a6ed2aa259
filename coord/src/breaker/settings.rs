//! A breaker's settings as atomics, read on the hot and recording paths, so that a new
//! configuration applies under running calls.
//!
//! A new configuration is swapped in as one snapshot: the writer (serialized by the breaker's
//! configuration lock) bumps a sequence number to odd, stores the fields, and bumps it to even;
//! readers of more than one field use [`Settings::read`], which retries when the sequence moved,
//! so nobody ever sees a mix of old and new settings. Readers take no lock.

use std::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
    fence,
};

use super::config::{BreakerConfig, Window};
use super::machine::ProbeRules;
use super::window::BUCKETS;
use crate::clock::saturating_nanos as nanos;

/// Settings read on the hot and recording paths, as atomics so that
/// [`crate::breaker_with`] can change them under running calls.
#[derive(Debug, Default)]
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
    /// Odd while a new configuration is being stored.
    sequence: AtomicU64,
}

/// The settings a closed call's outcome is recorded and judged with, read as one snapshot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Recording {
    pub(super) window_calls: u32,
    pub(super) bucket_nanos: u64,
    pub(super) consecutive_failures: u32,
    pub(super) minimum_calls: u32,
    pub(super) failure_rate: f64,
    pub(super) slow_call_rate: f64,
    pub(super) slow_call: u64,
}

impl Settings {
    pub(super) fn new(config: &BreakerConfig) -> Self {
        let settings = Self::default();
        settings.store(config);
        settings
    }

    /// Stores `c` as one snapshot. Callers serialize stores (the breaker's configuration lock).
    pub(super) fn store(&self, c: &BreakerConfig) {
        self.sequence.fetch_add(1, Relaxed);
        fence(Release);
        self.store_fields(c);
        self.sequence.fetch_add(1, Release);
    }

    /// Reads fields with `f` as of one configuration: retried if a store ran meanwhile.
    #[inline]
    pub(super) fn read<R>(&self, f: impl Fn(&Self) -> R) -> R {
        loop {
            let before = self.sequence.load(Acquire);
            if before & 1 == 0 {
                let value = f(self);
                fence(Acquire);
                if self.sequence.load(Relaxed) == before {
                    return value;
                }
            }
            std::hint::spin_loop();
        }
    }

    /// The recording settings, as one snapshot.
    #[inline]
    pub(super) fn recording(&self) -> Recording {
        self.read(|s| Recording {
            window_calls: s.window_calls.load(Relaxed),
            bucket_nanos: s.bucket_nanos.load(Relaxed),
            consecutive_failures: s.consecutive_failures.load(Relaxed),
            minimum_calls: s.minimum_calls.load(Relaxed),
            failure_rate: f64::from_bits(s.failure_rate.load(Relaxed)),
            slow_call_rate: f64::from_bits(s.slow_call_rate.load(Relaxed)),
            slow_call: s.slow_call.load(Relaxed),
        })
    }

    fn store_fields(&self, c: &BreakerConfig) {
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

    pub(super) fn probe_rules(&self) -> ProbeRules {
        self.read(|s| ProbeRules {
            half_open_calls: s.half_open_calls.load(Relaxed),
            failure_rate: f64::from_bits(s.failure_rate.load(Relaxed)),
            slow_call_rate: f64::from_bits(s.slow_call_rate.load(Relaxed)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicBool;
    use std::time::Duration;

    /// A reader never sees a mix of two configurations stored one after another.
    #[test]
    fn readers_never_see_a_torn_snapshot() {
        let a = BreakerConfig::default()
            .failure_rate(0.25)
            .minimum_calls(5)
            .window(10)
            .slow_call(Duration::from_millis(1));
        let b = BreakerConfig::default()
            .failure_rate(0.75)
            .minimum_calls(50)
            .window(100)
            .slow_call(Duration::from_millis(2));
        let settings = Arc::new(Settings::new(&a));
        let (ra, rb) = (settings.recording(), {
            let other = Settings::new(&b);
            other.recording()
        });
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (settings, stop) = (Arc::clone(&settings), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut flip = false;
                while !stop.load(Relaxed) {
                    settings.store(if flip { &a } else { &b });
                    flip = !flip;
                }
            })
        };
        for _ in 0..200_000 {
            let seen = settings.recording();
            assert!(seen == ra || seen == rb, "torn read: {seen:?}");
        }
        stop.store(true, Relaxed);
        writer.join().unwrap();
    }
}
