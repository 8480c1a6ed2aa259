//! The rules armed and the factories registered, behind one `RwLock` that a call read-locks
//! only while some rule is armed ([`ARMED`] says so with one relaxed load). A call's hits are
//! counted in atomics of its rule and its draws are one atomic step, so that concurrent calls
//! share the lock without writing to anything but those counters.

use std::any::Any;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, LazyLock, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use super::{
    ChaosCount, ChaosError, ChaosRule, Fault, FaultKind, Latency, MAX_FACTORIES, MAX_RULES,
    check_name,
};
use crate::clock::Clock;
use crate::rng::Rng;

/// Whether any rule is armed anywhere: the one load a call pays while none is.
pub(super) static ARMED: AtomicBool = AtomicBool::new(false);

/// The most names counted for faults no longer armed; their later ones are counted on the
/// overflow name.
const MAX_COUNTED: usize = 4 * MAX_RULES;

/// The step of the draws' splitmix sequence (the golden ratio's 64 bits).
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// The position of the draws' sequence: each draw takes one step, lock-free, so that the
/// same seed and the same calls in the same order (one thread) draw the same faults.
static SEQUENCE: AtomicU64 = AtomicU64::new(0);

/// A generator for one draw (or the few of one latency), one step of the sequence.
fn next_rng() -> Rng {
    Rng::seeded(SEQUENCE.fetch_add(GOLDEN, Relaxed))
}

/// A registered factory: a `Make<E>` behind `Any`, found again by downcasting to the error
/// type of the call that asks.
type Factory = Arc<dyn Any + Send + Sync>;

type Make<E> = Box<dyn Fn() -> E + Send + Sync>;

/// One armed fault: the share of calls it hits, and how many it hit while armed.
struct Slot {
    rate: f64,
    hits: AtomicU64,
}

impl Slot {
    fn new(rate: f64) -> Self {
        Self {
            rate,
            hits: AtomicU64::new(0),
        }
    }

    /// Draws whether this fault hits the call, and counts it when it does.
    fn hit(&self) -> bool {
        if !next_rng().chance(self.rate) {
            return false;
        }
        self.hits.fetch_add(1, Relaxed);
        true
    }
}

/// The faults armed on one name, at most one of each kind.
#[derive(Default)]
struct Armed {
    error: Option<Slot>,
    /// The error fault's factory makes another type than the operation's error: it can never
    /// hit, which [`rules`] says.
    mismatched: AtomicBool,
    latency: Option<(Slot, Latency)>,
    reject: Option<Slot>,
}

impl Armed {
    fn count(&self) -> usize {
        usize::from(self.error.is_some())
            + usize::from(self.latency.is_some())
            + usize::from(self.reject.is_some())
    }

    fn has(&self, kind: FaultKind) -> bool {
        match kind {
            FaultKind::Error => self.error.is_some(),
            FaultKind::Latency => self.latency.is_some(),
            FaultKind::Reject => self.reject.is_some(),
        }
    }

    /// Each armed fault's kind and hits.
    fn hits(&self) -> impl Iterator<Item = (FaultKind, u64)> + '_ {
        let hits = |slot: &Slot| slot.hits.load(Relaxed);
        [
            self.error.as_ref().map(|s| (FaultKind::Error, hits(s))),
            self.latency
                .as_ref()
                .map(|(s, _)| (FaultKind::Latency, hits(s))),
            self.reject.as_ref().map(|s| (FaultKind::Reject, hits(s))),
        ]
        .into_iter()
        .flatten()
    }
}

struct State {
    rules: HashMap<String, Armed>,
    factories: HashMap<String, Factory>,
    /// The hits of faults no longer armed (disarmed or replaced), by name and kind.
    retired: BTreeMap<(String, FaultKind), u64>,
    /// The last seed given to [`set_seed`], which [`reset_all`] starts the draws from again.
    seed: Option<u64>,
    clock: Clock,
}

static STATE: LazyLock<RwLock<State>> = LazyLock::new(|| {
    // A fresh position per process unless seeded (no call draws before a rule is armed,
    // which builds this state first).
    SEQUENCE.store(Rng::new().between(0, u64::MAX), Relaxed);
    RwLock::new(State {
        rules: HashMap::new(),
        factories: HashMap::new(),
        retired: BTreeMap::new(),
        seed: None,
        clock: Clock::system(),
    })
});

