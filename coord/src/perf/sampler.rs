//! Reading the host: one `sysinfo::System` per process, refreshed selectively.

use std::sync::Mutex;
use std::time::{Instant, SystemTime};

use sysinfo::{
    CpuRefreshKind, MINIMUM_CPU_UPDATE_INTERVAL, MemoryRefreshKind, Pid, ProcessRefreshKind,
    ProcessesToUpdate, System,
};

/// One reading of the host and of this process.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SystemSample {
    /// When the reading was taken.
    pub timestamp: SystemTime,
    /// CPU use of the whole machine, in % of all cores (0..=100).
    pub cpu_usage: f64,
    /// Memory in use on the machine (total minus available), in % of total (0..=100).
    pub memory_usage: f64,
    /// CPU use of this process since the previous reading, in % of one core (can exceed 100 on
    /// several cores).
    pub process_cpu_usage: f64,
    /// Resident memory of this process, in bytes.
    pub process_memory: u64,
    /// Memory in use on the machine, in bytes.
    pub used_memory: u64,
    /// Total memory of the machine, in bytes.
    pub total_memory: u64,
    /// Cores this process may use (`std::thread::available_parallelism`: CPU affinity and
    /// the cgroup's CPU quota included).
    pub cores: usize,
    /// Memory this process may use, in bytes: its cgroup's limit when there is one below the
    /// machine's memory, else the machine's memory.
    pub memory_limit: u64,
}

impl SystemSample {
    /// This process's CPU use in % of the cores it may use (0..=100): what the health score
    /// counts.
    pub fn process_cpu_share(&self) -> f64 {
        (self.process_cpu_usage / self.cores.max(1) as f64).clamp(0.0, 100.0)
    }

    /// This process's resident memory in % of the memory it may use (0..=100).
    pub fn process_memory_share(&self) -> f64 {
        if self.memory_limit == 0 {
            0.0
        } else {
            (self.process_memory as f64 / self.memory_limit as f64 * 100.0).clamp(0.0, 100.0)
        }
    }
}

struct Probe {
    system: System,
    pid: Option<Pid>,
    /// Read once: it reads the cgroup's files, and a process's quota rarely changes.
    cores: usize,
    /// When the CPU times were first read: a usage needs two readings at least
    /// [`MINIMUM_CPU_UPDATE_INTERVAL`] apart, so the first one is only a baseline.
    primed_at: Instant,
}

impl Probe {
    fn new() -> Self {
        let mut probe = Self {
            system: System::new(),
            pid: sysinfo::get_current_pid().ok(),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            primed_at: Instant::now(),
        };
        // The baseline reading; its CPU figures are meaningless and never reported.
        probe.refresh(true);
        probe.primed_at = Instant::now();
        probe
    }

    /// Reads memory, and CPU times when `cpu` (a CPU reading restarts sysinfo's interval, so
    /// one taken too early would spoil the next).
    fn refresh(&mut self, cpu: bool) {
        if cpu {
            self.system
                .refresh_cpu_specifics(CpuRefreshKind::nothing().with_cpu_usage());
        }
        self.system
            .refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
        if let Some(pid) = self.pid {
            let kind = ProcessRefreshKind::nothing().with_memory();
            let kind = if cpu { kind.with_cpu() } else { kind };
            self.system
                .refresh_processes_specifics(ProcessesToUpdate::Some(&[pid]), false, kind);
        }
    }

    fn sample(&mut self) -> SystemSample {
        self.sample_with_cpu(true)
    }

    /// A reading; without `cpu`, the CPU figures read 0 (not measured).
    fn sample_with_cpu(&mut self, cpu: bool) -> SystemSample {
        self.refresh(cpu);
        let total = self.system.total_memory();
        // `available` counts reclaimable caches as free, which is what "in use" means to a person.
        let used = total.saturating_sub(self.system.available_memory());
        let process = self.pid.and_then(|pid| self.system.process(pid));
        // A cgroup without a limit reports the machine's memory (or more); keep the smaller.
        let memory_limit = self
            .system
            .cgroup_limits()
            .map_or(total, |limits| limits.total_memory.min(total))
            .max(1);
        SystemSample {
            timestamp: SystemTime::now(),
            cpu_usage: if cpu {
                f64::from(self.system.global_cpu_usage()).clamp(0.0, 100.0)
            } else {
                0.0
            },
            memory_usage: if total == 0 {
                0.0
            } else {
                (used as f64 / total as f64 * 100.0).clamp(0.0, 100.0)
            },
            process_cpu_usage: if cpu {
                process.map_or(0.0, |p| f64::from(p.cpu_usage()).max(0.0))
            } else {
                0.0
            },
            process_memory: process.map_or(0, |p| p.memory()),
            used_memory: used,
            total_memory: total,
            cores: self.cores,
            memory_limit: if total == 0 { 0 } else { memory_limit },
        }
    }
}

/// The process-wide probe, created (and primed) on first use.
static PROBE: Mutex<Option<Probe>> = Mutex::new(None);

/// Creates and primes the probe if that has not happened yet. Cheap afterwards.
pub(crate) fn prime() {
    let mut probe = crate::locks::lock(&PROBE);
    if probe.is_none() {
        *probe = Some(Probe::new());
    }
}

/// How long until the probe can report a real CPU figure (zero once it can).
pub(crate) fn time_to_ready() -> std::time::Duration {
    let probe = crate::locks::lock(&PROBE);
    probe.as_ref().map_or(MINIMUM_CPU_UPDATE_INTERVAL, |p| {
        MINIMUM_CPU_UPDATE_INTERVAL.saturating_sub(p.primed_at.elapsed())
    })
}

/// Takes a reading now. Right after the probe was primed this first waits out the rest of
/// sysinfo's minimum CPU interval (200 ms), without holding the probe's lock.
pub(crate) fn sample_blocking() -> SystemSample {
    prime();
    let wait = time_to_ready();
    if !wait.is_zero() {
        std::thread::sleep(wait);
    }
    sample_with(|probe| probe.sample())
}

/// Takes a reading now, or returns `None` if the probe cannot report CPU use yet.
pub(crate) fn sample_if_ready() -> Option<SystemSample> {
    prime();
    if !time_to_ready().is_zero() {
        return None;
    }
    Some(sample_with(|probe| probe.sample()))
}

/// Takes a reading now without ever waiting: `(sample, true)` once the probe can report CPU
/// use; within its first 200 ms, `(sample, false)` with real memory figures and CPU figures of 0
/// (not yet measured).
pub(crate) fn sample_now() -> (SystemSample, bool) {
    prime();
    let ready = time_to_ready().is_zero();
    (sample_with(|probe| probe.sample_with_cpu(ready)), ready)
}

fn sample_with(read: impl FnOnce(&mut Probe) -> SystemSample) -> SystemSample {
    let mut guard = crate::locks::lock(&PROBE);
    let probe = guard.get_or_insert_with(Probe::new);
    read(probe)
}
