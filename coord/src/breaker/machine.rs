//! The breaker's state word: kind, half-open permits and probe tallies, and the generation, packed
//! into one `AtomicU64` so that every transition is a single compare-and-swap.
//!
//! This file depends only on `super::sync` and takes time as a parameter (nanoseconds since the
//! breaker was created), so the loom model test can include it verbatim.

use super::sync::{AtomicU64, Ordering};

/// The kinds a state word can hold.
pub(crate) const CLOSED: u8 = 0;
pub(crate) const OPEN: u8 = 1;
pub(crate) const HALF_OPEN: u8 = 2;
pub(crate) const FORCED_OPEN: u8 = 3;
pub(crate) const DISABLED: u8 = 4;

const KIND_MASK: u64 = 0b111;
const FIELD_BITS: u32 = 8;
const FIELD_MASK: u64 = (1 << FIELD_BITS) - 1;
const IN_FLIGHT_SHIFT: u32 = 3;
const OK_SHIFT: u32 = IN_FLIGHT_SHIFT + FIELD_BITS;
const FAILED_SHIFT: u32 = OK_SHIFT + FIELD_BITS;
const SLOW_SHIFT: u32 = FAILED_SHIFT + FIELD_BITS;
const GEN_SHIFT: u32 = SLOW_SHIFT + FIELD_BITS;
/// Generations are 29 bits everywhere they are stored (state word, permits, windows, the
/// failures-in-a-row counter) and compared for equality only: a permit would have to stay out
/// across 2^29 transitions for its generation to come round again.
pub(crate) const GEN_MASK: u64 = (1 << (64 - GEN_SHIFT)) - 1;

/// Most probes a half-open breaker may admit (shared with the attribute's compile-time check).
pub(crate) const MAX_HALF_OPEN_CALLS: u32 = coord_limits::breaker::MAX_HALF_OPEN_CALLS;
// The probes in flight are counted in one field of the state word.
const _: () = assert!(MAX_HALF_OPEN_CALLS as u64 <= FIELD_MASK);

/// One decoded state word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Word(pub(crate) u64);

impl Word {
    #[inline]
    pub(crate) fn new(kind: u8, generation: u64) -> Self {
        Word(u64::from(kind) | ((generation & GEN_MASK) << GEN_SHIFT))
    }
    #[inline]
    pub(crate) fn kind(self) -> u8 {
        // Masked to three bits, so the cast cannot truncate.
        (self.0 & KIND_MASK) as u8
    }
    #[inline]
    pub(crate) fn generation(self) -> u64 {
        self.0 >> GEN_SHIFT
    }
    fn field(self, shift: u32) -> u32 {
        ((self.0 >> shift) & FIELD_MASK) as u32
    }
    pub(crate) fn in_flight(self) -> u32 {
        self.field(IN_FLIGHT_SHIFT)
    }
    pub(crate) fn ok(self) -> u32 {
        self.field(OK_SHIFT)
    }
    pub(crate) fn failed(self) -> u32 {
        self.field(FAILED_SHIFT)
    }
    pub(crate) fn slow(self) -> u32 {
        self.field(SLOW_SHIFT)
    }
    fn with_probes(self, in_flight: u32, ok: u32, failed: u32, slow: u32) -> Self {
        let clear = !(FIELD_MASK << IN_FLIGHT_SHIFT
            | FIELD_MASK << OK_SHIFT
            | FIELD_MASK << FAILED_SHIFT
            | FIELD_MASK << SLOW_SHIFT);
        Word(
            (self.0 & clear)
                | (u64::from(in_flight) & FIELD_MASK) << IN_FLIGHT_SHIFT
                | (u64::from(ok) & FIELD_MASK) << OK_SHIFT
                | (u64::from(failed) & FIELD_MASK) << FAILED_SHIFT
                | (u64::from(slow) & FIELD_MASK) << SLOW_SHIFT,
        )
    }
    /// The word of the next state: `kind`, next generation, no probes.
    fn next(self, kind: u8) -> Self {
        Word::new(kind, self.generation().wrapping_add(1))
    }
}

/// A state change that happened, for events and counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transition {
    pub(crate) from: u8,
    pub(crate) to: u8,
    /// The generation the breaker entered.
    pub(crate) generation: u64,
}

/// What admission decided.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Closed or disabled: run the call, record into the window.
    Pass { generation: u64 },
    /// Half-open: run the call as a probe holding one of the permits.
    Probe {
        generation: u64,
        /// Set when this admission moved the breaker from open to half-open.
        opened_half: Option<Transition>,
    },
    /// Rejected; `retry_after` in nanoseconds from `now`.
    Reject {
        kind: u8,
        retry_after: u64,
        /// Set when this rejection expired a half-open state whose probes never answered.
        expired: Option<Transition>,
    },
}

