//! Reading a plugin's settings from a TOML file, for the plugin subcommands.
//! The whole file is the plugin's settings table; it reaches the plugin as JSON.

use std::path::Path;

use anyhow::Context;

/// Reads `path` (TOML) and returns the settings as a JSON document.
pub(super) fn from_toml_file(path: Option<&Path>) -> anyhow::Result<String> {
    let Some(path) = path else {
        return Ok("{}".to_string());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read settings file {}", path.display()))?;
    let value: toml::Table = toml::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), one_line_toml_error(&text, &e)))?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let value = crate::pipeline::resolve_script_file(&value, |p| dir.join(p))
        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(serde_json::to_string(&value)?)
}

/// `line L, column C: message` for a TOML error.
pub(super) fn one_line_toml_error(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => {
            let (line, col) = line_col(text, span.start);
            format!("line {line}, column {col}: {}", err.message())
        }
        None => err.message().to_string(),
    }
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
        let text = "a = 1\nb = \n";
        let err = toml::from_str::<toml::Table>(text).unwrap_err();
        assert!(one_line_toml_error(text, &err).starts_with("line 2"));
    }
}
