//! Cost of `#[track_performance(span)]` with no subscriber, beside tracing's own
//! `#[instrument]` doing the same job by hand, in one run: sync and async, each against the same
//! function timed without a span. The ratio that matters: `span / instrumented` (coord's span
//! against a user's `#[instrument]` under `#[track_performance]`).
//!
//! `cargo bench -p coord --bench spans -- --warm-up-time 1 --measurement-time 3`

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use coord::track_performance;
use criterion::{Criterion, criterion_group, criterion_main};
use support::bare;

mod support;

#[track_performance("bench.spans.tracked")]
#[inline(never)]
fn tracked(x: u64) -> Result<u64, u64> {
    bare(x)
}

#[track_performance("bench.spans.instrumented")]
#[tracing::instrument(level = "info", skip_all)]
#[inline(never)]
fn instrumented(x: u64) -> Result<u64, u64> {
    bare(x)
}

#[track_performance(name = "bench.spans.span", span)]
#[inline(never)]
fn spanned(x: u64) -> Result<u64, u64> {
    bare(x)
}

#[track_performance("bench.spans.async_tracked")]
async fn async_tracked(x: u64) -> Result<u64, u64> {
    bare(x)
}

#[track_performance("bench.spans.async_instrumented")]
#[tracing::instrument(level = "info", skip_all)]
async fn async_instrumented(x: u64) -> Result<u64, u64> {
    bare(x)
}

#[track_performance(name = "bench.spans.async_span", span)]
async fn async_spanned(x: u64) -> Result<u64, u64> {
    bare(x)
}

/// Polls a future that never waits to its end.
#[inline(always)]
fn ready<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut cx) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("the benched futures never wait"),
    }
}

fn no_subscriber(c: &mut Criterion) {
    let mut group = c.benchmark_group("spans/no_subscriber");
    group.bench_function("bare", |b| b.iter(|| bare(black_box(1))));
    group.bench_function("tracked", |b| b.iter(|| tracked(black_box(1))));
    group.bench_function("instrumented", |b| b.iter(|| instrumented(black_box(1))));
    group.bench_function("span", |b| b.iter(|| spanned(black_box(1))));
    group.bench_function("async_tracked", |b| {
        b.iter(|| ready(async_tracked(black_box(1))))
    });
    group.bench_function("async_instrumented", |b| {
        b.iter(|| ready(async_instrumented(black_box(1))))
    });
    group.bench_function("async_span", |b| {
        b.iter(|| ready(async_spanned(black_box(1))))
    });
    group.finish();
}

criterion_group!(benches, no_subscriber);
criterion_main!(benches);
