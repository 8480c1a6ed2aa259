//! The validation section of the report: its tables and the `coord_validation*` families.

use std::fmt;

use super::ValidationReport;
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::table::{self, Align::Left, Align::Right};

/// Also sent to the `metrics` facade on every validation.
pub(crate) const VALIDATIONS_TOTAL: Family = Family::counter(
    "coord_validations_total",
    "{validation}",
    "Validations by rule set and verdict.",
);
/// Also sent to the `metrics` facade on every validation.
pub(crate) const CHECKS_TOTAL: Family = Family::counter(
    "coord_validation_checks_total",
    "{check}",
    "Applicable validation checks by rule set and outcome.",
);
pub(crate) const COMPLIANCE_RATIO: Family = Family::gauge(
    "coord_validation_compliance_ratio",
    "1",
    "Passed over applicable checks, all validations since start or reset (0..1).",
);

impl Section for ValidationReport {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self;
        table::section(f, "Validation")?;
        if v.total == 0 {
            return writeln!(f, "  (nothing validated)");
        }
        writeln!(
            f,
            "  {} validated, {} valid, {} invalid, compliance {:.1}%",
            v.total, v.valid, v.invalid, v.compliance_score
        )?;
        table::table(
            f,
            &v.rule_sets,
            &[
                ("rule set", Left, |set| table::name(&set.name)),
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
            table::table(
                f,
                v.top_failures.iter().take(10),
                &[
                    ("rule set", Left, |failure| table::name(&failure.rule_set)),
                    ("path", Left, |failure| table::name(&failure.path)),
                    ("rule", Left, |failure| failure.rule.clone()),
                    ("count", Right, |failure| failure.count.to_string()),
                ],
            )?;
        }
        Ok(())
    }

    fn export(&self, out: &mut Exposition) {
        let sets = &self.rule_sets;
        out.per_row_split(
            &VALIDATIONS_TOTAL,
            sets,
            ["rule_set", "verdict"],
            |set| &set.name,
            |set| [("valid", set.valid as f64), ("invalid", set.invalid as f64)],
        );
        out.per_row_split(
            &CHECKS_TOTAL,
            sets,
            ["rule_set", "outcome"],
            |set| &set.name,
            |set| {
                let failed = set.applicable_checks.saturating_sub(set.passed_checks);
                [
                    ("passed", set.passed_checks as f64),
                    ("failed", failed as f64),
                ]
            },
        );
        out.single(&COMPLIANCE_RATIO, self.compliance_score / 100.0);
    }
}
