//! The process environment as a source.
//!
//! The environment cannot say which values are secret, so every value is
//! marked secret and a manifest's `secret = false` decides otherwise. Values
//! are not registered for scrubbing (see `Source::scrubbed`).

use super::common::Source;
use crate::ui;
use crate::vars::BoxFuture;
use crate::vars::Var;
use anyhow::Result;

pub struct EnvSource;

impl Source for EnvSource {
    fn name(&self) -> String {
        "env".to_string()
    }

    fn knows_secrecy(&self) -> bool {
        false
    }

    fn scrubbed(&self) -> bool {
        false
    }

    fn read(&self) -> BoxFuture<'_, Result<Vec<Var>>> {
        Box::pin(async move {
            let vars = std::env::vars_os()
                .filter_map(|(name, value)| match (name.into_string(), value.into_string()) {
                    (Ok(name), Ok(value)) => Some(Var::secret(name, value)),
                    (Ok(name), Err(_)) => {
                        ui::warn(&format!("{name}: the value in the environment is not valid UTF-8; skipped"));
                        None
                    }
                    (Err(name), _) => {
                        ui::warn(&format!("{}: the name is not valid UTF-8; skipped", name.to_string_lossy()));
                        None
                    }
                })
                .collect();
            Ok(vars)
        })
    }
}