fn read() -> RwLockReadGuard<'static, State> {
    crate::locks::read(&STATE)
}

fn write() -> RwLockWriteGuard<'static, State> {
    crate::locks::write(&STATE)
}

impl State {
    fn rule_count(&self) -> usize {
        self.rules.values().map(Armed::count).sum()
    }

    /// Keeps [`ARMED`] in step with the rules.
    fn publish(&self) {
        ARMED.store(!self.rules.is_empty(), Relaxed);
    }

    /// Checks every `(name, fault)` as [`arm`] would, arming none: the index of the first
    /// refused and why. Only a `(name, kind)` not armed yet counts towards [`MAX_RULES`]: a
    /// replacement adds no rule.
    fn check(&self, rules: &[(String, Fault)]) -> Result<(), (usize, ChaosError)> {
        let armed = self.rule_count();
        let mut adding = HashSet::new();
        for (at, (name, fault)) in rules.iter().enumerate() {
            fault.check(name).map_err(|error| (at, error))?;
            if matches!(fault, Fault::Error { .. }) && !self.factories.contains_key(name) {
                let name = name.clone();
                return Err((at, ChaosError::NoFactory { name }));
            }
            let kind = fault.kind();
            let replaces = self.rules.get(name).is_some_and(|a| a.has(kind));
            if !replaces
                && adding.insert((name.as_str(), kind))
                && armed.saturating_add(adding.len()) > MAX_RULES
            {
                return Err((at, ChaosError::TooManyRules));
            }
        }
        Ok(())
    }

    fn arm(&mut self, name: &str, fault: Fault) {
        let kind = fault.kind();
        let armed = self.rules.entry(name.to_owned()).or_default();
        let replaced = match fault {
            Fault::Error { rate } => {
                armed.mismatched.store(false, Relaxed);
                armed.error.replace(Slot::new(rate))
            }
            Fault::Latency { rate, latency } => armed
                .latency
                .replace((Slot::new(rate), latency))
                .map(|(slot, _)| slot),
            Fault::Reject { rate } => armed.reject.replace(Slot::new(rate)),
        };
        if let Some(slot) = replaced {
            self.retire(name, kind, slot.hits.into_inner());
        }
    }

    /// Keeps the hits of a fault no longer armed.
    fn retire(&mut self, name: &str, kind: FaultKind, hits: u64) {
        if hits == 0 {
            return;
        }
        let key = (name.to_owned(), kind);
        let key = if self.retired.len() >= MAX_COUNTED && !self.retired.contains_key(&key) {
            (crate::capped::OVERFLOW_NAME.to_owned(), kind)
        } else {
            key
        };
        *self.retired.entry(key).or_insert(0) += hits;
    }

    /// Disarms every fault on `name`; how many were.
    fn disarm(&mut self, name: &str) -> usize {
        let Some(armed) = self.rules.remove(name) else {
            return 0;
        };
        for (kind, hits) in armed.hits() {
            self.retire(name, kind, hits);
        }
        armed.count()
    }
}

/// Registers `factory` as the maker of the errors an error fault on the operation `operation`
/// injects, replacing any factory it had; it arms nothing. The factory's type `E` must be the
/// operation's error type: a call whose error type differs is never hit. A file or HTTP rule
/// can arm an error fault only on an operation with a factory.
pub fn register_error<E: 'static>(
    operation: &str,
    factory: impl Fn() -> E + Send + Sync + 'static,
) -> Result<(), ChaosError> {
    check_name(operation)?;
    let make: Make<E> = Box::new(factory);
    let mut state = write();
    if state.factories.len() >= MAX_FACTORIES && !state.factories.contains_key(operation) {
        return Err(ChaosError::TooManyFactories);
    }
    state
        .factories
        .insert(operation.to_owned(), Arc::new(make) as Factory);
    // The new factory may make the operation's type.
    if let Some(armed) = state.rules.get(operation) {
        armed.mismatched.store(false, Relaxed);
    }
    Ok(())
}

