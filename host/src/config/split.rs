//! Parsing a config of thousands of `[[policy]]` tables a table at a time.
//!
//! The `toml` crate builds a token vector and a spanned tree of the whole
//! document before deserialising it: for a 5,000-policy config (1.2 MB)
//! that is ~45 MB at once, most of the process's peak memory. So the file
//! is split first, by a streaming pass of the TOML lexer, into its
//! `[[policy]]` sections (each with its `[policy.…]` sub-tables) and the
//! rest. The rest is parsed as the file with those sections blanked out —
//! every span and every error location is the file's own — and each section
//! is parsed on its own when the config's policies are walked
//! ([`policy_at`]), its spans moved to where the section sits in the file;
//! so the tables are never all in memory at once either.
//!
//! Anything the split is not sure of (a `[policy.…]` table outside a
//! policy section, a root `policy` key, an escaped key, an error in the
//! rest) falls back to parsing the whole file at once; a section's error,
//! found when it is walked, is worded by the whole-file parse too. So the
//! result and every error message are exactly those of the whole-file
//! parse; only the memory differs.

use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml_parser::lexer::TokenKind;
use toml_parser::Source;

use super::types::{AssignmentsConfig, ConfigFile, PolicyConfig};

/// The config parsed but for its policy sections, which are parsed when
/// walked ([`policy_at`]). Either `sections` is empty or `file.policies` is.
pub(crate) struct Split {
    /// Everything but the policies of `sections`.
    pub(crate) file: ConfigFile,
    /// The byte ranges of the `[[policy]]` sections, in file order.
    pub(crate) sections: Vec<Range<usize>>,
}

/// Parses the config text but for its policy sections; errors are the
/// whole-file parse's.
pub(crate) fn parse(text: &str) -> Result<Split, toml::de::Error> {
    if let Some(sections) = policy_sections(text).filter(|s| !s.is_empty()) {
        if let Some(file) = parse_rest(text, &sections) {
            return Ok(Split { file, sections });
        }
    }
    Ok(Split { file: toml::from_str(text)?, sections: Vec::new() })
}

/// The one `[[policy]]` table of the section at `range`, its spans the
/// file's. An error is this section's; the whole-file parse says it best.
pub(crate) fn policy_at(text: &str, range: &Range<usize>) -> Result<PolicyConfig, toml::de::Error> {
    use serde::de::Error;
    let section =
        text.get(range.clone()).ok_or_else(|| toml::de::Error::custom("a policy section is cut"))?;
    let one: OnePolicy = toml::from_str(section)?;
    let [policy] = <[PolicyConfig; 1]>::try_from(one.policy)
        .map_err(|_| toml::de::Error::custom("a policy section holds more than one policy"))?;
    Ok(shifted(policy, range.start))
}

/// The text with every `[[policy]]` section blanked out: what a reader of
/// the other tables (the `[tenant]` table, say) needs, at the file's offsets.
pub(crate) fn without_policies(text: &str) -> std::borrow::Cow<'_, str> {
    match policy_sections(text) {
        Some(sections) if !sections.is_empty() => blanked(text, &sections).map_or(text.into(), Into::into),
        _ => text.into(),
    }
}

/// Everything but the sections, or None to parse the whole file instead.
fn parse_rest(text: &str, sections: &[Range<usize>]) -> Option<ConfigFile> {
    let file: ConfigFile = toml::from_str(&blanked(text, sections)?).ok()?;
    // The rest cannot define policies (a root `policy` key was refused by
    // the scan); this is a second guard.
    file.policies.is_empty().then_some(file)
}

/// One section: exactly one `[[policy]]` table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OnePolicy {
    policy: Vec<PolicyConfig>,
}

/// The text with `sections` turned into spaces, cut after the last byte
/// that is not in one (the policies usually come last, and the TOML lexer
/// reserves memory by the length of what it is given). Every offset is the
/// file's. `None` if that would not be UTF-8 (a section boundary inside a
/// character: never, from the lexer).
fn blanked(text: &str, sections: &[Range<usize>]) -> Option<String> {
    let mut end = text.len();
    for range in sections.iter().rev() {
        if range.end == end {
            end = range.start;
        }
    }
    let mut bytes = text.as_bytes().get(..end)?.to_vec();
    for range in sections {
        if let Some(inside) = bytes.get_mut(range.start.min(end)..range.end.min(end)) {
            inside.fill(b' ');
        }
    }
    String::from_utf8(bytes).ok()
}

/// What a table header names.
enum Header {
    /// `[[policy]]`: a new policy.
    Policy,
    /// `[policy.…]` or `[[policy.…]]`: part of the last policy.
    PolicyPart,
    /// Any other table.
    Other,
}

