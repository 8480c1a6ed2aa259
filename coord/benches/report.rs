//! `coord::report()` over a large process (1,000 operations, 100 breakers, 100 rule sets), and
//! what building reports in a loop does to threads recording at the same time.
//!
//! Baselines in the same run: `clone_of_report` (a plain copy of the same data: the floor for
//! any snapshot) and `no_reader` (the recorders alone).

use std::hint::black_box;

use coord::__private::OperationSite;
use coord::BreakerConfig;
use criterion::{Criterion, criterion_group, criterion_main};
use support::{Failed, recorder_beside_reader};

mod support;

fn populate() {
    support::populate_operations("bench.op");
    for i in 0..100 {
        let breaker =
            coord::breaker_with(&format!("bench.breaker.{i:03}"), BreakerConfig::default()).ok();
        if let Some(breaker) = breaker {
            for n in 0..30 {
                let _ =
                    breaker.call(|| if n % 5 == 0 { Err(()) } else { Ok(()) }.map_err(|()| Failed));
            }
        }
    }
    let mut yaml = String::new();
    for i in 0..100 {
        yaml.push_str(&format!(
            "bench_set_{i:03}:\n  required_fields: [name]\n  field_validations:\n    name: {{ type: string, min_length: 2 }}\n    age: {{ type: integer, min: 0, max: 150 }}\n"
        ));
    }
    if coord::rules().load_yaml(&yaml).is_ok() {
        for i in 0..100 {
            if let Some(set) = coord::rules().get(&format!("bench_set_{i:03}")) {
                let ok = serde_json::json!({ "name": "Ada", "age": 36 });
                let bad = serde_json::json!({ "name": "A", "age": 200 });
                let _ = coord::validator().validate_with(&set, &ok);
                let _ = coord::validator().validate_with(&set, &bad);
            }
        }
    }
}

fn build(c: &mut Criterion) {
    populate();
    let report = coord::report();
    assert!(report.performance.operations.len() >= 1_000);
    let mut group = c.benchmark_group("report/1000_ops_100_breakers_100_rule_sets");
    group.sample_size(20);
    group.bench_function("baseline_clone_of_report", |b| {
        b.iter(|| black_box(report.clone()))
    });
    group.bench_function("build", |b| b.iter(|| black_box(coord::report())));
    group.bench_function("display", |b| b.iter(|| black_box(report.to_string())));
    group.bench_function("to_json", |b| b.iter(|| black_box(report.to_json())));
    group.bench_function("to_prometheus", |b| {
        b.iter(|| black_box(report.to_prometheus()))
    });
    group.finish();
}

static SITE: OperationSite = OperationSite::new("bench.report.recorder");

fn recorders(c: &mut Criterion) {
    recorder_beside_reader(
        c,
        "report/recorder_per_call_cpu",
        &SITE,
        ("baseline_no_reader", "reports_built_in_a_loop"),
        || {
            || {
                black_box(coord::report());
                true
            }
        },
    );
}

criterion_group!(benches, build, recorders);
criterion_main!(benches);
