//! `mtdhost plugin …`: the plugin author's loop — inspect a component, check
//! settings, run it on sample events, fill the compile cache.

use crate::cli::out::{out, outln};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;

use super::{render, settings, LoadArgs, OutputFormat};
use crate::runtime::{
    Cache, CacheOutcome, DiagnosticSeverity, EventBatch, Limits, LoadOptions, PluginSource, Runtime,
    SignatureRequirement,
};

const PLUGIN_HELP: &str = "The plugin: a .wasm component file, or builtin:NAME for one shipped with mtdhost";

/// Plugin subcommands. PLUGIN is a path to a .wasm component or `builtin:NAME`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Show a plugin's metadata: name, version, partner, capabilities, contract version, sha256.
    Inspect {
        /// The plugin to inspect.
        #[arg(value_name = "PLUGIN", help = PLUGIN_HELP)]
        plugin: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
        /// How to load the plugin.
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Validate settings for a plugin and print every diagnostic; exits 1 on any error.
    Check {
        /// The plugin whose settings are checked.
        #[arg(value_name = "PLUGIN", help = PLUGIN_HELP)]
        plugin: String,
        /// The plugin's settings as a TOML file (the table you would put under [plugins.NAME.settings]).
        #[arg(long, value_name = "FILE.toml")]
        settings: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
        /// How to load the plugin.
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Run threat mapping on a file of partner events and print each device's Intune level.
    Run {
        /// The mapping plugin to run.
        #[arg(value_name = "PLUGIN", help = PLUGIN_HELP)]
        plugin: String,
        /// Partner events: a JSON document, a JSON array, or JSON Lines, as the partner exports them.
        #[arg(long, value_name = "FILE")]
        events: PathBuf,
        /// The plugin's settings as a TOML file.
        #[arg(long, value_name = "FILE.toml")]
        settings: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
        /// How to load the plugin.
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Run a mapping plugin over a folder of fixture cases (NAME.json or NAME.jsonl with
    /// NAME.expected.json: every device's level, every diagnostic) and print a pass/fail
    /// table with the first difference per case; exits 1 if any case fails.
    Test {
        /// The mapping plugin under test.
        #[arg(value_name = "PLUGIN", help = PLUGIN_HELP)]
        plugin: String,
        /// The folder of cases.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
        /// Default settings as a TOML file (a case's own "settings" replace them).
        #[arg(long, value_name = "FILE.toml")]
        settings: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
        /// How to load the plugin.
        #[command(flatten)]
        load: LoadArgs,
    },
    /// Compile plugins into the cache so later loads are fast.
    Precompile {
        /// One or more plugins: .wasm component files or builtin:NAME.
        #[arg(value_name = "PLUGIN", required = true)]
        plugins: Vec<String>,
        /// How to load the plugins.
        #[command(flatten)]
        load: LoadArgs,
    },
}

/// Runs a plugin subcommand; the returned code is the process exit code.
pub(super) fn run(cmd: PluginCommand) -> anyhow::Result<i32> {
    match cmd {
        PluginCommand::Inspect { plugin, output, load } => {
            let (runtime, source, opts) = prepare(&plugin, &load, "{}".into())?;
            let loaded = runtime.load(&source, &opts)?;
            out!("{}", render::info(&loaded, output))?;
            Ok(0)
        }
        PluginCommand::Check { plugin, settings: file, output, load } => {
            let json = settings::from_toml_file(file.as_deref())?;
            let (runtime, source, opts) = prepare(&plugin, &load, json)?;
            let loaded = runtime.load(&source, &opts)?;
            let diags = loaded.settings_diagnostics();
            out!("{}", render::check(&loaded, diags, output))?;
            Ok(i32::from(diags.iter().any(|d| d.severity == DiagnosticSeverity::Error)))
        }
        PluginCommand::Run { plugin, events, settings: file, output, load } => {
            let json = settings::from_toml_file(file.as_deref())?;
            let raw = read_events(&events)?;
            let (runtime, source, opts) = prepare(&plugin, &load, json)?;
            let loaded = runtime.load(&source, &opts)?;
            if let Err(e) = crate::runtime::ensure_valid_settings(&loaded) {
                anyhow::bail!(e);
            }
            let out =
                loaded.map_events(&EventBatch { raw: Some(raw), records: Vec::new(), first_record: 1 })?;
            out!("{}", render::mapping(&loaded, &out, output))?;
            Ok(0)
        }
        PluginCommand::Test { plugin, dir, settings: file, output, load } => {
            super::plugin_test_cmd::run(&plugin, &dir, file.as_deref(), output, &load)
        }
        PluginCommand::Precompile { plugins, load } => {
            let runtime = plugin_runtime(&load)?;
            let dir = runtime.cache().dir().map(|d| d.display().to_string());
            for spec in &plugins {
                let source = PluginSource::resolve(spec)?;
                let opts = options(&source, &load, "{}".into())?;
                let started = std::time::Instant::now();
                let outcome = runtime.precompile(&source, &opts)?;
                let what = match outcome {
                    CacheOutcome::Hit => "already cached",
                    CacheOutcome::Stored => "compiled and cached",
                    CacheOutcome::Uncached => "compiled (cache not in use)",
                };
                outln!("{spec}: {what} in {} ms", started.elapsed().as_millis())?;
            }
            if let Some(dir) = dir {
                outln!("cache: {dir}")?;
            }
            Ok(0)
        }
    }
}

fn read_events(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read events file {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "events file {} is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

pub(super) fn plugin_runtime(load: &LoadArgs) -> anyhow::Result<Runtime> {
    let cache = if load.no_cache {
        Cache::disabled()
    } else {
        match load.cache_dir.clone().or_else(Cache::default_dir) {
            Some(dir) => Cache::at(dir)?,
            None => Cache::disabled(),
        }
    };
    Ok(Runtime::new(cache))
}

fn prepare(
    spec: &str,
    load: &LoadArgs,
    settings_json: String,
) -> anyhow::Result<(Runtime, PluginSource, LoadOptions)> {
    let source = PluginSource::resolve(spec)?;
    let opts = options(&source, load, settings_json)?;
    Ok((plugin_runtime(load)?, source, opts))
}

pub(super) fn options(
    source: &PluginSource,
    load: &LoadArgs,
    settings_json: String,
) -> anyhow::Result<LoadOptions> {
    let mut limits = Limits::default();
    if let Some(ms) = load.deadline_ms {
        limits.deadline_ms = ms;
    }
    if let Some(mib) = load.memory_mib {
        limits.memory_mib = mib;
    }
    let signature = if load.signature.is_some() || !load.trusted_keys.is_empty() {
        let path =
            load.signature.clone().unwrap_or_else(|| PathBuf::from(format!("{}.minisig", source.label)));
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read signature file {}", path.display()))?;
        Some(SignatureRequirement {
            signature_label: path.display().to_string(),
            signature: text,
            trusted_keys: load.trusted_keys.clone(),
        })
    } else {
        None
    };
    Ok(LoadOptions { limits, sha256: load.sha256.clone(), signature, settings_json })
}
