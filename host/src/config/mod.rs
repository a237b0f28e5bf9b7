//! The admin's config file (`mtdhost.toml`): what the tenant should look like.
//!
//! Parsing is strict (unknown keys are errors) and every error names the
//! file, line and column, with a hint. Semantic checks that need more than
//! one value (a policy naming a plugin that is not configured, duplicate
//! names, settings that do not exist on a platform) use the spans TOML keeps.

mod conditional_access;
mod connectors;
mod error;
mod split;
mod types;

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub use error::{ConfigError, Location};
pub(crate) use split::without_policies;
pub use types::*;

use crate::graph::schema::{self, ApiVersion};
use mtd_model::rules::{self, ActionShape, Rule, MAX_GRACE_PERIOD_HOURS};

/// A loaded, checked config.
#[derive(Debug, Clone)]
pub struct Config {
    /// The config file's path, for messages and for resolving relative paths.
    pub path: PathBuf,
    /// The file's text as read.
    pub text: String,
    /// The parsed contents. A large config's `[[policy]]` tables are not in
    /// `file.policies` but read one at a time by [`Config::policies`].
    pub file: ConfigFile,
    /// The `[[policy]]` sections still to be parsed when walked (split.rs).
    sections: Vec<Range<usize>>,
    /// How many desired policies the tables make (one per platform).
    expanded: usize,
    /// Byte offset of each line's start, so locating a span is a binary
    /// search, not a scan of the file (a config of thousands of policies
    /// asks for thousands of locations).
    line_starts: Vec<usize>,
}

/// Intune's write limit: per app per tenant, per 20 seconds.
const MAX_WRITES_PER_WINDOW: i64 = 100;

