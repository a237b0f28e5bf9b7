//! Loading the plugins a config names, with their integrity checks, limits
//! and settings. Every plugin is loaded and every settings problem reported
//! before the run stops.

use crate::config::Config;
use crate::runtime::{
    ensure_valid_settings, LoadOptions, LoadedPlugin, PluginSource, Runtime, SignatureRequirement,
};

use super::PipelineError;

/// Loads every `[plugins.NAME]`, in name order.
pub fn load_plugins(
    config: &Config,
    runtime: &Runtime,
) -> Result<Vec<(String, LoadedPlugin)>, PipelineError> {
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for (name, pc) in &config.file.plugins {
        let at = config.at(pc.source.span());
        let spec = pc.source.get_ref();
        let source = if spec.starts_with("builtin:") {
            PluginSource::resolve(spec)
        } else {
            PluginSource::from_file(&config.relative(spec))
        };
        let source = match source {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{at}: plugin '{name}': {e}"));
                continue;
            }
        };
        let trusted_keys = pc.trusted_key_list();
        if pc.signature.is_none() && !trusted_keys.is_empty() {
            // Config::check refuses this too; never load unchecked if it is bypassed.
            problems.push(format!("{at}: plugin '{name}': trusted-keys without a signature; refusing"));
            continue;
        }
        let signature = match &pc.signature {
            Some(sig) => {
                let path = config.relative(sig.get_ref());
                match std::fs::read_to_string(&path) {
                    Ok(text) => Some(SignatureRequirement {
                        signature_label: path.display().to_string(),
                        signature: text,
                        trusted_keys: trusted_keys.clone(),
                    }),
                    Err(e) => {
                        problems.push(format!(
                            "{at}: plugin '{name}': cannot read signature {}: {e}",
                            path.display()
                        ));
                        continue;
                    }
                }
            }
            None => None,
        };
        let settings = match resolve_script_file(&pc.settings, |p| config.relative(p)) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("{at}: [plugins.{name}.settings]: {e}"));
                continue;
            }
        };
        let opts = LoadOptions {
            limits: pc.limits.clone(),
            sha256: pc.sha256.as_ref().map(|s| s.get_ref().clone()),
            signature,
            settings_json: serde_json::to_string(&settings).unwrap_or_else(|_| "{}".into()),
        };
        match runtime.load(&source, &opts) {
            Ok(p) => match ensure_valid_settings(&p) {
                Ok(()) => loaded.push((name.clone(), p)),
                Err(e) => problems.push(format!("{at}: [plugins.{name}.settings]: {e}")),
            },
            Err(e) => problems.push(format!("{at}: plugin '{name}': {e}")),
        }
    }
    if problems.is_empty() {
        Ok(loaded)
    } else {
        Err(PipelineError::Plugin(problems.join("\n")))
    }
}

/// Plugins have no file access, so the host reads `script-file` for them:
/// the setting becomes `script` (the text) and `script-name` (the path, for
/// error locations).
pub fn resolve_script_file(
    settings: &toml::Table,
    resolve: impl Fn(&str) -> std::path::PathBuf,
) -> Result<toml::Table, String> {
    let mut out = settings.clone();
    if let Some(file) = out.remove("script-file") {
        let file = file.as_str().ok_or("script-file must be a path")?.to_string();
        if out.contains_key("script") {
            return Err("set either script or script-file, not both".into());
        }
        let path = resolve(&file);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read script-file {}: {e}", path.display()))?;
        out.insert("script".into(), toml::Value::String(text));
        out.insert("script-name".into(), toml::Value::String(file));
    }
    Ok(out)
}
