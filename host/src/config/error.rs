//! Config errors: `file:line:column: message`, then a hint when there is one.

use std::path::{Path, PathBuf};

/// A place in the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, counted in characters.
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
    /// The config file the problem is in.
    pub path: PathBuf,
    /// Where in the file, when the problem has a place.
    pub location: Option<Location>,
    /// What is wrong.
    pub message: String,
    /// How to fix it, when there is a suggestion.
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
    /// An error at a place in the file, with an optional hint.
    pub fn at(location: Location, message: impl Into<String>, hint: Option<&str>) -> Self {
        ConfigError {
            path: location.path.clone(),
            location: Some(location),
            message: message.into(),
            hint: hint.map(str::to_string),
        }
    }

    /// An error about the file as a whole, with no location or hint.
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
