//! `mtdhost plugin test PLUGIN DIR`: run a mapping plugin over a folder of
//! fixture cases and print a pass/fail table with the first difference of
//! each failing case (see [`crate::plugin_test`] for the case format).

use std::fmt::Write as _;
use std::path::Path;

use serde_json::json;

use super::plugin_cmd::{options, plugin_runtime};
use super::{settings, LoadArgs, OutputFormat};
use crate::plugin_test::{self, Outcome};
use crate::runtime::{ensure_valid_settings, sanitize, LoadedPlugin, PluginSource};

/// Runs every case in `dir`; exit code 1 if any fails.
pub(super) fn run(
    plugin: &str,
    dir: &Path,
    settings_file: Option<&Path>,
    output: OutputFormat,
    load: &LoadArgs,
) -> anyhow::Result<i32> {
    let default_settings = settings::from_toml_file(settings_file)?;
    let cases = plugin_test::discover(dir)?;
    let rt = plugin_runtime(load)?;
    let source = PluginSource::resolve(plugin)?;
    let loader = |settings_json: &str| -> Result<LoadedPlugin, String> {
        let opts = options(&source, load, settings_json.to_string()).map_err(|e| e.to_string())?;
        let loaded = rt.load(&source, &opts).map_err(|e| e.to_string())?;
        ensure_valid_settings(&loaded).map_err(|e| e.to_string())?;
        Ok(loaded)
    };
    let outcomes: Vec<Outcome> =
        cases.iter().map(|c| plugin_test::run_case(c, &default_settings, &loader)).collect();
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    match output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&as_json(plugin, &outcomes))?),
        OutputFormat::Text => print!("{}", table(&outcomes)),
    }
    Ok(i32::from(failed > 0))
}

/// The pass/fail table.
pub(super) fn table(outcomes: &[Outcome]) -> String {
    let width = outcomes.iter().map(|o| o.name.len()).max().unwrap_or(4).clamp(4, 48);
    let mut s = String::new();
    let _ = writeln!(s, "{:width$}  RESULT  DEVICES  DIAGNOSTICS  FIRST DIFFERENCE", "CASE");
    for o in outcomes {
        let (result, diff) = match &o.difference {
            None => ("pass", String::new()),
            Some(d) => ("FAIL", sanitize(d)),
        };
        let _ = writeln!(
            s,
            "{:width$}  {result:6}  {:7}  {:11}  {diff}",
            sanitize(&o.name),
            o.devices,
            o.diagnostics
        );
    }
    let failed = outcomes.iter().filter(|o| !o.passed()).count();
    let _ = writeln!(s, "{} passed, {failed} failed", outcomes.len() - failed);
    s
}

fn as_json(plugin: &str, outcomes: &[Outcome]) -> serde_json::Value {
    json!({
        "plugin": plugin,
        "passed": outcomes.iter().filter(|o| o.passed()).count(),
        "failed": outcomes.iter().filter(|o| !o.passed()).count(),
        "cases": outcomes.iter().map(|o| json!({
            "name": sanitize(&o.name),
            "passed": o.passed(),
            "devices": o.devices,
            "diagnostics": o.diagnostics,
            "first_difference": o.difference.as_deref().map(sanitize),
        })).collect::<Vec<_>>(),
    })
}
