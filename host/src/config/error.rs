//! Config errors: `file:line:column: message`, then a hint when there is one.

use std::path::{Path, PathBuf};

/// A place in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The 1-based line and column of a byte offset in `text`.
    pub fn new(path: &Path, text: &str, offset: usize) -> Self {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Location { path: path.to_path_buf(), line, column }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// A problem in the config.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{message}{}", location_prefix(.location, .path), hint_suffix(.hint))]
pub struct ConfigError {
    pub path: PathBuf,
    pub location: Option<Location>,
    pub message: String,
    pub hint: Option<String>,
}

fn location_prefix(location: &Option<Location>, path: &Path) -> String {
    match location {
        Some(l) => format!("{l}: "),
        None => format!("{}: ", path.display()),
    }
}

fn hint_suffix(hint: &Option<String>) -> String {
    hint.as_ref().map(|h| format!(" (hint: {h})")).unwrap_or_default()
}

impl ConfigError {
    pub fn at(location: Location, message: impl Into<String>, hint: Option<&str>) -> Self {
        ConfigError {
            path: location.path.clone(),
            location: Some(location),
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }

    pub fn plain(path: &Path, message: String) -> Self {
        ConfigError { path: path.to_path_buf(), location: None, message, hint: None }
    }

    /// From a TOML parse or shape error, with a hint for the common cases.
    pub fn from_toml(path: &Path, text: &str, e: &toml::de::Error) -> Self {
        let message = e.message().trim().to_string();
        let hint = if message.starts_with("unknown field") {
            Some("check the spelling; docs/config.md lists every key")
        } else if message.starts_with("unknown variant") {
            Some("the value must be one of those listed")
        } else if message.starts_with("missing field") {
            Some("this key is required here")
        } else {
            None
        };
        match e.span() {
            Some(span) => Self::at(Location::new(path, text, span.start), message, hint),
            None => ConfigError {
                path: path.to_path_buf(),
                location: None,
                message,
                hint: hint.map(str::to_string),
            },
        }
    }
}
