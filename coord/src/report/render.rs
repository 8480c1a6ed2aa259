//! The human-readable report: `Display` for [`Report`], one table per section.

use std::fmt;

use super::Report;
use super::format::{self, Align, Table};

impl Report {
    fn render_breakers(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::section(f, "Circuit breakers")?;
        if self.breakers.is_empty() {
            return writeln!(f, "  (none)");
        }
        let mut table = Table::new(&[
            ("breaker", Align::Left),
            ("state", Align::Left),
            ("failure %", Align::Right),
            ("window", Align::Right),
            ("rejected", Align::Right),
            ("next probe", Align::Right),
            ("transitions", Align::Right),
        ]);
        for b in &self.breakers {
            table.row(vec![
                format::name(&b.name),
                b.state.to_string(),
                format::percent(b.failure_rate),
                b.calls_in_window.to_string(),
                b.rejected.to_string(),
                b.next_probe_in
                    .map(format::duration)
                    .unwrap_or_else(|| "-".into()),
                b.transitions.to_string(),
            ]);
        }
        table.render(f)
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
        let mut table = Table::new(&[
            ("operation", Align::Left),
            ("errors", Align::Right),
            ("final", Align::Right),
            ("retries", Align::Right),
            ("recovered", Align::Right),
            ("last error", Align::Left),
        ]);
        for op in &e.by_operation {
            let mut last = op
                .last_error
                .as_deref()
                .map(format::name)
                .unwrap_or_default();
            if last.chars().count() > 60 {
                last = last.chars().take(59).chain(['…']).collect();
            }
            table.row(vec![
                format::name(&op.operation),
                op.errors.to_string(),
                op.final_failures.to_string(),
                op.retries.to_string(),
                op.successes_after_retry.to_string(),
                last,
            ]);
        }
        table.render(f)
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
        let mut table = Table::new(&[
            ("rule set", Align::Left),
            ("total", Align::Right),
            ("valid", Align::Right),
            ("invalid", Align::Right),
            ("compliance", Align::Right),
        ]);
        for set in &v.rule_sets {
            table.row(vec![
                format::name(&set.name),
                set.total.to_string(),
                set.valid.to_string(),
                set.invalid.to_string(),
                format!("{:.1}%", set.compliance_score),
            ]);
        }
        table.render(f)?;
        if !v.top_failures.is_empty() {
            writeln!(f, "  most frequent failures:")?;
            let mut table = Table::new(&[
                ("rule set", Align::Left),
                ("path", Align::Left),
                ("rule", Align::Left),
                ("count", Align::Right),
            ]);
            for failure in v.top_failures.iter().take(10) {
                table.row(vec![
                    format::name(&failure.rule_set),
                    format::name(&failure.path),
                    failure.rule.clone(),
                    failure.count.to_string(),
                ]);
            }
            table.render(f)?;
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
        let mut table = Table::new(&[
            ("input", Align::Left),
            ("value", Align::Right),
            ("penalty", Align::Right),
            ("of", Align::Right),
            ("status", Align::Left),
        ]);
        for (input, c) in system.breakdown.iter() {
            table.row(vec![
                input.to_string(),
                format!("{:.3}", c.value),
                format!("{:.1}", c.penalty),
                format!("{:.0}", c.weight),
                c.status.to_string(),
            ]);
        }
        table.render(f)
    }

    fn render_performance(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        format::section(f, "Operations")?;
        let mut table = Table::new(&[
            ("operation", Align::Left),
            ("calls", Align::Right),
            ("failed", Align::Right),
            ("error %", Align::Right),
            ("mean", Align::Right),
            ("p50", Align::Right),
            ("p95", Align::Right),
            ("p99", Align::Right),
            ("max", Align::Right),
        ]);
        for op in &self.performance.operations {
            table.row(vec![
                format::name(&op.name),
                op.calls.to_string(),
                op.failures.to_string(),
                format::percent(op.error_rate),
                format::duration(op.mean),
                format::duration(op.p50),
                format::duration(op.p95),
                format::duration(op.p99),
                format::duration(op.max),
            ]);
        }
        if table.is_empty() {
            writeln!(f, "  (no calls recorded)")
        } else {
            table.render(f)
        }
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
