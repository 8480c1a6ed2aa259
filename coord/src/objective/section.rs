//! The objectives' section of the report: a table per indicator and the `coord_objective_*`
//! families.

use std::fmt;

use super::eval::{ObjectiveSnapshot, SliSnapshot};
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::table::{self, Align::Left, Align::Right};

pub(crate) const OBJECTIVE_OPERATION_INFO: Family = Family::gauge(
    "coord_objective_operation_info",
    "{info}",
    "1 for each operation that joined an objective; the generated rules join on it.",
);
pub(crate) const OBJECTIVE_TARGET_RATIO: Family = Family::gauge(
    "coord_objective_target_ratio",
    "1",
    "The target share of good events of each objective's indicator.",
);
pub(crate) const OBJECTIVE_COMPLIANCE_RATIO: Family = Family::gauge(
    "coord_objective_compliance_ratio",
    "1",
    "Share of good events over each window, as coord counts them in process.",
);
pub(crate) const OBJECTIVE_BURN_RATE: Family = Family::gauge(
    "coord_objective_burn_rate",
    "{factor}",
    "Error ratio over each window divided by the error budget (1 - target); 1 spends the budget exactly over the period.",
);
pub(crate) const OBJECTIVE_ERROR_BUDGET_REMAINING_RATIO: Family = Family::gauge(
    "coord_objective_error_budget_remaining_ratio",
    "1",
    "Share of the period's error budget left (negative: overspent).",
);
pub(crate) const OBJECTIVE_ALERT_FIRING: Family = Family::gauge(
    "coord_objective_alert_firing",
    "{alert}",
    "1 while both windows of a burn alert exceed its burn rate, as coord computes it in process.",
);

fn compliance(sli: &SliSnapshot, window: &str) -> String {
    sli.window(window)
        .map_or_else(|| "-".into(), |w| percent(w.compliance))
}

/// A compliance to the thousandth of a percent (99.9 % and 99.95 % differ), `-` without events.
fn percent(compliance: Option<f64>) -> String {
    compliance.map_or_else(|| "-".into(), |c| format!("{:.3}%", c * 100.0))
}

impl Section for Vec<ObjectiveSnapshot> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return Ok(());
        }
        table::section(f, "Objectives")?;
        let rows: Vec<(&ObjectiveSnapshot, &SliSnapshot)> = self
            .iter()
            .flat_map(|o| o.indicators.iter().map(move |s| (o, s)))
            .collect();
        table::table(
            f,
            rows,
            &[
                ("objective", Left, |(o, _)| table::name(&o.name)),
                ("sli", Left, |(_, s)| match s.threshold {
                    Some(t) => format!("latency <= {}", table::duration(t)),
                    None => s.indicator.to_string(),
                }),
                ("target", Right, |(_, s)| {
                    format!("{}%", (s.target * 1e6).round() / 1e4)
                }),
                ("5m", Right, |(_, s)| compliance(s, "5m")),
                ("1h", Right, |(_, s)| compliance(s, "1h")),
                ("3d", Right, |(_, s)| compliance(s, "3d")),
                ("period", Right, |(_, s)| {
                    s.windows
                        .last()
                        .map_or_else(|| "-".into(), |w| percent(w.compliance))
                }),
                ("budget left", Right, |(_, s)| {
                    format!("{:.1}%", s.error_budget_remaining * 100.0)
                }),
                ("burn 1h", Right, |(_, s)| {
                    s.window("1h")
                        .and_then(|w| w.burn_rate)
                        .map_or_else(|| "-".into(), |b| format!("{b:.2}x"))
                }),
                ("firing", Left, |(_, s)| {
                    let firing: Vec<&str> = s
                        .alerts
                        .iter()
                        .filter(|a| a.firing)
                        .map(|a| a.alert)
                        .collect();
                    if firing.is_empty() {
                        "-".into()
                    } else {
                        firing.join(", ")
                    }
                }),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        if self.is_empty() {
            return;
        }
        out.family(&OBJECTIVE_OPERATION_INFO);
        for o in self {
            for op in &o.operations {
                out.sample(
                    OBJECTIVE_OPERATION_INFO.name,
                    &[("objective", &o.name), ("operation", op)],
                    1.0,
                );
            }
        }
        let each = |out: &mut Exposition, family: &Family, value: fn(&SliSnapshot) -> f64| {
            out.family(family);
            for o in self {
                for s in &o.indicators {
                    out.sample(
                        family.name,
                        &[("objective", &o.name), ("sli", s.indicator.as_str())],
                        value(s),
                    );
                }
            }
        };
        each(out, &OBJECTIVE_TARGET_RATIO, |s| s.target);
        type Read = fn(&super::WindowCompliance) -> Option<f64>;
        let per_window: [(&Family, Read); 2] = [
            (&OBJECTIVE_COMPLIANCE_RATIO, |w| w.compliance),
            (&OBJECTIVE_BURN_RATE, |w| w.burn_rate),
        ];
        for (family, read) in per_window {
            out.family(family);
            for o in self {
                for s in &o.indicators {
                    for w in &s.windows {
                        if let Some(value) = read(w) {
                            out.sample(
                                family.name,
                                &[
                                    ("objective", &o.name),
                                    ("sli", s.indicator.as_str()),
                                    ("window", &w.window),
                                ],
                                value,
                            );
                        }
                    }
                }
            }
        }
        each(out, &OBJECTIVE_ERROR_BUDGET_REMAINING_RATIO, |s| {
            s.error_budget_remaining
        });
        out.family(&OBJECTIVE_ALERT_FIRING);
        for o in self {
            for s in &o.indicators {
                for a in &s.alerts {
                    out.sample(
                        OBJECTIVE_ALERT_FIRING.name,
                        &[
                            ("objective", &o.name),
                            ("sli", s.indicator.as_str()),
                            ("alert", a.alert),
                            ("severity", a.severity.as_str()),
                        ],
                        f64::from(u8::from(a.firing)),
                    );
                }
            }
        }
    }
}
