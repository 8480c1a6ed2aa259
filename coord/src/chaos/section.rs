//! The chaos section of the report: the faults injected, by name and kind, as a table and
//! `coord_chaos_injected_total{name, kind}`, shown once a fault was injected. Apart from every
//! other family, so that an injected fault is never read as a real one.

use std::fmt;

use super::ChaosCount;
use crate::contract::Section;
use crate::contract::exposition::{Exposition, Family};
use crate::contract::table::{self, Align::Left, Align::Right};

pub(crate) const INJECTED_TOTAL: Family = Family::counter(
    "coord_chaos_injected_total",
    "{fault}",
    "Faults injected by coord::chaos, by name (an operation or a breaker) and kind (error, latency, reject); never counted as real failures or rejections.",
);

impl Section for Vec<ChaosCount> {
    fn render(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        table::section_if_any(
            f,
            "Chaos (injected faults, not counted above)",
            self,
            &[
                ("name", Left, |c| table::name(&c.name)),
                ("kind", Left, |c| c.kind.to_string()),
                ("injected", Right, |c| c.injected.to_string()),
            ],
        )
    }

    fn export(&self, out: &mut Exposition) {
        if self.is_empty() {
            return;
        }
        out.family(&INJECTED_TOTAL);
        for count in self {
            out.sample(
                INJECTED_TOTAL.name,
                &[("name", &count.name), ("kind", count.kind.as_str())],
                count.injected as f64,
            );
        }
    }
}
