//! `coord::http::serve` under load: what scraping `/metrics` in a loop does to threads
//! recording at the same time, and what one scrape of 1,000 operations costs.
//!
//! Baselines in the same run: `baseline_no_scraper` (the recorders alone) and
//! `baseline_to_prometheus` (the same exposition built in-process, without HTTP).

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use coord::__private::OperationSite;
use criterion::{Criterion, criterion_group, criterion_main};
use support::recorder_beside_reader;

mod support;

/// The longest a background scraper runs, whatever happens.
const SCRAPER_LIMIT: Duration = Duration::from_secs(120);
/// The most scrapes a background scraper sends.
const MAX_SCRAPES: u32 = 1_000_000;

/// One `GET /metrics`; returns the body length.
fn scrape(addr: SocketAddr) -> usize {
    let Ok(mut stream) = TcpStream::connect(addr) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ =
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let mut body = Vec::with_capacity(4 << 20);
    let _ = stream.read_to_end(&mut body);
    body.len()
}

fn scrape_1000_operations(c: &mut Criterion) {
    support::populate_operations("bench.http.op");
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

/// A background scraper of `addr`: one `GET /metrics` a pass, stopping after [`MAX_SCRAPES`]
/// or [`SCRAPER_LIMIT`], whatever happens.
fn scraper(addr: SocketAddr) -> impl FnMut() -> bool + Send + 'static {
    let started = Instant::now();
    let mut scrapes = 0;
    move || {
        black_box(scrape(addr));
        scrapes += 1;
        scrapes < MAX_SCRAPES && started.elapsed() < SCRAPER_LIMIT
    }
}

fn recorders_while_scraped(c: &mut Criterion) {
    let server = coord::http::serve("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = server.local_addr();
    recorder_beside_reader(
        c,
        "http/recorder_per_call_cpu",
        &SITE,
        ("baseline_no_scraper", "metrics_scraped_in_a_loop"),
        || scraper(addr),
    );
    server.shutdown();
}

criterion_group!(benches, scrape_1000_operations, recorders_while_scraped);
criterion_main!(benches);
