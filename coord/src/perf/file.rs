//! The monitor's section of the configuration file: `monitor: { collection_interval: 5s,
//! max_data_points: 1000 }`, applied like [`PerformanceMonitor::configure`](super::PerformanceMonitor::configure).

use serde::Deserialize;

use super::MonitorConfig;
use crate::contract::FileSection;
use crate::contract::file::{Bounded, DurationValue, set_keys};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonitorModel {
    collection_interval: Option<DurationValue>,
    max_data_points: Option<Bounded<usize, 1, { u32::MAX as u64 }>>,
}

impl MonitorModel {
    fn config(self) -> MonitorConfig {
        set_keys!(
            MonitorConfig::default(),
            self,
            [collection_interval, max_data_points]
        )
    }
}

/// The section, for the list in `crate::mechanisms`.
pub(crate) struct MonitorFile;

impl FileSection for MonitorFile {
    type Model = Option<MonitorModel>;
    type Checked = Option<MonitorConfig>;
    /// Whether the monitor was configured.
    type Loaded = bool;
    type Error = String;

    fn check(key: &str, model: Self::Model) -> Result<Self::Checked, String> {
        let Some(model) = model else { return Ok(None) };
        let config = model.config();
        config.check().map_err(|e| format!("{key}: {e}"))?;
        Ok(Some(config))
    }

    /// Every value was checked, so only a monitor racing another `configure` could refuse.
    fn apply(key: &str, checked: Self::Checked) -> Result<bool, String> {
        let Some(config) = checked else {
            return Ok(false);
        };
        super::global()
            .configure(config)
            .map_err(|e| format!("{key}: {e}"))?;
        Ok(true)
    }
}