/// Arms `fault` on `name` (an operation's name for an error or a latency, a breaker's for a
/// rejection), replacing a fault of the same kind armed there. An error fault needs a factory
/// registered for the operation ([`register_error`], or [`error`](super::error) which does
/// both).
pub fn arm(name: &str, fault: Fault) -> Result<(), ChaosError> {
    let mut state = write();
    let rules = [(name.to_owned(), fault)];
    state.check(&rules).map_err(|(_, error)| error)?;
    let [(name, fault)] = rules;
    state.arm(&name, fault);
    state.publish();
    Ok(())
}

/// Checks every `(name, fault)` as [`arm`] would, arming none: the index of the first refused
/// and why.
pub(crate) fn check_all(rules: &[(String, Fault)]) -> Result<(), (usize, ChaosError)> {
    read().check(rules)
}

/// Arms every `(name, fault)`, or none when one is refused (the index of the first refused and
/// why).
pub(crate) fn arm_all(rules: Vec<(String, Fault)>) -> Result<(), (usize, ChaosError)> {
    let mut state = write();
    state.check(&rules)?;
    for (name, fault) in rules {
        state.arm(&name, fault);
    }
    state.publish();
    Ok(())
}

/// Disarms every fault armed on `name`; returns how many were.
pub fn disarm(name: &str) -> usize {
    let mut state = write();
    let removed = state.disarm(name);
    state.publish();
    removed
}

/// Disarms every fault; returns how many were armed.
pub fn disarm_all() -> usize {
    let mut state = write();
    let names: Vec<String> = state.rules.keys().cloned().collect();
    let removed = names.iter().map(|name| state.disarm(name)).sum();
    state.publish();
    removed
}

/// Every armed rule, sorted by name, then kind.
pub fn rules() -> Vec<ChaosRule> {
    let state = read();
    let mut rules = Vec::with_capacity(state.rule_count());
    for (name, armed) in &state.rules {
        let rule = |kind, slot: &Slot, latency| ChaosRule {
            name: name.clone(),
            kind,
            rate: slot.rate,
            latency,
            mismatched: false,
        };
        if let Some(slot) = &armed.error {
            rules.push(ChaosRule {
                mismatched: armed.mismatched.load(Relaxed),
                ..rule(FaultKind::Error, slot, None)
            });
        }
        if let Some((slot, latency)) = &armed.latency {
            rules.push(rule(FaultKind::Latency, slot, Some(latency.clone())));
        }
        if let Some(slot) = &armed.reject {
            rules.push(rule(FaultKind::Reject, slot, None));
        }
    }
    rules.sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));
    rules
}

/// Faults injected since start or the last [`crate::reset`], by name, then kind.
pub fn injected() -> Vec<ChaosCount> {
    let state = read();
    let mut counts = state.retired.clone();
    for (name, armed) in &state.rules {
        for (kind, hits) in armed.hits().filter(|&(_, hits)| hits > 0) {
            *counts.entry((name.clone(), kind)).or_insert(0) += hits;
        }
    }
    counts
        .into_iter()
        .map(|((name, kind), injected)| ChaosCount {
            name,
            kind,
            injected,
        })
        .collect()
}

/// Seeds the generator that draws which calls a fault hits, and injected latencies: the same
/// seed and the same calls in the same order draw the same faults. [`crate::reset`] starts
/// the draws from this seed again.
pub fn set_seed(seed: u64) {
    let mut state = write();
    state.seed = Some(seed);
    SEQUENCE.store(seed, Relaxed);
}

/// Injected latencies wait on `clock` (default: the system clock; a test's
/// `Clock::from(&fake)`, or `Clock::tokio()` under tokio's paused time).
pub fn set_clock(clock: impl Into<Clock>) {
    write().clock = clock.into();
}

/// Disarms every rule, zeroes the counts and starts the draws from the last seed again, for
/// [`crate::reset`]; factories, seed and clock stay.
pub(crate) fn reset_all() {
    let mut state = write();
    state.rules.clear();
    state.retired.clear();
    if let Some(seed) = state.seed {
        SEQUENCE.store(seed, Relaxed);
    }
    state.publish();
}

/// The latency injected into this call of `operation`, drawn now, and the clock to wait on.
pub(super) fn latency_for(operation: &str) -> Option<(Duration, Clock)> {
    let state = read();
    let (slot, latency) = state.rules.get(operation)?.latency.as_ref()?;
    if !slot.hit() {
        return None;
    }
    let delay = latency.draw(&mut next_rng());
    Some((delay, state.clock.clone()))
}