impl Config {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::plain(path, format!("cannot read the config file: {e}")))?;
        Self::parse(path, text)
    }

    /// Parses and checks config text (the path is for messages and relative paths).
    pub fn parse(path: &Path, text: String) -> Result<Config, ConfigError> {
        let split::Split { file, sections } =
            split::parse(&text).map_err(|e| ConfigError::from_toml(path, &text, &e))?;
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let mut config = Config { path: path.to_path_buf(), text, file, sections, expanded: 0, line_starts };
        config.expanded = config.check()?;
        Ok(config)
    }

    /// The `[[policy]]` tables in file order. A large config's tables are
    /// parsed here, one at a time, so they are never all in memory at once;
    /// each was parsed when the config was loaded, so an error here means
    /// `text` was changed since; it is worded as the whole-file parse words it.
    pub fn policies(&self) -> impl Iterator<Item = Result<Cow<'_, PolicyConfig>, ConfigError>> + '_ {
        let parsed = self.file.policies.iter().map(|p| Ok(Cow::Borrowed(p)));
        let walked = self.sections.iter().map(|range| {
            split::policy_at(&self.text, range).map(Cow::Owned).map_err(|e| self.section_error(range, &e))
        });
        parsed.chain(walked)
    }

    /// How many desired policies the `[[policy]]` tables make: one per platform.
    pub fn expanded_len(&self) -> usize {
        self.expanded
    }

    /// A section's parse error, worded as the whole-file parse words it.
    fn section_error(&self, range: &Range<usize>, e: &toml::de::Error) -> ConfigError {
        match toml::from_str::<ConfigFile>(&self.text) {
            Err(whole) => ConfigError::from_toml(&self.path, &self.text, &whole),
            Ok(_) => self.err(
                range.start..range.start,
                format!("cannot read this policy: {}", e.message().trim()),
                None,
            ),
        }
    }

    /// A location in this file from a byte span.
    pub fn at(&self, span: std::ops::Range<usize>) -> Location {
        let offset = span.start.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset).max(1);
        let start = self.line_starts[line - 1];
        let column = self.text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
        Location { path: self.path.clone(), line, column }
    }

    fn err(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
        hint: Option<&str>,
    ) -> ConfigError {
        ConfigError::at(self.at(span), message, hint)
    }

    /// Resolves a path written in the config relative to the config's folder.
    pub fn relative(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or(Path::new(".")).join(p)
        }
    }

    /// Signature settings are all or nothing: half of them would load the
    /// plugin unchecked.
    fn check_integrity(&self, name: &str, plugin: &PluginConfig) -> Result<(), ConfigError> {
        let keys = plugin.trusted_keys.as_ref().filter(|k| !k.get_ref().is_empty());
        match (&plugin.signature, keys) {
            (Some(sig), None) => {
                return Err(self.err(
                    sig.span(),
                    format!("plugin '{name}': a signature needs trusted-keys"),
                    Some("list the minisign public keys (RW…) allowed to sign it in trusted-keys"),
                ))
            }
            (None, Some(keys)) => {
                return Err(self.err(
                    keys.span(),
                    format!(
                        "plugin '{name}': trusted-keys without a signature would load the plugin \
                         unchecked; refusing"
                    ),
                    Some("add signature = \"PLUGIN.wasm.minisig\" (the plugin's minisign signature file)"),
                ))
            }
            _ => {}
        }
        if plugin.trusted_keys.as_ref().is_some_and(|k| k.get_ref().is_empty()) {
            let span = plugin.trusted_keys.as_ref().map(|k| k.span()).unwrap_or(plugin.source.span());
            return Err(self.err(
                span,
                format!("plugin '{name}': trusted-keys is empty"),
                Some("list at least one minisign public key, or remove trusted-keys and signature"),
            ));
        }
        for key in keys.map(|k| k.get_ref().as_slice()).unwrap_or_default() {
            if let Err(e) = crate::runtime::check_public_key(key.get_ref()) {
                return Err(self.err(
                    key.span(),
                    format!("plugin '{name}': trusted key is not a minisign public key: {e}"),
                    Some("a key is the RW… line of the signer's minisign.pub"),
                ));
            }
        }
        if let Some(sig) = &plugin.signature {
            let path = self.relative(sig.get_ref());
            if !path.is_file() {
                return Err(self.err(
                    sig.span(),
                    format!("plugin '{name}': signature file {} does not exist", path.display()),
                    Some("paths are relative to the config file"),
                ));
            }
        }
        Ok(())
    }

    /// Checks everything; the count of desired policies the tables make.
    fn check(&self) -> Result<usize, ConfigError> {
        // The policies are walked first, since each is parsed as it is
        // walked: a table that does not parse is an error in the file's
        // TOML and comes before any other, as it would from a whole-file
        // parse. A policy's own checks keep their turn below.
        let mut seen = BTreeSet::new();
        let mut expanded = 0;
        let mut policy_error = None;
        for p in self.policies() {
            let p = p?;
            if policy_error.is_none() {
                policy_error = self.check_policy(&p, &mut seen).err();
            }
            expanded += p.platforms.len();
        }
        let f = &self.file;
        self.check_tenant()?;
        self.check_connectors()?;
        self.check_conditional_access()?;
        for (name, plugin) in &f.plugins {
            self.check_plugin(name, plugin)?;
        }
        if let Some(e) = policy_error {
            return Err(e);
        }
        for rule in &f.rules {
            if !f.plugins.contains_key(rule.get_ref()) {
                return Err(self.err(
                    rule.span(),
                    format!("rules plugin '{}' is not configured under [plugins]", rule.get_ref()),
                    None,
                ));
            }
        }
        Ok(expanded)
    }

    /// A plugin's limits, source file and pins.
    fn check_plugin(&self, name: &str, plugin: &PluginConfig) -> Result<(), ConfigError> {
        if let Err(reason) = plugin.limits.check() {
            return Err(self.err(plugin.source.span(), format!("plugin '{name}': {reason}"), None));
        }
        if !plugin.source.get_ref().starts_with("builtin:")
            && !self.relative(plugin.source.get_ref()).exists()
        {
            return Err(self.err(
                plugin.source.span(),
                format!(
                    "plugin '{name}': file {} does not exist",
                    self.relative(plugin.source.get_ref()).display()
                ),
                Some("paths are relative to the config file; builtin plugins are written builtin:NAME"),
            ));
        }
        if let Some(pin) = &plugin.sha256 {
            let p = pin.get_ref().trim_start_matches("sha256:");
            if p.len() != 64 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(self.err(
                    pin.span(),
                    format!("plugin '{name}': sha256 must be 64 hex digits"),
                    None,
                ));
            }
        }
        self.check_integrity(name, plugin)
    }

    /// One `[[policy]]`: its name and platforms (unique per platform across
    /// the file, kept in `seen`), settings, partner, level and actions.
    fn check_policy(
        &self,
        p: &PolicyConfig,
        seen: &mut BTreeSet<(String, Platform)>,
    ) -> Result<(), ConfigError> {
        let name = p.name.get_ref();
        if name.trim().is_empty() {
            return Err(self.err(p.name.span(), "a policy name cannot be empty", None));
        }
        if p.platforms.is_empty() {
            return Err(self.err(
                p.name.span(),
                format!("policy '{name}' has no platforms"),
                Some("add platforms = [\"ios\", \"android\"]"),
            ));
        }
        if !p.platform_suffix && p.platforms.len() > 1 {
            return Err(self.err(
                p.name.span(),
                format!("policy '{name}' has several platforms, so it needs the platform suffix"),
                Some("remove platform-suffix = false, or split the policy"),
            ));
        }
        for platform in &p.platforms {
            let display = p.display_name(*platform.get_ref());
            if !seen.insert((display.clone(), *platform.get_ref())) {
                return Err(self.err(
                    p.name.span(),
                    format!("duplicate policy '{display}'"),
                    Some("policy names must be unique per platform"),
                ));
            }
            self.check_settings(p, *platform.get_ref())?;
        }
        self.check_level(p)?;
        self.check_action_rules(p)?;
        self.check_notifications(p)
    }

    /// The partner a level is written in is configured; a level without
    /// one is Intune's.
    fn check_level(&self, p: &PolicyConfig) -> Result<(), ConfigError> {
        let plugins = &self.file.plugins;
        if let Some(partner) = &p.partner {
            if !plugins.contains_key(partner.get_ref()) {
                return Err(self.err(
                    partner.span(),
                    format!(
                        "policy '{}' uses partner '{}', but no [plugins.{}] is configured",
                        p.name.get_ref(),
                        partner.get_ref(),
                        partner.get_ref()
                    ),
                    Some(&format!(
                        "configured plugins: {}",
                        plugins.keys().cloned().collect::<Vec<_>>().join(", ")
                    )),
                ));
            }
        }
        if let Some(level) = &p.max_threat_level {
            if p.partner.is_none() && crate::runtime::ThreatLevel::parse(level.get_ref()).is_none() {
                return Err(self.err(
                    level.span(),
                    format!("'{}' is not an Intune threat level", level.get_ref()),
                    Some("use secured, low, medium or high, or set partner = \"…\" to write it in the partner's words"),
                ));
            }
        }
        Ok(())
    }

    /// Only notification actions, and each of them, name a template.
    fn check_notifications(&self, p: &PolicyConfig) -> Result<(), ConfigError> {
        for a in &p.actions {
            let a_ref = a.get_ref();
            if a_ref.kind == ActionKind::Notification && a_ref.template.is_none() {
                return Err(self.err(
                    a.span(),
                    "a notification action needs template = \"<notification template name or id>\"",
                    None,
                ));
            }
            if a_ref.kind != ActionKind::Notification && (a_ref.template.is_some() || !a_ref.cc.is_empty()) {
                return Err(self.err(a.span(), "only notification actions take template and cc", None));
            }
        }
        Ok(())
    }

    /// Write pacing for this tenant: `[tenant] write-limit` per 20 s.
    pub fn pace_limit(&self) -> crate::graph::PaceLimit {
        let default = crate::graph::PaceLimit::default();
        match &self.file.tenant.write_limit {
            Some(w) => crate::graph::PaceLimit { max: *w.get_ref() as usize, ..default },
            None => default,
        }
    }

    fn check_tenant(&self) -> Result<(), ConfigError> {
        let t = &self.file.tenant;
        if let Some(o) = &t.owner {
            if !crate::pipeline::marker::valid_owner(o.get_ref()) {
                return Err(self.err(
                    o.span(),
                    format!("[tenant] owner '{}' is not a valid owner id", o.get_ref()),
                    Some("use 1 to 64 letters, digits, '.', '_' or '-', e.g. owner = \"contoso-prod\""),
                ));
            }
        }
        if let Some(w) = &t.write_limit {
            if !(1..=MAX_WRITES_PER_WINDOW).contains(w.get_ref()) {
                return Err(self.err(
                    w.span(),
                    format!("[tenant] write-limit {} is outside 1–{MAX_WRITES_PER_WINDOW}", w.get_ref()),
                    Some("it counts writes per 20 seconds; Intune allows 100 per app per tenant, so more only earns 429s"),
                ));
            }
        }
        if t.emulator.is_some() {
            return Ok(());
        }
        let Some(auth) = &t.auth else {
            return Err(ConfigError::plain(
                &self.path,
                "[tenant] needs either emulator = { … } or tenant-id and an [tenant.auth] table".into(),
            ));
        };
        // Secretless methods take the tenant from AZURE_TENANT_ID when the
        // config omits it (or need none: a managed identity knows its tenant).
        if t.tenant_id.is_none()
            && !matches!(
                auth.method,
                AuthMethod::Bearer
                    | AuthMethod::WorkloadIdentity
                    | AuthMethod::ManagedIdentity
                    | AuthMethod::Auto
            )
        {
            return Err(ConfigError::plain(
                &self.path,
                "[tenant] needs tenant-id for this sign-in method".into(),
            ));
        }
        let needs = |ok: bool, what: &str| {
            if ok {
                Ok(())
            } else {
                Err(ConfigError::plain(
                    &self.path,
                    format!("[tenant.auth] method {:?} needs {what}", auth.method),
                ))
            }
        };
        match auth.method {
            AuthMethod::ClientSecret => {
                needs(auth.client_id.is_some(), "client-id")?;
                needs(
                    auth.secret_env.is_some() != auth.secret_file.is_some(),
                    "exactly one of secret-env or secret-file",
                )
            }
            AuthMethod::Certificate => {
                needs(auth.client_id.is_some(), "client-id")?;
                needs(
                    auth.certificate.is_some() && auth.private_key.is_some(),
                    "certificate and private-key (PEM files)",
                )
            }
            AuthMethod::DeviceCode => needs(auth.client_id.is_some(), "client-id"),
            AuthMethod::Bearer => needs(auth.token_env.is_some(), "token-env"),
            // These read no secret at all; what they need comes from the
            // environment at sign-in and is reported then.
            AuthMethod::WorkloadIdentity | AuthMethod::ManagedIdentity | AuthMethod::Auto => {
                let secretless = auth.secret_env.is_none()
                    && auth.secret_file.is_none()
                    && auth.certificate.is_none()
                    && auth.private_key.is_none()
                    && auth.token_env.is_none();
                needs(
                    secretless,
                    "no secret-env, secret-file, certificate, private-key or token-env (it uses none)",
                )
            }
        }
    }

    /// Intune's rules on a policy's actions (the rule table), worded for the config.
    fn check_action_rules(&self, p: &PolicyConfig) -> Result<(), ConfigError> {
        let name = p.name.get_ref();
        let mut shapes: Vec<ActionShape<'_>> = p
            .actions
            .iter()
            .map(|a| ActionShape::of(a.get_ref().kind, i64::from(a.get_ref().grace_period_hours)))
            .collect();
        // With no block action listed, the policy blocks at once (pipeline).
        if !p.actions.iter().any(|a| a.get_ref().kind == ActionKind::Block) {
            shapes.push(ActionShape::of(ActionKind::Block, 0));
        }
        let Some(broken) = rules::check_actions(p.api.version(), &shapes).into_iter().next() else {
            return Ok(());
        };
        let span = |index: usize| p.actions.get(index).map_or(p.name.span(), Spanned::span);
        Err(match broken {
            Rule::BlockActions { found } => self.err(
                p.name.span(),
                format!("policy '{name}' has {found} block actions; Intune allows exactly one"),
                None,
            ),
            Rule::GracePeriod { index, .. } => self.err(
                span(index),
                format!("grace-period-hours must be at most {MAX_GRACE_PERIOD_HOURS} (one year)"),
                None,
            ),
            Rule::ActionNotInVersion { index, kind, since } => self.err(
                span(index),
                format!("{} exists only in the Graph {} API", kind.key(), since.segment()),
                Some("set api = \"beta\" on the policy"),
            ),
            other => self.err(p.name.span(), format!("policy '{name}': {other}"), None),
        })
    }

    fn check_settings(&self, p: &PolicyConfig, platform: Platform) -> Result<(), ConfigError> {
        let ty = platform.policy_type();
        let version = p.api.version();
        let check = |table: &Spanned<toml::Table>| -> Result<(), ConfigError> {
            for (k, v) in table.get_ref() {
                let json = serde_json::to_value(v).unwrap_or(serde_json::Value::Null);
                if let Some(Rule::Setting(e)) =
                    rules::check_settings(ty, version, false, &[(k.as_str(), &json)]).into_iter().next()
                {
                    let hint = match e {
                        schema::Violation::BetaOnly { .. } => {
                            Some("set api = \"beta\" on this policy".to_string())
                        }
                        schema::Violation::Unknown { .. } => Some(format!(
                            "{} settings: {}",
                            platform.label(),
                            ty.properties()
                                .filter(|x| x.since <= version)
                                .map(|x| x.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                        _ => None,
                    };
                    return Err(self.err(
                        table.span(),
                        format!("policy '{}' ({}): {e}", p.name.get_ref(), platform.label()),
                        hint.as_deref(),
                    ));
                }
                if MANAGED_KEYS.contains(&k.as_str()) {
                    return Err(self.err(
                        table.span(),
                        format!("'{k}' is set by mtdhost from the policy itself"),
                        Some("use name, description or max-threat-level instead"),
                    ));
                }
            }
            Ok(())
        };
        if let Some(s) = &p.settings {
            check(s)?;
        }
        if let Some(s) = p.platform_settings.get(&platform) {
            check(s)?;
        }
        for other in p.platform_settings.keys() {
            if !p.platforms.iter().any(|x| x.get_ref() == other) {
                return Err(self.err(
                    p.name.span(),
                    format!(
                        "policy '{}' has settings for {}, which is not in its platforms",
                        p.name.get_ref(),
                        other.label()
                    ),
                    None,
                ));
            }
        }
        let broken = rules::check_settings(ty, version, p.max_threat_level.is_some(), &[]);
        // The threat level is the policy's point: its problem is named first.
        let first = broken
            .iter()
            .find(|r| matches!(r, Rule::NoThreatLevel { .. } | Rule::ThreatLevelNotInVersion { .. }))
            .or(broken.first());
        match first {
            None => Ok(()),
            Some(Rule::NoThreatLevel { .. }) => Err(self.err(
                p.name.span(),
                format!("{} compliance policies have no device threat level in Graph", platform.label()),
                None,
            )),
            Some(Rule::ThreatLevelNotInVersion { .. }) => Err(self.err(
                p.name.span(),
                format!("{} has no third-party MTD threat level in Graph v1.0 (deviceThreatProtectionRequiredSecurityLevel is beta-only)", platform.label()),
                Some("set api = \"beta\" on this policy to use it"),
            )),
            Some(Rule::TypeNotInVersion { .. }) => Err(self.err(
                p.name.span(),
                format!("{} compliance policies exist only in the Graph beta API", platform.label()),
                Some("set api = \"beta\" on this policy"),
            )),
            Some(other) => Err(self.err(p.name.span(), format!("policy '{}': {other}", p.name.get_ref()), None)),
        }
    }
}

/// Properties mtdhost sets itself from the policy's own keys.
pub const MANAGED_KEYS: &[&str] = &[
    "displayName",
    "description",
    "deviceThreatProtectionEnabled",
    "deviceThreatProtectionRequiredSecurityLevel",
];

impl ApiChoice {
    /// The Graph API version this choice stands for.
    pub fn version(self) -> ApiVersion {
        match self {
            ApiChoice::V1 => ApiVersion::V1,
            ApiChoice::Beta => ApiVersion::Beta,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_from_the_line_index_match_a_scan() {
        let text = "# Zürich ünïcode\n[tenant]\nemulator = {}\n\n# end\n".to_string();
        let path = Path::new("mtdhost.toml");
        let config = Config::parse(path, text.clone()).expect("valid");
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            assert_eq!(config.at(offset..offset), Location::new(path, &text, offset), "offset {offset}");
        }
    }
}