/// How one probe ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ProbeOutcome {
    /// Counted as success, `slow` if it took longer than the slow-call threshold.
    Success { slow: bool },
    /// Counted as failure.
    Failure { slow: bool },
    /// Counted as neither: the permit is returned so that another probe can run.
    Ignored,
}

/// Thresholds that decide a half-open breaker's fate.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ProbeRules {
    pub(crate) half_open_calls: u32,
    pub(crate) failure_rate: f64,
    pub(crate) slow_call_rate: f64,
}

impl ProbeRules {
    fn reopens(&self, failed: u32, slow: u32) -> bool {
        let n = f64::from(self.half_open_calls.max(1));
        (failed > 0 && f64::from(failed) / n >= self.failure_rate)
            || (slow > 0 && f64::from(slow) / n >= self.slow_call_rate)
    }
}

/// The state word and the two timestamps published with it.
#[derive(Debug)]
pub(crate) struct Machine {
    word: AtomicU64,
    /// When an open breaker lets the first probe through (ns since creation). Written only by
    /// the thread whose compare-and-swap opened the breaker, after it won.
    open_until: AtomicU64,
    /// The generation `open_until` belongs to, stored (Release) after it: a reader that sees an
    /// open word of a newer generation knows the deadline is not published yet.
    open_gen: AtomicU64,
    /// When the breaker last became half-open (ns since creation).
    half_open_since: AtomicU64,
    /// Successful transitions so far.
    transitions: AtomicU64,
}

impl Machine {
    pub(crate) fn new() -> Self {
        Self {
            word: AtomicU64::new(Word::new(CLOSED, 0).0),
            open_until: AtomicU64::new(0),
            open_gen: AtomicU64::new(u64::MAX),
            half_open_since: AtomicU64::new(0),
            transitions: AtomicU64::new(0),
        }
    }

    /// The current word (Acquire, so that the timestamps published before it are visible).
    #[inline]
    pub(crate) fn load(&self) -> Word {
        Word(self.word.load(Ordering::Acquire))
    }

    pub(crate) fn open_until(&self) -> u64 {
        self.open_until.load(Ordering::Relaxed)
    }

    /// Publishes the deadline of the open state of `generation`; called by the CAS winner only.
    fn publish_open(&self, generation: u64, until: u64) {
        self.open_until.store(until, Ordering::Relaxed);
        self.open_gen.store(generation, Ordering::Release);
    }

    pub(crate) fn transitions(&self) -> u64 {
        self.transitions.load(Ordering::Relaxed)
    }

    pub(crate) fn clear_transitions(&self) {
        self.transitions.store(0, Ordering::Relaxed);
    }