/// The byte ranges of the `[[policy]]` sections, each from its header to
/// the next header that is not one of its sub-tables; `None` when the file
/// is not shaped so that cutting it there is certainly safe.
fn policy_sections(text: &str) -> Option<Vec<Range<usize>>> {
    let source = Source::new(text);
    let mut tokens = source.lex().peekable();
    let mut sections = Vec::new();
    let mut open: Option<usize> = None;
    // Brackets and braces open in a value (arrays and inline tables may
    // span lines); a `[` starting a line outside any value is a header.
    let mut depth = 0usize;
    let mut line_start = true;
    let mut in_root = true;
    while let Some(token) = tokens.next() {
        match token.kind() {
            TokenKind::Eof => break,
            // A root key `policy` (`policy = []`, `policy.x = …`) before any
            // table: whatever it defines, the whole-file parse must judge
            // it together with the `[[policy]]` tables.
            TokenKind::Atom | TokenKind::BasicString | TokenKind::LiteralString
                if in_root && line_start && depth == 0 =>
            {
                let raw = source.get(token.span())?.as_str();
                if key_text(token.kind(), raw).is_none_or(|k| k == "policy") {
                    return None;
                }
                line_start = false;
            }
            TokenKind::Whitespace | TokenKind::Comment => {}
            TokenKind::Newline => line_start = depth == 0,
            TokenKind::LeftSquareBracket if line_start && depth == 0 => {
                in_root = false;
                let start = token.span().start();
                let double = tokens.next_if(|t| {
                    t.kind() == TokenKind::LeftSquareBracket && t.span().start() == token.span().end()
                });
                let header = header(&source, &mut tokens, double.is_some())?;
                match header {
                    Header::Policy => {
                        if let Some(from) = open.replace(start) {
                            sections.push(from..start);
                        }
                    }
                    Header::PolicyPart if open.is_some() => {}
                    // A policy's sub-table after another table: legal TOML
                    // that cutting would break.
                    Header::PolicyPart => return None,
                    Header::Other => {
                        if let Some(from) = open.take() {
                            sections.push(from..start);
                        }
                    }
                }
                line_start = false;
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => {
                depth += 1;
                line_start = false;
            }
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.checked_sub(1)?;
                line_start = false;
            }
            _ => line_start = false,
        }
    }
    if depth != 0 {
        return None;
    }
    if let Some(from) = open {
        sections.push(from..text.len());
    }
    Some(sections)
}

/// Reads a header's key up to its closing bracket(s).
fn header<'i>(
    source: &Source<'i>,
    tokens: &mut std::iter::Peekable<toml_parser::lexer::Lexer<'i>>,
    double: bool,
) -> Option<Header> {
    let mut first: Option<String> = None;
    let mut dotted = false;
    for token in tokens.by_ref() {
        let raw = source.get(token.span())?.as_str();
        match token.kind() {
            TokenKind::Whitespace => {}
            TokenKind::Atom | TokenKind::BasicString | TokenKind::LiteralString if first.is_none() => {
                first = Some(key_text(token.kind(), raw)?);
            }
            TokenKind::Atom | TokenKind::BasicString | TokenKind::LiteralString => {}
            TokenKind::Dot if first.is_some() => dotted = true,
            TokenKind::RightSquareBracket => {
                if double {
                    // `]]`: the second bracket must follow at once.
                    let close = tokens.next()?;
                    if close.kind() != TokenKind::RightSquareBracket
                        || close.span().start() != token.span().end()
                    {
                        return None;
                    }
                }
                return Some(match (first.as_deref(), dotted, double) {
                    (Some("policy"), false, true) => Header::Policy,
                    // `[policy]` alone is an error the whole-file parse reports.
                    (Some("policy"), false, false) => return None,
                    (Some("policy"), true, _) => Header::PolicyPart,
                    _ => Header::Other,
                });
            }
            _ => return None,
        }
    }
    None
}

/// A key's text: bare, or quoted without escapes (an escaped key is rare
/// enough to leave to the whole-file parse).
fn key_text(kind: TokenKind, raw: &str) -> Option<String> {
    match kind {
        TokenKind::Atom => Some(raw.to_string()),
        TokenKind::BasicString if !raw.contains('\\') => {
            raw.strip_prefix('"')?.strip_suffix('"').map(str::to_string)
        }
        TokenKind::LiteralString => raw.strip_prefix('\'')?.strip_suffix('\'').map(str::to_string),
        _ => None,
    }
}

fn moved<T>(s: Spanned<T>, by: usize) -> Spanned<T> {
    let span = s.span();
    Spanned::new(span.start + by..span.end + by, s.into_inner())
}

/// The policy with every span moved `by` bytes. Every field is named, so a
/// new spanned field cannot be forgotten here.
fn shifted(p: PolicyConfig, by: usize) -> PolicyConfig {
    let PolicyConfig {
        name,
        description,
        platforms,
        platform_suffix,
        api,
        marker,
        partner,
        max_threat_level,
        settings,
        platform_settings,
        actions,
        assignments,
    } = p;
    let AssignmentsConfig { include, exclude, all_users, all_devices } = assignments;
    PolicyConfig {
        name: moved(name, by),
        description,
        platforms: platforms.into_iter().map(|s| moved(s, by)).collect(),
        platform_suffix,
        api,
        marker,
        partner: partner.map(|s| moved(s, by)),
        max_threat_level: max_threat_level.map(|s| moved(s, by)),
        settings: settings.map(|s| moved(s, by)),
        platform_settings: platform_settings.into_iter().map(|(k, s)| (k, moved(s, by))).collect(),
        actions: actions.into_iter().map(|s| moved(s, by)).collect(),
        assignments: AssignmentsConfig {
            include: include.into_iter().map(|s| moved(s, by)).collect(),
            exclude: exclude.into_iter().map(|s| moved(s, by)).collect(),
            all_users,
            all_devices,
        },
    }
}

#[cfg(test)]
#[path = "split_tests.rs"]
mod tests;
