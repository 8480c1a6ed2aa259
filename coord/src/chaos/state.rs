//! The rules armed, the factories registered and the counts, behind one lock that a call takes
//! only while some rule is armed ([`ARMED`] says so with one relaxed load).

use std::any::Any;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use super::{
    ChaosCount, ChaosError, ChaosRule, Fault, FaultKind, Latency, MAX_FACTORIES, MAX_RULES,
    check_name,
};
use crate::clock::Clock;
use crate::rng::Rng;

/// Whether any rule is armed anywhere: the one load a call pays while none is.
pub(super) static ARMED: AtomicBool = AtomicBool::new(false);

/// The most names counted; injections on names past it are counted on the overflow name.
const MAX_COUNTED: usize = 4 * MAX_RULES;

/// A registered factory: a `Make<E>` behind `Any`, found again by downcasting to the error
/// type of the call that asks.
struct Factory {
    make: Arc<dyn Any + Send + Sync>,
}

type Make<E> = Box<dyn Fn() -> E + Send + Sync>;

/// The faults armed on one name, at most one of each kind.
#[derive(Default)]
struct Armed {
    error: Option<f64>,
    latency: Option<(f64, Latency)>,
    reject: Option<f64>,
}

impl Armed {
    fn count(&self) -> usize {
        usize::from(self.error.is_some())
            + usize::from(self.latency.is_some())
            + usize::from(self.reject.is_some())
    }
}

struct State {
    rules: HashMap<String, Armed>,
    factories: HashMap<String, Factory>,
    counts: BTreeMap<(String, FaultKind), u64>,
    rng: Rng,
    clock: Clock,
}

static STATE: LazyLock<Mutex<State>> = LazyLock::new(|| {
    Mutex::new(State {
        rules: HashMap::new(),
        factories: HashMap::new(),
        counts: BTreeMap::new(),
        rng: Rng::new(),
        clock: Clock::system(),
    })
});

fn state() -> MutexGuard<'static, State> {
    crate::locks::lock(&STATE)
}

impl State {
    fn rule_count(&self) -> usize {
        self.rules.values().map(Armed::count).sum()
    }

    /// Keeps [`ARMED`] in step with the rules.
    fn publish(&self) {
        ARMED.store(!self.rules.is_empty(), Relaxed);
    }