    fn swap_word(&self, from: Word, to: Word) -> Result<Transition, Word> {
        match self
            .word
            .compare_exchange(from.0, to.0, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                if from.kind() != to.kind() {
                    self.transitions.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Transition {
                    from: from.kind(),
                    to: to.kind(),
                    generation: to.generation(),
                })
            }
            Err(current) => Err(Word(current)),
        }
    }

    /// Decides whether a call may run. `now` is only read when the breaker is not closed.
    /// `max_half_open_wait` of 0 means unanswered probes are waited for forever.
    #[inline]
    pub(crate) fn admit(
        &self,
        now: impl Fn() -> u64,
        half_open_calls: u32,
        max_half_open_wait: u64,
        open_for_after_expiry: impl Fn(u64) -> u64,
        open_for: u64,
    ) -> Admission {
        let mut word = self.load();
        loop {
            match word.kind() {
                CLOSED | DISABLED => {
                    return Admission::Pass {
                        generation: word.generation(),
                    };
                }
                OPEN => {
                    if self.open_gen.load(Ordering::Acquire) != word.generation() {
                        // Opened a moment ago; its winner has not published the deadline yet.
                        return Admission::Reject {
                            kind: OPEN,
                            retry_after: open_for,
                            expired: None,
                        };
                    }
                    let now = now();
                    let until = self.open_until.load(Ordering::Relaxed);
                    if now < until {
                        return Admission::Reject {
                            kind: OPEN,
                            retry_after: until - now,
                            expired: None,
                        };
                    }
                    // The thread that flips open → half-open takes the first permit itself.
                    self.half_open_since.store(now, Ordering::Relaxed);
                    let next = word.next(HALF_OPEN).with_probes(1, 0, 0, 0);
                    match self.swap_word(word, next) {
                        Ok(transition) => {
                            return Admission::Probe {
                                generation: next.generation(),
                                opened_half: Some(transition),
                            };
                        }
                        Err(current) => word = current,
                    }
                }
                HALF_OPEN => {
                    let admitted = word.in_flight() + word.ok() + word.failed();
                    if admitted < half_open_calls.min(MAX_HALF_OPEN_CALLS) {
                        let next = word.with_probes(
                            word.in_flight() + 1,
                            word.ok(),
                            word.failed(),
                            word.slow(),
                        );
                        match self.word.compare_exchange_weak(
                            word.0,
                            next.0,
                            Ordering::AcqRel,
                            Ordering::Acquire,
                        ) {
                            Ok(_) => {
                                return Admission::Probe {
                                    generation: word.generation(),
                                    opened_half: None,
                                };
                            }
                            Err(current) => {
                                word = Word(current);
                                continue;
                            }
                        }
                    }
                    if max_half_open_wait > 0 && word.in_flight() > 0 {
                        let now = now();
                        let since = self.half_open_since.load(Ordering::Relaxed);
                        if now.saturating_sub(since) >= max_half_open_wait {
                            // Probes that never answered count as failures: open again.
                            let open_for = open_for_after_expiry(now);
                            match self.swap_word(word, word.next(OPEN)) {
                                Ok(transition) => {
                                    self.publish_open(
                                        transition.generation,
                                        now.saturating_add(open_for),
                                    );
                                    return Admission::Reject {
                                        kind: OPEN,
                                        retry_after: open_for,
                                        expired: Some(transition),
                                    };
                                }
                                Err(current) => {
                                    word = current;
                                    continue;
                                }
                            }
                        }
                    }
                    return Admission::Reject {
                        kind: HALF_OPEN,
                        retry_after: 0,
                        expired: None,
                    };
                }
                kind => {
                    return Admission::Reject {
                        kind,
                        retry_after: u64::MAX,
                        expired: None,
                    };
                }
            }
        }
    }

    /// Records the outcome of a probe admitted in `generation`; a probe from an older generation
    /// changes nothing. `open_for` computes the next open period when the probes reopen the
    /// breaker, from `now`.
    pub(crate) fn finish_probe(
        &self,
        generation: u64,
        outcome: ProbeOutcome,
        rules: ProbeRules,
        now: impl Fn() -> u64,
        open_for: impl Fn(u64) -> u64,
    ) -> Option<Transition> {
        let mut word = self.load();
        loop {
            if word.kind() != HALF_OPEN || word.generation() != generation || word.in_flight() == 0
            {
                return None;
            }
            let (mut ok, mut failed, mut slow) = (word.ok(), word.failed(), word.slow());
            match outcome {
                ProbeOutcome::Success { slow: s } => {
                    ok += 1;
                    slow += u32::from(s);
                }
                ProbeOutcome::Failure { slow: s } => {
                    failed += 1;
                    slow += u32::from(s);
                }
                ProbeOutcome::Ignored => {}
            }
            let in_flight = word.in_flight() - 1;
            let mut until = 0;
            let next = if rules.reopens(failed, slow) {
                let now = now();
                until = now.saturating_add(open_for(now));
                word.next(OPEN)
            } else if ok + failed >= rules.half_open_calls {
                word.next(CLOSED)
            } else {
                word.with_probes(in_flight, ok, failed, slow)
            };
            if next.kind() == HALF_OPEN {
                match self.word.compare_exchange_weak(
                    word.0,
                    next.0,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return None,
                    Err(current) => word = Word(current),
                }
            } else {
                match self.swap_word(word, next) {
                    Ok(transition) => {
                        if transition.to == OPEN {
                            self.publish_open(transition.generation, until);
                        }
                        return Some(transition);
                    }
                    Err(current) => word = current,
                }
            }
        }
    }

    /// Closed → open, if the breaker is still closed in `generation`. `open_for` from `now`.
    pub(crate) fn trip(&self, generation: u64, now: u64, open_for: u64) -> Option<Transition> {
        let word = self.load();
        if word.kind() != CLOSED || word.generation() != generation {
            return None;
        }
        let transition = self.swap_word(word, word.next(OPEN)).ok()?;
        self.publish_open(transition.generation, now.saturating_add(open_for));
        Some(transition)
    }

    /// Moves to `kind` from whatever state, in a new generation. `None` when already there
    /// (closed → closed still starts a new generation, to restart the window, but reports no
    /// transition).
    pub(crate) fn force(&self, kind: u8) -> Option<Transition> {
        let mut word = self.load();
        loop {
            match self.swap_word(word, word.next(kind)) {
                Ok(transition) => {
                    return (transition.from != transition.to).then_some(transition);
                }
                Err(current) => word = current,
            }
        }
    }
}
