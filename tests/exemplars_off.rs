//! `coord::otel::set_exemplars(false)` stops keeping exemplars (and the context read behind
//! them); on again, the next sampled call leaves its ids. Its own process: the switch is global.

use std::time::Duration;

use coord::otel::opentelemetry::Context;
use coord::otel::opentelemetry::trace::TraceFlags;
use coord::perf::Outcome;

#[path = "support/remote_context.rs"]
mod remote_context;
use remote_context::remote;

/// A sampled remote span of trace `trace`.
fn sampled(trace: u128) -> Context {
    remote(trace, 0x00f0_67aa_0ba9_02b7, TraceFlags::SAMPLED)
}

#[test]
fn exemplars_can_be_switched_off_and_on() {
    let op = coord::monitor().operation_handle("exemplars_off.api");
    coord::otel::set_exemplars(false);
    {
        let _span = sampled(0xaaaa).attach();
        op.record(Duration::from_millis(3), Outcome::Success);
    }
    let om = coord::report().to_openmetrics();
    assert!(!om.contains("aaaa"), "{om}");
    assert!(om.contains("exemplars_off.api"), "{om}");

    coord::otel::set_exemplars(true);
    {
        let _span = sampled(0xbbbb).attach();
        op.record(Duration::from_millis(3), Outcome::Success);
    }
    let om = coord::report().to_openmetrics();
    assert!(
        om.contains("trace_id=\"0000000000000000000000000000bbbb\""),
        "{om}"
    );
}
