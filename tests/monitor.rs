//! The performance monitor through its public API: start/stop, the sample ring, the rolling
//! windows on an injected clock, and the health score's monotonicity.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use coord::perf::{HealthInputs, Outcome};
use coord::{
    FakeClock, HealthStatus, HealthThresholds, MonitorConfig, MonitorConfigError,
    PerformanceMonitor, SystemHealth,
};
use proptest::prelude::*;

/// Tests that start sampler threads run one at a time, so that counting `coord-monitor` threads
/// means something.
static THREADS: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    THREADS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Threads of this process named `coord-monitor` (Linux only; `None` elsewhere).
fn monitor_threads() -> Option<usize> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    Some(
        tasks
            .filter_map(Result::ok)
            .filter(|task| {
                std::fs::read_to_string(task.path().join("comm"))
                    .is_ok_and(|comm| comm.trim() == "coord-monitor")
            })
            .count(),
    )
}

/// Waits (up to 5 s) until `monitor_threads()` is `n`, and returns what it last saw: a thread
/// names itself only once it runs, and leaves `/proc` a moment after it is joined.
fn settle_threads(n: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let seen = monitor_threads().unwrap_or(n);
        if seen == n || Instant::now() > deadline {
            return seen;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Stops `monitor`, which then says it is inactive and leaves no sampler thread behind.
fn stop_leaves_no_thread(monitor: &PerformanceMonitor) {
    monitor.stop();
    assert!(!monitor.is_active());
    assert_eq!(settle_threads(0), 0);
}

#[test]
fn start_twice_stop_twice_and_stop_without_start_are_harmless() {
    let _serial = serial();
    let monitor = PerformanceMonitor::new();
    monitor.stop();
    assert!(!monitor.is_active());
    monitor.start();
    monitor.start();
    assert!(monitor.is_active());
    assert_eq!(
        settle_threads(1),
        1,
        "one sampler thread, named coord-monitor"
    );
    monitor.stop();
    monitor.stop();
    assert!(!monitor.is_active());
    // Start after stop works.
    monitor.start();
    assert!(monitor.is_active());
    stop_leaves_no_thread(&monitor);
}

#[test]
fn a_hundred_start_stop_cycles_leave_no_thread_behind() {
    let _serial = serial();
    let monitor = PerformanceMonitor::new();
    for _ in 0..100 {
        monitor.start();
        assert!(monitor.is_active());
        monitor.stop();
        assert!(!monitor.is_active());
    }
    assert_eq!(settle_threads(0), 0);
}

#[test]
fn racing_starts_and_stops_from_many_threads_settle() {
    let _serial = serial();
    let monitor = Arc::new(PerformanceMonitor::new());
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let monitor = Arc::clone(&monitor);
            std::thread::spawn(move || {
                for j in 0..50 {
                    if (i + j) % 2 == 0 {
                        monitor.start();
                    } else {
                        monitor.stop();
                    }
                    let _ = monitor.is_active();
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    stop_leaves_no_thread(&monitor);
}

#[test]
fn dropping_a_running_monitor_stops_its_thread() {
    let _serial = serial();
    let monitor = PerformanceMonitor::new();
    monitor.start();
    drop(monitor);
    assert_eq!(settle_threads(0), 0);
}

#[test]
fn stop_does_not_wait_for_the_interval() {
    let _serial = serial();
    let monitor = PerformanceMonitor::new();
    monitor
        .configure(MonitorConfig::default().collection_interval(Duration::from_secs(30)))
        .unwrap();
    monitor.start();
    std::thread::sleep(Duration::from_millis(50));
    let started = Instant::now();
    monitor.stop();
    let took = started.elapsed();
    println!("stop() took {took:?} with a 30 s interval");
    // Generous on purpose: a loaded CI box must not flake; the real figure is printed above.
    assert!(took < Duration::from_secs(1), "stop() took {took:?}");
}

#[test]
fn the_sampler_thread_fills_the_history() {
    let _serial = serial();
    let monitor = PerformanceMonitor::new();
    monitor
        .configure(MonitorConfig::default().collection_interval(Duration::from_millis(200)))
        .unwrap();
    monitor.start();
    let deadline = Instant::now() + Duration::from_secs(10);
    while monitor.history().len() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    monitor.stop();
    assert!(monitor.history().len() >= 2);
}

#[test]
fn without_the_thread_health_reads_the_host_again_once_a_sample_is_older_than_the_interval() {
    let monitor = PerformanceMonitor::new();
    monitor
        .configure(MonitorConfig::default().collection_interval(Duration::from_millis(200)))
        .unwrap();
    monitor.record_system_health();
    let _ = monitor.system_health();
    assert_eq!(
        monitor.history().len(),
        1,
        "a fresh sample is used as it is"
    );
    std::thread::sleep(Duration::from_millis(210));
    let _ = monitor.system_health();
    let history = monitor.history();
    assert_eq!(history.len(), 2, "a stale one is read again");
    assert!(history[1].timestamp > history[0].timestamp);
}

#[test]
fn the_history_never_exceeds_max_data_points() {
    let monitor = PerformanceMonitor::new();
    monitor
        .configure(MonitorConfig::default().max_data_points(5))
        .unwrap();
    for i in 1..=12 {
        monitor.record_system_health();
        assert_eq!(monitor.history().len(), i.min(5));
    }
    let history = monitor.history();
    assert!(
        history
            .windows(2)
            .all(|pair| pair[0].timestamp <= pair[1].timestamp),
        "oldest first"
    );
    // Shrinking the bound drops the oldest samples at once.
    let newest = history.last().cloned();
    monitor
        .configure(MonitorConfig::default().max_data_points(2))
        .unwrap();
    assert_eq!(monitor.history().len(), 2);
    assert_eq!(monitor.history().last().cloned(), newest);
}

#[test]
fn a_sample_reads_the_host_and_the_process() {
    let sample = PerformanceMonitor::new().record_system_health();
    assert!((0.0..=100.0).contains(&sample.cpu_usage), "{sample:?}");
    assert!((0.0..=100.0).contains(&sample.memory_usage), "{sample:?}");
    assert!(sample.process_cpu_usage >= 0.0, "{sample:?}");
    if cfg!(target_os = "linux") {
        assert!(sample.total_memory > 0, "{sample:?}");
        assert!(sample.used_memory <= sample.total_memory, "{sample:?}");
        assert!(sample.process_memory > 0, "{sample:?}");
    }
}

#[test]
fn configure_rejects_nonsense_with_a_typed_error() {
    let monitor = PerformanceMonitor::new();
    assert_eq!(
        monitor.configure(MonitorConfig::default().max_data_points(0)),
        Err(MonitorConfigError::ZeroDataPoints)
    );
    let too_short = monitor
        .configure(MonitorConfig::default().collection_interval(Duration::from_millis(199)))
        .unwrap_err();
    assert_eq!(
        too_short,
        MonitorConfigError::IntervalTooShort {
            interval: Duration::from_millis(199),
            minimum: Duration::from_millis(200),
        }
    );
    assert!(too_short.to_string().contains("199ms"), "{too_short}");
    let inverted = monitor
        .configure(MonitorConfig::default().thresholds(HealthThresholds::default().cpu(95.0, 90.0)))
        .unwrap_err();
    assert_eq!(
        inverted,
        MonitorConfigError::InvalidThreshold { name: "cpu" }
    );
    assert!(inverted.to_string().contains("`cpu`"), "{inverted}");
    assert_eq!(
        monitor.configure(MonitorConfig::default().latency_objective(Duration::ZERO)),
        Err(MonitorConfigError::InvalidThreshold {
            name: "latency_objective"
        })
    );
    // A rejected config leaves the previous one in force.
    assert_eq!(monitor.config(), MonitorConfig::default());
    let accepted = MonitorConfig::default()
        .collection_interval(Duration::from_millis(200))
        .max_data_points(1);
    monitor.configure(accepted.clone()).unwrap();
    assert_eq!(monitor.config(), accepted);
}

#[test]
fn the_10s_window_forgets_calls_older_than_10s() {
    let clock = FakeClock::new();
    let monitor = PerformanceMonitor::with_clock(clock.clone());
    let name = "monitor_test.window_forgets";
    let op = monitor.operation_handle(name);
    let tick = |secs: u64| {
        for _ in 0..secs {
            clock.advance(Duration::from_secs(1));
            monitor.roll_windows();
        }
    };
    let window = |span: u64| {
        let report = monitor.performance_report();
        let stats = report.find(name).unwrap();
        match span {
            10 => stats.last_10s.clone(),
            _ => stats.last_60s.clone(),
        }
    };

    op.record(Duration::from_millis(1), Outcome::Success);
    assert_eq!(window(10), None, "no checkpoint yet: no window");

    monitor.roll_windows(); // t = 0
    for _ in 0..4 {
        op.record(Duration::from_millis(1), Outcome::Success);
    }
    op.record(Duration::from_millis(1), Outcome::Failure);
    tick(5); // t = 5
    for _ in 0..3 {
        op.record(Duration::from_millis(100), Outcome::Success);
    }
    tick(5); // t = 10: nothing is older than 10 s yet
    let w = window(10).unwrap();
    assert_eq!((w.calls, w.failures), (8, 1));
    assert_eq!(w.span, Duration::from_secs(10));

    clock.advance(Duration::from_millis(500)); // t = 10.5: the calls at t = 0 are 10.5 s old
    let short = window(10).unwrap();
    assert_eq!((short.calls, short.failures, short.error_rate), (3, 0, 0.0));
    assert!(short.span <= Duration::from_secs(10));
    assert!(short.p50 >= Duration::from_millis(98) && short.p50 <= Duration::from_millis(102));
    let long = window(60).unwrap();
    assert_eq!((long.calls, long.failures), (8, 1));
    assert!((long.error_rate - 1.0 / 8.0).abs() < 1e-12);
    assert!((long.call_rate - 8.0 / 10.5).abs() < 1e-9);

    tick(6); // t = 16.5: the calls at t = 5 are 11.5 s old
    assert_eq!(window(10).unwrap().calls, 0);
    assert_eq!(window(60).unwrap().calls, 8);

    tick(60); // t = 76.5: everything is older than 60 s
    assert_eq!(window(60).unwrap().calls, 0);
    // Cumulative stats are untouched by the windows.
    assert_eq!(monitor.performance_report().find(name).unwrap().calls, 9);

    // Stop rolling and the windows go stale, then disappear rather than lie.
    clock.advance(Duration::from_secs(61));
    assert_eq!(window(10), None);
    assert_eq!(window(60), None);
}

#[test]
fn an_operation_created_after_the_last_checkpoint_is_in_the_windows() {
    let clock = FakeClock::new();
    let monitor = PerformanceMonitor::with_clock(clock.clone());
    monitor.roll_windows();
    clock.advance(Duration::from_secs(2));
    let name = "monitor_test.created_late";
    let op = monitor.operation_handle(name);
    op.record(Duration::from_millis(3), Outcome::Success);
    op.record(Duration::from_millis(3), Outcome::Failure);
    let report = monitor.performance_report();
    let w = report.find(name).unwrap().last_10s.clone().unwrap();
    assert_eq!(
        (w.calls, w.failures, w.span),
        (2, 1, Duration::from_secs(2))
    );
    // Once checkpointed, later calls keep adding up from the same start.
    monitor.roll_windows();
    clock.advance(Duration::from_secs(1));
    op.record(Duration::from_millis(3), Outcome::Success);
    let report = monitor.performance_report();
    let w = report.find(name).unwrap().last_10s.clone().unwrap();
    assert_eq!((w.calls, w.span), (3, Duration::from_secs(3)));
}

#[test]
fn the_global_monitor_reports_windows_while_running() {
    let _serial = serial();
    let name = "monitor_test.global_windows";
    let op = coord::monitor().operation_handle(name);
    coord::monitor().start();
    coord::monitor().roll_windows();
    op.record(Duration::from_millis(2), Outcome::Success);
    let stats = coord::operation(name).unwrap();
    coord::monitor().stop();
    let last_10s = stats.last_10s.expect("a window while running");
    assert_eq!(last_10s.calls, 1);
    assert!(stats.last_60s.is_some());
    assert!(
        coord::monitor()
            .performance_report()
            .find(name)
            .unwrap()
            .last_10s
            .is_some()
    );
}

#[test]
fn system_health_reads_the_latest_sample_and_the_breaker_hook() {
    let monitor = PerformanceMonitor::new();
    let health = monitor.system_health();
    assert!((0.0..=100.0).contains(&health.performance_score));
    // With no sample it reads the host without waiting; the reading is kept only once CPU use
    // can be measured (200 ms after the process's first host reading).
    assert!(monitor.history().len() <= 1);
    assert_eq!(health.breakdown.open_breakers.value, 0.0);

    monitor.record_system_health();
    let kept = monitor.history().len();
    monitor.open_breakers_from(|| 2);
    let health = monitor.system_health();
    assert_eq!(health.breakdown.open_breakers.value, 2.0);
    assert!(health.breakdown.open_breakers.penalty > 0.0);
    assert!(health.health_status >= HealthStatus::Degraded);
    assert_eq!(monitor.history().len(), kept, "reused the latest sample");
}

#[test]
fn health_counts_failing_operations() {
    let clock = FakeClock::new();
    let monitor = PerformanceMonitor::with_clock(clock);
    monitor
        .configure(
            MonitorConfig::default().thresholds(
                // CPU and memory of the test machine must not decide this test.
                HealthThresholds::default()
                    .cpu(100.0, 100.0)
                    .memory(100.0, 100.0),
            ),
        )
        .unwrap();
    let op = monitor.operation_handle("monitor_test.health_failures");
    monitor.roll_windows();
    for _ in 0..10 {
        op.record(Duration::from_secs(3), Outcome::Failure);
    }
    let health = monitor.system_health();
    // Other tests of this binary record calls at the same time; ours dominate the error rate.
    assert!(health.breakdown.error_rate.value >= 0.5);
    assert_eq!(health.breakdown.error_rate.status, HealthStatus::Unhealthy);
    assert!(health.breakdown.latency.value >= 6.0 - 0.2);
    assert_eq!(health.health_status, HealthStatus::Unhealthy);
}

fn inputs() -> impl Strategy<Value = HealthInputs> {
    (
        0.0..=100.0f64,
        0.0..=100.0f64,
        0.0..=1.0f64,
        0u64..10_000,
        0usize..10,
    )
        .prop_map(|(cpu, memory, errors, latency_ms, breakers)| {
            HealthInputs::new()
                .cpu_usage(cpu)
                .memory_usage(memory)
                .error_rate(errors)
                .p99_latency(Duration::from_millis(latency_ms))
                .open_breakers(breakers)
        })
}

fn thresholds() -> impl Strategy<Value = HealthThresholds> {
    (
        (0.0..=100.0f64, 0.0..=100.0f64),
        (0.0..=100.0f64, 0.0..=100.0f64),
        (0.0..=1.0f64, 0.0..=1.0f64),
        1u64..5_000,
        1usize..10,
    )
        .prop_map(|(cpu, memory, errors, objective_ms, breakers)| {
            let ordered = |(a, b): (f64, f64)| (a.min(b), a.max(b));
            let (cpu, memory, errors) = (ordered(cpu), ordered(memory), ordered(errors));
            HealthThresholds::default()
                .cpu(cpu.0, cpu.1)
                .memory(memory.0, memory.1)
                .error_rate(errors.0, errors.1)
                .latency_objective(Duration::from_millis(objective_ms))
                .open_breakers_unhealthy(breakers)
        })
}

/// `inputs` with one of them made worse by `amount` (in that input's own unit, scaled).
fn worsen(inputs: &HealthInputs, which: usize, amount: f64) -> HealthInputs {
    let (cpu, memory, errors) = (inputs.cpu_usage, inputs.memory_usage, inputs.error_rate);
    let (latency, breakers) = (inputs.p99_latency, inputs.open_breakers);
    let i = inputs.clone();
    match which {
        0 => i.cpu_usage((cpu + amount * 100.0).min(100.0)),
        1 => i.memory_usage((memory + amount * 100.0).min(100.0)),
        2 => i.error_rate((errors + amount).min(1.0)),
        3 => i.p99_latency(latency + Duration::from_secs_f64(amount * 10.0)),
        _ => i.open_breakers(breakers + (amount * 10.0) as usize),
    }
}

proptest! {
    #[test]
    fn the_score_never_rises_when_an_input_worsens(
        base in inputs(),
        thresholds in thresholds(),
        which in 0usize..5,
        amount in 0.0..=1.0f64,
    ) {
        let before = SystemHealth::assess(&base, &thresholds);
        let after = SystemHealth::assess(&worsen(&base, which, amount), &thresholds);
        prop_assert!((0.0..=100.0).contains(&before.performance_score));
        prop_assert!((0.0..=100.0).contains(&after.performance_score));
        prop_assert!(after.performance_score <= before.performance_score,
            "{} -> {}", before.performance_score, after.performance_score);
        prop_assert!(after.health_status >= before.health_status);
        let penalties: f64 = after.breakdown.iter().map(|(_, c)| c.penalty).sum();
        prop_assert!((100.0 - penalties - after.performance_score).abs() < 1e-9,
            "the breakdown explains the score");
    }

    #[test]
    fn worsening_every_input_at_once_never_raises_the_score(
        base in inputs(),
        thresholds in thresholds(),
        amounts in proptest::array::uniform5(0.0..=1.0f64),
    ) {
        let mut worse = base.clone();
        for (which, amount) in amounts.iter().enumerate() {
            worse = worsen(&worse, which, *amount);
        }
        let before = SystemHealth::assess(&base, &thresholds);
        let after = SystemHealth::assess(&worse, &thresholds);
        prop_assert!(after.performance_score <= before.performance_score);
        prop_assert!(after.health_status >= before.health_status);
    }
}

/// CPU time (user + system, in clock ticks) of thread `tid` of this process.
fn thread_cpu_ticks(tid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/self/task/{tid}/stat")).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Nanoseconds thread `tid` spent on a CPU, from `schedstat` (finer than the ticks of `stat`).
fn thread_cpu_nanos(tid: &str) -> Option<u64> {
    let schedstat = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    schedstat.split_whitespace().next()?.parse().ok()
}

fn monitor_tid() -> Option<String> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .filter_map(Result::ok)
        .find(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.trim() == "coord-monitor")
        })
        .map(|task| task.file_name().to_string_lossy().into_owned())
}

/// Prints the sampler thread's CPU use over 60 s at a 1 s interval, with 20 operations to roll.
/// Run with `cargo test --release --test monitor -- --ignored --nocapture sampler_cpu`.
#[test]
#[ignore = "takes 60 s; a measurement, not a check"]
fn sampler_cpu_use_over_60s_at_1hz() {
    let _serial = serial();
    for i in 0..20 {
        let op = coord::monitor().operation_handle(&format!("monitor_test.cpu.{i}"));
        for n in 0..1000u64 {
            op.record(Duration::from_micros(100 + n), Outcome::Success);
        }
    }
    let monitor = PerformanceMonitor::new();
    monitor
        .configure(MonitorConfig::default().collection_interval(Duration::from_secs(1)))
        .unwrap();
    monitor.start();
    settle_threads(1);
    let Some(tid) = monitor_tid() else {
        println!("no /proc/self/task: cannot measure here");
        return;
    };
    let before = thread_cpu_ticks(&tid).unwrap_or(0);
    let before_ns = thread_cpu_nanos(&tid);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(60));
    let after = thread_cpu_ticks(&tid).unwrap_or(0);
    let after_ns = thread_cpu_nanos(&tid);
    let wall = started.elapsed();
    monitor.stop();
    // USER_HZ is 100 on every Linux we target.
    let cpu = Duration::from_millis((after - before) * 10);
    println!(
        "sampler thread: {cpu:?} CPU over {wall:.1?} = {:.3} % of one core ({} samples)",
        cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        monitor.history().len()
    );
    if let (Some(before), Some(after)) = (before_ns, after_ns) {
        let cpu = Duration::from_nanos(after - before);
        println!(
            "schedstat: {cpu:?} on CPU = {:.4} % of one core, {:?} per tick",
            cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
            cpu / 60
        );
    }
}
