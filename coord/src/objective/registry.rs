//! The process-wide objectives, the operations that joined them, the clock their windows read
//! and the readiness switch.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};

use super::eval::{History, ObjectiveSnapshot, OperationCounts};
use super::{Objective, ObjectiveError};
use crate::clock::Clock;

/// How many objectives the registry holds unless [`set_max_objectives`] changed it.
pub const DEFAULT_MAX_OBJECTIVES: usize = 256;

/// How many operation names (or layer names) may join objectives; more are counted in
/// [`dropped_names`].
const MAX_JOINS: usize = 4096;

/// Who declared an objective: the file wins over the code (as for circuit breakers).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Code,
    File,
}

pub(crate) struct Entry {
    pub(crate) objective: Objective,
    source: Source,
    pub(crate) history: Mutex<History>,
}

#[derive(Default)]
struct Joins {
    /// Operation name → objective.
    exact: HashMap<Arc<str>, Arc<str>>,
    /// A tower layer's name → objective: the operation of that name and its per-route
    /// operations (`"{name} GET /route"`).
    layers: HashMap<Arc<str>, Arc<str>>,
}

static OBJECTIVES: LazyLock<RwLock<BTreeMap<String, Arc<Entry>>>> = LazyLock::new(Default::default);
static JOINS: LazyLock<RwLock<Joins>> = LazyLock::new(Default::default);
static CAP: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_OBJECTIVES);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static READINESS: AtomicBool = AtomicBool::new(false);
static CLOCK: LazyLock<RwLock<Clock>> = LazyLock::new(|| RwLock::new(Clock::system()));

pub(crate) fn declare(objective: Objective, source: Source) -> Result<(), ObjectiveError> {
    let mut all = OBJECTIVES.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(existing) = all.get(&objective.name) {
        if existing.source == Source::File && source == Source::Code {
            return Ok(());
        }
        if existing.objective == objective {
            return Ok(());
        }
    } else if all.len() >= CAP.load(Relaxed) {
        DROPPED.fetch_add(1, Relaxed);
        return Err(ObjectiveError::TooMany {
            cap: CAP.load(Relaxed),
        });
    }
    let entry = Entry {
        history: Mutex::new(History::new(now())),
        objective: objective.clone(),
        source,
    };
    all.insert(objective.name, Arc::new(entry));
    Ok(())
}

/// The file's objectives, checked: applied over any of the same name.
pub(crate) fn configure_from_file(_: &str, objective: Objective) -> Result<(), ObjectiveError> {
    declare(objective, Source::File)
}

/// The objective called `name`, as declared.
pub fn find(name: &str) -> Option<Objective> {
    OBJECTIVES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(name)
        .map(|entry| entry.objective.clone())
}

/// Every declared objective, sorted by name.
pub fn declared() -> Vec<Objective> {
    entries().iter().map(|e| e.objective.clone()).collect()
}

pub(crate) fn entries() -> Vec<Arc<Entry>> {
    OBJECTIVES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .cloned()
        .collect()
}

/// The operation `operation` joins the objective `objective` (which may be declared before or
/// after): its calls count toward it. An operation joins one objective; the last join wins.
/// `#[track_performance(objective = "..")]` joins on the function's first call.
pub fn join(operation: &str, objective: &str) {
    join_into(operation, objective, |joins| &mut joins.exact);
}

/// A tower layer named `layer` joins `objective`: its operation and its per-route operations.
#[cfg(feature = "tower")]
pub(crate) fn join_layer(layer: &str, objective: &str) {
    join_into(layer, objective, |joins| &mut joins.layers);
}

fn join_into(name: &str, objective: &str, map: fn(&mut Joins) -> &mut HashMap<Arc<str>, Arc<str>>) {
    let mut joins = JOINS.write().unwrap_or_else(PoisonError::into_inner);
    let full = joins.exact.len() + joins.layers.len() >= MAX_JOINS;
    let map = map(&mut joins);
    if full && !map.contains_key(name) {
        DROPPED.fetch_add(1, Relaxed);
        return;
    }
    map.insert(Arc::from(name), Arc::from(objective));
}

/// The objective the operation `name` joined, if any.
pub(crate) fn objective_of(joins: &JoinsView<'_>, name: &str) -> Option<Arc<str>> {
    if let Some(objective) = joins.0.exact.get(name) {
        return Some(Arc::clone(objective));
    }
    // A per-route operation is `"{layer} {METHOD} {route}"`.
    joins
        .0
        .layers
        .iter()
        .find(|(layer, _)| {
            name.strip_prefix(&***layer)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(' '))
        })
        .map(|(_, objective)| Arc::clone(objective))
}

/// A read of the joins.
pub(crate) struct JoinsView<'a>(std::sync::RwLockReadGuard<'a, Joins>);

pub(crate) fn joins() -> JoinsView<'static> {
    JoinsView(JOINS.read().unwrap_or_else(PoisonError::into_inner))
}

/// The most objectives the registry holds.
pub fn max_objectives() -> usize {
    CAP.load(Relaxed)
}

/// Sets the most objectives the registry holds (at least 1); declared ones stay.
pub fn set_max_objectives(cap: usize) {
    CAP.store(cap.max(1), Relaxed);
}

/// Declarations refused past [`max_objectives`] and joins past the joins' cap, since start or
/// the last reset.
pub fn dropped_names() -> u64 {
    DROPPED.load(Relaxed)
}

/// Whether the readiness probe (`/health/ready`) answers `503` while an objective's fast page
/// alert (burn over 1 h and 5 m) would fire. Off by default: a service that burns its budget
/// fast is usually still better in the pool than out of it; turn it on where another replica
/// can take the traffic.
pub fn set_readiness(on: bool) {
    READINESS.store(on, Relaxed);
}

/// Whether [`set_readiness`] turned the readiness input on.
pub fn readiness() -> bool {
    READINESS.load(Relaxed)
}

/// Uses `clock` for the objectives' windows (a [`FakeClock`](crate::FakeClock) in tests);
/// history taken with the previous clock is forgotten.
pub fn set_clock(clock: Clock) {
    let origin = clock.now();
    *CLOCK.write().unwrap_or_else(PoisonError::into_inner) = clock;
    for entry in entries() {
        *entry.history.lock().unwrap_or_else(PoisonError::into_inner) = History::new(origin);
    }
}

fn now() -> std::time::Instant {
    CLOCK.read().unwrap_or_else(PoisonError::into_inner).now()
}

/// Every objective's numbers now, from the operations' counts.
pub(crate) fn snapshots(operations: &[OperationCounts<'_>]) -> Vec<ObjectiveSnapshot> {
    let now = now();
    let entries = entries();
    if entries.is_empty() {
        return Vec::new();
    }
    let joins = joins();
    let mut members: HashMap<Arc<str>, Vec<&OperationCounts<'_>>> = HashMap::new();
    for op in operations {
        if let Some(objective) = objective_of(&joins, op.name) {
            members.entry(objective).or_default().push(op);
        }
    }
    drop(joins);
    entries
        .iter()
        .map(|entry| {
            let ops = members
                .get(entry.objective.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            entry.snapshot(now, ops)
        })
        .collect()
}

/// Forgets the windows' history and the dropped count; declarations and joins stay
/// (configuration).
pub(crate) fn reset_all() {
    DROPPED.store(0, Relaxed);
    let origin = now();
    for entry in entries() {
        *entry.history.lock().unwrap_or_else(PoisonError::into_inner) = History::new(origin);
    }
}
