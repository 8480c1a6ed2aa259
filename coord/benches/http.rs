//! `coord::http::serve` under load: what scraping `/metrics` in a loop does to threads
//! recording at the same time, and what one scrape of 1,000 operations costs.
//!
//! Baselines in the same run: `baseline_no_scraper` (the recorders alone) and
//! `baseline_to_prometheus` (the same exposition built in-process, without HTTP).

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use coord::__private::OperationSite;
use coord::perf::Outcome;
use criterion::{Criterion, criterion_group, criterion_main};

/// The longest a background scraper runs, whatever happens.
const SCRAPER_LIMIT: Duration = Duration::from_secs(120);
/// The most scrapes a background scraper sends.
const MAX_SCRAPES: u32 = 1_000_000;

fn populate() {
    for i in 0..1_000u64 {
        let op = coord::monitor().operation(&format!("bench.http.op.{i:04}"));
        for n in 0..200u64 {
            let outcome = if n % 17 == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            op.record(Duration::from_micros(20 + (n * 37 + i) % 5_000), outcome);
        }
    }
}

/// One `GET /metrics`; returns the body length.
fn scrape(addr: SocketAddr) -> usize {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n");
    let mut body = Vec::with_capacity(4 << 20);
    let _ = stream.read_to_end(&mut body);
    body.len()
}

fn scrape_1000_operations(c: &mut Criterion) {
    populate();
    let server = coord::http::serve("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = server.local_addr();
    assert!(
        scrape(addr) > 1_000 * 25 * 40,
        "a scrape holds every bucket"
    );
    let mut group = c.benchmark_group("http/scrape_1000_operations");
    group.sample_size(20);
    group.bench_function("baseline_to_prometheus", |b| {
        b.iter(|| black_box(coord::report().to_prometheus()))
    });
    group.bench_function("get_metrics", |b| b.iter(|| black_box(scrape(addr))));
    group.finish();
    server.shutdown();
}

static SITE: OperationSite = OperationSite::new("bench.http.recorder");

/// CPU time of the calling thread (Linux `schedstat`), or `None` elsewhere.
fn thread_cpu() -> Option<Duration> {
    std::thread::yield_now();
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    Some(Duration::from_nanos(
        text.split_whitespace().next()?.parse().ok()?,
    ))
}

/// One recorder thread records `iters` calls while, optionally, another thread scrapes
/// `/metrics` in a loop; returns the recorder's CPU time (wall time where there is no
/// per-thread CPU clock), so that on a 2-core machine the scraper's and the server's share of
/// the cores is not counted against the recorder.
fn recorder(iters: u64, scrape_from: Option<SocketAddr>) -> Duration {
    let batch = iters.max(200_000);
    let done = Arc::new(AtomicBool::new(false));
    let scraper = scrape_from.map(|addr| {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let started = Instant::now();
            for _ in 0..MAX_SCRAPES {
                if done.load(Ordering::Relaxed) || started.elapsed() > SCRAPER_LIMIT {
                    break;
                }
                black_box(scrape(addr));
            }
        })
    });
    let spent = std::thread::spawn(move || {
        let (wall, cpu) = (Instant::now(), thread_cpu());
        for _ in 0..batch {
            SITE.start().finish(false);
        }
        match (cpu, thread_cpu()) {
            (Some(before), Some(after)) => after.saturating_sub(before),
            _ => wall.elapsed(),
        }
    })
    .join()
    .unwrap_or_default();
    done.store(true, Ordering::Relaxed);
    if let Some(scraper) = scraper {
        let _ = scraper.join();
    }
    Duration::from_secs_f64(spent.as_secs_f64() * iters as f64 / batch as f64)
}

fn recorders_while_scraped(c: &mut Criterion) {
    let server = coord::http::serve("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = server.local_addr();
    let mut group = c.benchmark_group("http/recorder_per_call_cpu");
    group.sample_size(20);
    group.bench_function("baseline_no_scraper", |b| {
        b.iter_custom(|iters| recorder(iters, None))
    });
    group.bench_function("metrics_scraped_in_a_loop", |b| {
        b.iter_custom(|iters| recorder(iters, Some(addr)))
    });
    group.finish();
    server.shutdown();
}

criterion_group!(benches, scrape_1000_operations, recorders_while_scraped);
criterion_main!(benches);
