//! The human-readable report: `Display` for [`Report`], one table per section.

use std::fmt;

use super::Report;
use super::format::{self, Align::Left, Align::Right};

impl Report {
    fn render_breakers(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::section(f, "Circuit breakers")?;
        if self.breakers.is_empty() {
            return writeln!(f, "  (none)");
        }
        format::table(
            f,
            &self.breakers,
            &[
                ("breaker", Left, |b| format::name(&b.name)),
                ("state", Left, |b| b.state.to_string()),
                ("failure %", Right, |b| format::percent(b.failure_rate)),
                ("window", Right, |b| b.calls_in_window.to_string()),
                ("rejected", Right, |b| b.rejected.to_string()),
                ("next probe", Right, |b| {
                    b.next_probe_in
                        .map(format::duration)
                        .unwrap_or_else(|| "-".into())
                }),
                ("transitions", Right, |b| b.transitions.to_string()),
            ],
        )
    }

    fn render_errors(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let e = &self.errors;
        format::section(f, "Errors")?;
        writeln!(
            f,
            "  {} failed attempts, {} final failures, status {}",
            e.total_errors, e.final_failures, e.health_status
        )?;
        writeln!(
            f,
            "  by severity: low {}, medium {}, high {}, critical {}",
            e.by_severity.low, e.by_severity.medium, e.by_severity.high, e.by_severity.critical
        )?;
        let r = &e.retry;
        writeln!(
            f,
            "  retries: {} sleeps, {} recovered, {} exhausted, {} permanent, {} budget-stopped, {} past deadline",
            r.retries,
            r.successes_after_retry,
            r.exhausted,
            r.permanent,
            r.budget_exhausted,
            r.deadline_exceeded
        )?;
        if e.by_operation.is_empty() {
            return Ok(());
        }
        format::table(
            f,
            &e.by_operation,
            &[
                ("operation", Left, |op| format::name(&op.operation)),
                ("errors", Right, |op| op.errors.to_string()),
                ("final", Right, |op| op.final_failures.to_string()),
                ("retries", Right, |op| op.retries.to_string()),
                ("recovered", Right, |op| {
                    op.successes_after_retry.to_string()
                }),
                ("last error", Left, |op| {
                    let last = op
                        .last_error
                        .as_deref()
                        .map(format::name)
                        .unwrap_or_default();
                    if last.chars().count() > 60 {
                        last.chars().take(59).chain(['…']).collect()
                    } else {
                        last
                    }
                }),
            ],
        )
    }

    fn render_validation(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = &self.validation;
        format::section(f, "Validation")?;
        if v.total == 0 {
            return writeln!(f, "  (nothing validated)");
        }
        writeln!(
            f,
            "  {} validated, {} valid, {} invalid, compliance {:.1}%",
            v.total, v.valid, v.invalid, v.compliance_score
        )?;
        format::table(
            f,
            &v.rule_sets,
            &[
                ("rule set", Left, |set| format::name(&set.name)),
                ("total", Right, |set| set.total.to_string()),
                ("valid", Right, |set| set.valid.to_string()),
                ("invalid", Right, |set| set.invalid.to_string()),
                ("compliance", Right, |set| {
                    format!("{:.1}%", set.compliance_score)
                }),
            ],
        )?;
        if !v.top_failures.is_empty() {
            writeln!(f, "  most frequent failures:")?;
            format::table(
                f,
                v.top_failures.iter().take(10),
                &[
                    ("rule set", Left, |failure| format::name(&failure.rule_set)),
                    ("path", Left, |failure| format::name(&failure.path)),
                    ("rule", Left, |failure| failure.rule.clone()),
                    ("count", Right, |failure| failure.count.to_string()),
                ],
            )?;
        }
        Ok(())
    }

    fn render_system(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::section(f, "System health")?;
        let Some(system) = &self.system else {
            return writeln!(
                f,
                "  (no sample yet: start the monitor or call record_system_health)"
            );
        };
        writeln!(
            f,
            "  status {}, score {:.1}/100, cpu {:.1}%, memory {:.1}%",
            system.health_status, system.performance_score, system.cpu_usage, system.memory_usage
        )?;
        format::table(
            f,
            system.breakdown.iter(),
            &[
                ("input", Left, |(input, _)| input.to_string()),
                ("value", Right, |(_, c)| format!("{:.3}", c.value)),
                ("penalty", Right, |(_, c)| format!("{:.1}", c.penalty)),
                ("of", Right, |(_, c)| format!("{:.0}", c.weight)),
                ("status", Left, |(_, c)| c.status.to_string()),
            ],
        )
    }

    fn render_performance(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::section(f, "Operations")?;
        if self.performance.operations.is_empty() {
            return writeln!(f, "  (no calls recorded)");
        }
        format::table(
            f,
            &self.performance.operations,
            &[
                ("operation", Left, |op| format::name(&op.name)),
                ("calls", Right, |op| op.calls.to_string()),
                ("failed", Right, |op| op.failures.to_string()),
                ("error %", Right, |op| format::percent(op.error_rate)),
                ("mean", Right, |op| format::duration(op.mean)),
                ("p50", Right, |op| format::duration(op.p50)),
                ("p95", Right, |op| format::duration(op.p95)),
                ("p99", Right, |op| format::duration(op.p99)),
                ("max", Right, |op| format::duration(op.max)),
            ],
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "coord report")?;
        self.render_performance(f)?;
        self.render_breakers(f)?;
        self.render_errors(f)?;
        self.render_validation(f)?;
        self.render_system(f)?;
        self.render_resilience(f)
    }
}