    /// Draws whether a fault of `rate` hits, and counts it when it does.
    fn hit(&mut self, name: &str, kind: FaultKind, rate: f64) -> bool {
        if !self.rng.chance(rate) {
            return false;
        }
        let key = if self.counts.len() >= MAX_COUNTED
            && !self.counts.contains_key(&(name.to_owned(), kind))
        {
            (crate::capped::OVERFLOW_NAME.to_owned(), kind)
        } else {
            (name.to_owned(), kind)
        };
        *self.counts.entry(key).or_insert(0) += 1;
        true
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
    let mut state = state();
    if state.factories.len() >= MAX_FACTORIES && !state.factories.contains_key(operation) {
        return Err(ChaosError::TooManyFactories);
    }
    state.factories.insert(
        operation.to_owned(),
        Factory {
            make: Arc::new(make),
        },
    );
    Ok(())
}

/// Arms `fault` on `name` (an operation's name for an error or a latency, a breaker's for a
/// rejection), replacing a fault of the same kind armed there. An error fault needs a factory
/// registered for the operation ([`register_error`], or [`error`](super::error) which does
/// both).
pub fn arm(name: &str, fault: Fault) -> Result<(), ChaosError> {
    fault.check(name)?;
    let mut state = state();
    check_arm(&state, name, &fault, 1)?;
    arm_checked(&mut state, name, fault);
    Ok(())
}

/// Checks every `(name, fault)` as [`arm`] would, arming none: the index of the first refused
/// and why.
pub(crate) fn check_all(rules: &[(String, Fault)]) -> Result<(), (usize, ChaosError)> {
    let state = state();
    check_locked(&state, rules)
}

fn check_locked(state: &State, rules: &[(String, Fault)]) -> Result<(), (usize, ChaosError)> {
    for (at, (name, fault)) in rules.iter().enumerate() {
        fault
            .check(name)
            .and_then(|()| check_arm(state, name, fault, rules.len()))
            .map_err(|error| (at, error))?;
    }
    Ok(())
}

/// Arms every `(name, fault)`, or none when one is refused (the index of the first refused and
/// why).
pub(crate) fn arm_all(rules: Vec<(String, Fault)>) -> Result<(), (usize, ChaosError)> {
    let mut state = state();
    check_locked(&state, &rules)?;
    for (name, fault) in rules {
        arm_checked(&mut state, &name, fault);
    }
    Ok(())
}

/// Whether `fault` may be armed on `name` with `adding` rules armed at once.
fn check_arm(state: &State, name: &str, fault: &Fault, adding: usize) -> Result<(), ChaosError> {
    if matches!(fault, Fault::Error { .. }) && !state.factories.contains_key(name) {
        return Err(ChaosError::NoFactory {
            name: name.to_owned(),
        });
    }
    if state.rule_count().saturating_add(adding) > MAX_RULES {
        return Err(ChaosError::TooManyRules);
    }
    Ok(())
}

fn arm_checked(state: &mut State, name: &str, fault: Fault) {
    let armed = state.rules.entry(name.to_owned()).or_default();
    match fault {
        Fault::Error { rate } => armed.error = Some(rate),
        Fault::Latency { rate, latency } => armed.latency = Some((rate, latency)),
        Fault::Reject { rate } => armed.reject = Some(rate),
    }
    state.publish();
}

/// Disarms every fault armed on `name`; returns how many were.
pub fn disarm(name: &str) -> usize {
    let mut state = state();
    let removed = state.rules.remove(name).map_or(0, |armed| armed.count());
    state.publish();
    removed
}

/// Disarms every fault; returns how many were armed.
pub fn disarm_all() -> usize {
    let mut state = state();
    let removed = state.rule_count();
    state.rules.clear();
    state.publish();
    removed
}

/// Every armed rule, sorted by name, then kind.
pub fn rules() -> Vec<ChaosRule> {
    let state = state();
    let mut rules = Vec::with_capacity(state.rule_count());
    for (name, armed) in &state.rules {
        let rule = |kind, rate, latency| ChaosRule {
            name: name.clone(),
            kind,
            rate,
            latency,
        };
        if let Some(rate) = armed.error {
            rules.push(rule(FaultKind::Error, rate, None));
        }
        if let Some((rate, latency)) = &armed.latency {
            rules.push(rule(FaultKind::Latency, *rate, Some(latency.clone())));
        }
        if let Some(rate) = armed.reject {
            rules.push(rule(FaultKind::Reject, rate, None));
        }
    }
    rules.sort_by(|a, b| (&a.name, a.kind).cmp(&(&b.name, b.kind)));
    rules
}

/// Faults injected since start or the last [`crate::reset`], by name, then kind.
pub fn injected() -> Vec<ChaosCount> {
    state()
        .counts
        .iter()
        .map(|((name, kind), injected)| ChaosCount {
            name: name.clone(),
            kind: *kind,
            injected: *injected,
        })
        .collect()
}

/// Seeds the generator that draws which calls a fault hits, and injected latencies: the same
/// seed and the same calls in the same order draw the same faults.
pub fn set_seed(seed: u64) {
    state().rng = Rng::seeded(seed);
}

/// Injected latencies wait on `clock` (default: the system clock; a test's
/// `Clock::from(&fake)`, or `Clock::tokio()` under tokio's paused time).
pub fn set_clock(clock: impl Into<Clock>) {
    state().clock = clock.into();
}

/// Disarms every rule and zeroes the counts, for [`crate::reset`]; factories, seed and clock
/// stay.
pub(crate) fn reset_all() {
    let mut state = state();
    state.rules.clear();
    state.counts.clear();
    state.publish();
}

/// The latency injected into this call of `operation`, drawn now, and the clock to wait on.
pub(super) fn latency_for(operation: &str) -> Option<(Duration, Clock)> {
    let mut state = state();
    let (rate, latency) = state.rules.get(operation)?.latency.clone()?;
    if !state.hit(operation, FaultKind::Latency, rate) {
        return None;
    }
    let delay = latency.draw(&mut state.rng);
    Some((delay, state.clock.clone()))
}

/// The error injected into this call of `operation`, when an error fault hits it and its
/// factory makes an `E`.
pub(super) fn error_for<E: 'static>(operation: &str) -> Option<E> {
    let make = {
        let mut state = state();
        let rate = state.rules.get(operation)?.error?;
        let make = Arc::clone(&state.factories.get(operation)?.make)
            .downcast::<Make<E>>()
            .ok()?;
        if !state.hit(operation, FaultKind::Error, rate) {
            return None;
        }
        make
    };
    // Outside the lock: the factory is the user's code.
    Some(make())
}

/// Whether a rejection fault hits this call through the breaker `breaker`.
pub(super) fn rejects(breaker: &str) -> bool {
    let mut state = state();
    let Some(rate) = state.rules.get(breaker).and_then(|armed| armed.reject) else {
        return false;
    };
    state.hit(breaker, FaultKind::Reject, rate)
}
