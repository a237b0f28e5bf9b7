//! Builders for diagnostics, the precise findings plugins report.

use crate::{Diagnostic, DiagnosticSeverity};

impl Diagnostic {
    fn with(severity: DiagnosticSeverity, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { severity, path: path.into(), message: message.into() }
    }

    /// A finding that makes the input unusable.
    pub fn error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::with(DiagnosticSeverity::Error, path, message)
    }

    /// A finding the admin should look at; the input is still usable.
    pub fn warning(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::with(DiagnosticSeverity::Warning, path, message)
    }

    /// Information only.
    pub fn info(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::with(DiagnosticSeverity::Info, path, message)
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == DiagnosticSeverity::Error
    }
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            DiagnosticSeverity::Error => "error",
            DiagnosticSeverity::Warning => "warning",
            DiagnosticSeverity::Info => "info",
        };
        if self.path.is_empty() {
            write!(f, "{sev}: {}", self.message)
        } else {
            write!(f, "{sev}: {}: {}", self.path, self.message)
        }
    }
}