/// The factory of an error fault on `operation` makes another type than the one asked for.
pub(super) struct Mismatched;

/// The error injected into this call of `operation` when an error fault hits it; `Err` when
/// its factory makes no `E` (nothing drawn), marked on the rule when `mark`.
fn lookup_error<E: 'static>(operation: &str, mark: bool) -> Result<Option<E>, Mismatched> {
    let make = {
        let state = read();
        let Some(armed) = state.rules.get(operation) else {
            return Ok(None);
        };
        let (Some(slot), Some(make)) = (&armed.error, state.factories.get(operation)) else {
            return Ok(None);
        };
        let Ok(make) = Arc::clone(make).downcast::<Make<E>>() else {
            if mark {
                armed.mismatched.store(true, Relaxed);
            }
            return Err(Mismatched);
        };
        if !slot.hit() {
            return Ok(None);
        }
        make
    };
    // Outside the lock: the factory is the user's code.
    Ok(Some(make()))
}

/// The error injected into this call of `operation`, when an error fault hits it and its
/// factory makes an `E` (a factory of another type marks the rule mismatched).
pub(super) fn error_for<E: 'static>(operation: &str) -> Option<E> {
    lookup_error(operation, true).ok().flatten()
}

/// The error injected into this call of `operation` as an `A`, or else as a `B`, by the type
/// its factory makes (a factory of neither marks the rule mismatched).
#[cfg(feature = "tower")]
pub(super) fn error_for_either<A: 'static, B: 'static>(operation: &str) -> Option<Result<A, B>> {
    match lookup_error::<A>(operation, false) {
        Ok(drawn) => drawn.map(Ok),
        Err(Mismatched) => error_for::<B>(operation).map(Err),
    }
}

/// Whether a rejection fault hits this call through the breaker `breaker`.
pub(super) fn rejects(breaker: &str) -> bool {
    let state = read();
    state
        .rules
        .get(breaker)
        .and_then(|armed| armed.reject.as_ref())
        .is_some_and(Slot::hit)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A state of its own, so that filling it touches neither the process's rules nor
    /// [`ARMED`].
    fn empty() -> State {
        State {
            rules: HashMap::new(),
            factories: HashMap::new(),
            retired: BTreeMap::new(),
            seed: None,
            clock: Clock::system(),
        }
    }

    fn reject(name: &str) -> (String, Fault) {
        (name.to_owned(), Fault::Reject { rate: 0.0 })
    }

    #[test]
    fn the_rule_cap_counts_only_rules_not_armed_yet() {
        let mut state = empty();
        for at in 0..MAX_RULES {
            let (name, fault) = reject(&format!("unit.cap.{at}"));
            state.arm(&name, fault);
        }
        assert_eq!(state.rule_count(), MAX_RULES);
        // Replacing armed rules adds none, even many at once, or the same one twice.
        let replacing: Vec<_> = (0..10)
            .map(|at| reject(&format!("unit.cap.{at}")))
            .chain([reject("unit.cap.0")])
            .collect();
        assert_eq!(state.check(&replacing), Ok(()));
        // A new rule past the cap is refused, at its place.
        let adding = [reject("unit.cap.1"), reject("unit.cap.new")];
        assert_eq!(state.check(&adding), Err((1, ChaosError::TooManyRules)));
        // Below the cap, one new rule named twice is one rule.
        state.disarm("unit.cap.0");
        let twice = [reject("unit.cap.new"), reject("unit.cap.new")];
        assert_eq!(state.check(&twice), Ok(()));
        let two = [reject("unit.cap.new"), reject("unit.cap.other")];
        assert_eq!(state.check(&two), Err((1, ChaosError::TooManyRules)));
    }

    #[test]
    fn hits_of_replaced_and_disarmed_rules_are_kept() {
        let mut state = empty();
        let (name, fault) = reject("unit.kept");
        state.arm(&name, fault.clone());
        let armed = state.rules.get(&name).unwrap();
        armed.reject.as_ref().unwrap().hits.store(2, Relaxed);
        state.arm(&name, fault);
        state.rules[&name]
            .reject
            .as_ref()
            .unwrap()
            .hits
            .store(3, Relaxed);
        assert_eq!(state.disarm(&name), 1);
        assert_eq!(state.retired[&(name, FaultKind::Reject)], 5);
    }
}
