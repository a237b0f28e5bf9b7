//! Every kind of config error gives a clear message with file:line:column
//! (or the file, for whole-table problems) and, where useful, a hint.

use std::path::Path;

use mtdhost::config::Config;

const TENANT: &str = "[tenant]\nemulator = {}\n\n[plugins.example]\nsource = \"builtin:example\"\n\n";

fn err(body: &str) -> String {
    match Config::parse(Path::new("mtdhost.toml"), body.to_string()) {
        Ok(_) => panic!("expected an error for:\n{body}"),
        Err(e) => e.to_string(),
    }
}

/// The 1-based line of the first occurrence of `needle` in the config text.
fn line_of(body: &str, needle: &str) -> usize {
    body.lines().position(|l| l.contains(needle)).expect("needle in config") + 1
}

fn check(body: &str, at: &str, message: &str) {
    let e = err(body);
    let line = line_of(body, at);
    assert!(e.starts_with(&format!("mtdhost.toml:{line}:")), "expected line {line} in: {e}");
    assert!(e.contains(message), "expected {message:?} in: {e}");
}

fn policy(extra: &str) -> String {
    format!("{TENANT}[[policy]]\nname = \"P\"\nplatforms = [\"ios\"]\n{extra}")
}

#[test]
fn syntax_error() {
    let body = format!("{TENANT}[[policy]\nname = \"P\"\n");
    check(&body, "[[policy]", "");
    assert!(err(&body).starts_with("mtdhost.toml:7:"));
}

#[test]
fn unknown_key_at_top_and_in_a_policy() {
    check(&format!("{TENANT}polcy = 1\n"), "polcy", "unknown field `polcy`");
    let e = err(&policy("max-level = \"low\"\n"));
    assert!(e.contains("unknown field `max-level`") && e.contains("hint: check the spelling"), "{e}");
}

#[test]
fn bad_platform() {
    check(
        &format!("{TENANT}[[policy]]\nname = \"P\"\nplatforms = [\"iphone\"]\n"),
        "iphone",
        "unknown variant `iphone`",
    );
}

#[test]
fn bad_level() {
    check(&policy("max-threat-level = \"severe\"\n"), "severe", "'severe' is not an Intune threat level");
}

#[test]
fn missing_plugin_reference() {
    check(
        &policy("partner = \"lookout\"\nmax-threat-level = \"ELEVATED\"\n"),
        "lookout",
        "no [plugins.lookout] is configured",
    );
}

#[test]
fn missing_plugin_file() {
    let body = "[tenant]\nemulator = {}\n\n[plugins.mine]\nsource = \"does/not/exist.wasm\"\n";
    check(body, "does/not", "does not exist");
}

#[test]
fn bad_sha256() {
    let body = "[tenant]\nemulator = {}\n\n[plugins.mine]\nsource = \"builtin:example\"\nsha256 = \"abc\"\n";
    check(body, "sha256", "sha256 must be 64 hex digits");
}

#[test]
fn duplicate_policy_name() {
    let body = format!("{}\n[[policy]]\nname = \"P\"\nplatforms = [\"ios\"]\n", policy(""));
    let e = err(&body);
    assert!(e.contains("duplicate policy 'P - iOS'"), "{e}");
    assert!(e.starts_with("mtdhost.toml:12:"), "the second definition: {e}");
}

#[test]
fn setting_not_valid_for_the_platform() {
    let e = err(&policy("[policy.settings]\npasswordRequired = true\n"));
    assert!(e.contains("'passwordRequired' is not a property of this policy type"), "{e}");
    assert!(e.contains("passcodeRequired"), "the hint lists the iOS settings: {e}");
}

#[test]
fn beta_only_setting_on_v1() {
    let e = err(&policy("[policy.settings]\nosMinimumBuildVersion = \"21A\"\n"));
    assert!(e.contains("exists only in the beta API") && e.contains("set api = \"beta\""), "{e}");
}

#[test]
fn wrong_setting_type() {
    check(
        &policy("[policy.settings]\npasscodeMinimumLength = \"six\"\n"),
        "[policy.settings]",
        "must be a 32-bit integer",
    );
}

#[test]
fn windows_threat_level_needs_beta() {
    let body =
        format!("{TENANT}[[policy]]\nname = \"W\"\nplatforms = [\"windows\"]\nmax-threat-level = \"low\"\n");
    check(&body, "name = \"W\"", "Windows has no third-party MTD threat level in Graph v1.0");
}

#[test]
fn device_owner_needs_beta() {
    let body = format!("{TENANT}[[policy]]\nname = \"D\"\nplatforms = [\"android-device-owner\"]\n");
    check(&body, "name = \"D\"", "exist only in the Graph beta API");
}

#[test]
fn no_platforms() {
    check(&format!("{TENANT}[[policy]]\nname = \"P\"\nplatforms = []\n"), "name = \"P\"", "has no platforms");
}

#[test]
fn two_block_actions() {
    check(
        &policy("actions = [{ type = \"block\" }, { type = \"block\", grace-period-hours = 2 }]\n"),
        "name = \"P\"",
        "Intune allows exactly one",
    );
}

#[test]
fn notification_without_template_and_grace_out_of_range() {
    check(&policy("actions = [{ type = \"notification\" }]\n"), "notification", "needs template");
    check(&policy("actions = [{ type = \"block\", grace-period-hours = 9000 }]\n"), "9000", "at most 8760");
    check(
        &policy("actions = [{ type = \"wipe\", template = \"x\" }]\n"),
        "wipe",
        "only notification actions take template",
    );
}

#[test]
fn unknown_action_type() {
    check(&policy("actions = [{ type = \"explode\" }]\n"), "explode", "unknown variant `explode`");
}

#[test]
fn missing_tenant_and_incomplete_auth() {
    let e = err("[[policy]]\nname = \"P\"\nplatforms = [\"ios\"]\n");
    assert!(e.contains("missing field `tenant`"), "{e}");
    let e =
        err("[tenant]\ntenant-id = \"t\"\n[tenant.auth]\nmethod = \"client-secret\"\nclient-id = \"c\"\n");
    assert!(e.contains("needs exactly one of secret-env or secret-file"), "{e}");
    let e = err("[tenant]\ntenant-id = \"t\"\n[tenant.auth]\nmethod = \"password\"\n");
    assert!(e.starts_with("mtdhost.toml:4:") && e.contains("unknown variant `password`"), "{e}");
}

#[test]
fn rules_plugin_not_configured() {
    // Top-level keys come before the first table in TOML.
    check(
        &format!("rules = [\"exec-rules\"]\n{TENANT}"),
        "rules =",
        "rules plugin 'exec-rules' is not configured",
    );
}

#[test]
fn plugin_limits_out_of_range() {
    let body = "[tenant]\nemulator = {}\n\n[plugins.mine]\nsource = \"builtin:example\"\n[plugins.mine.limits]\nmemory-mib = 0\n";
    check(body, "source", "memory-mib = 0 is out of range");
}

#[test]
fn platform_settings_for_an_unlisted_platform() {
    check(
        &policy("[policy.platform-settings.android]\nstorageRequireEncryption = true\n"),
        "name = \"P\"",
        "has settings for Android, which is not in its platforms",
    );
}

#[test]
fn managed_keys_cannot_be_set_as_settings() {
    check(
        &policy("[policy.settings]\ndeviceThreatProtectionRequiredSecurityLevel = \"low\"\n"),
        "[policy.settings]",
        "is set by mtdhost from the policy itself",
    );
}

#[test]
fn a_valid_config_parses() {
    let body = policy("max-threat-level = \"medium\"\n[policy.settings]\nosMinimumVersion = \"17.0\"\n");
    Config::parse(Path::new("mtdhost.toml"), body).expect("valid");
}

/// A real minisign public key (from minisign's own documentation).
const KEY: &str = "RWQf6LRCGA9i53mlYecO4IzT51TGPpvWucNSCh1CBM0QTaLn73Y7GFO3";

fn plugin_with(extra: &str) -> String {
    format!("[tenant]\nemulator = {{}}\n\n[plugins.mine]\nsource = \"builtin:example\"\n{extra}")
}

#[test]
fn trusted_keys_without_a_signature_fail_closed() {
    let body = plugin_with(&format!("trusted-keys = [\"{KEY}\"]\n"));
    check(&body, "trusted-keys", "trusted-keys without a signature would load the plugin unchecked");
    assert!(err(&body).contains("hint: add signature = "), "{}", err(&body));
}

#[test]
fn a_signature_without_trusted_keys_fails() {
    let body = plugin_with("signature = \"mine.wasm.minisig\"\n");
    check(&body, "signature", "a signature needs trusted-keys");
    let body = plugin_with("signature = \"mine.wasm.minisig\"\ntrusted-keys = []\n");
    check(&body, "signature", "a signature needs trusted-keys");
}

#[test]
fn an_empty_trusted_key_list_or_a_bad_key_fails() {
    let dir = tempfile::tempdir().unwrap();
    let sig = dir.path().join("mine.wasm.minisig");
    std::fs::write(&sig, "untrusted comment: x\n").unwrap();
    let cfg = dir.path().join("mtdhost.toml");
    let parse = |body: &str| Config::parse(&cfg, body.to_string()).unwrap_err().to_string();
    let body = plugin_with(&format!(
        "signature = \"mine.wasm.minisig\"\ntrusted-keys = [\"{KEY}\", \"RWnot-a-key\"]\n"
    ));
    let e = parse(&body);
    assert!(
        e.contains("mtdhost.toml:7:77:") && e.contains("trusted key is not a minisign public key"),
        "{e}"
    );
    let body = plugin_with(&format!("signature = \"missing.minisig\"\ntrusted-keys = [\"{KEY}\"]\n"));
    let e = parse(&body);
    assert!(
        e.contains("mtdhost.toml:6:") && e.contains("signature file") && e.contains("does not exist"),
        "{e}"
    );
    let body = plugin_with(&format!("signature = \"mine.wasm.minisig\"\ntrusted-keys = [\"{KEY}\"]\n"));
    Config::parse(&cfg, body).expect("signature and keys together are accepted");
}

const CONNECTOR: &str = "3c9f4a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";

fn connector(extra: &str) -> String {
    format!("{TENANT}[connectors.lookout]\nid = \"{CONNECTOR}\"\n{extra}")
}

#[test]
fn connector_tables_are_checked_field_by_field() {
    check(
        &format!("{TENANT}[connectors.lookout]\nid = \"lookout-1\"\n"),
        "lookout-1",
        "[connectors.lookout] id 'lookout-1' is not a connector id (a GUID)",
    );
    assert!(err(&format!("{TENANT}[connectors.lookout]\nid = \"x\"\n")).contains("mtdhost connectors"));
    check(&connector("iso = true\n"), "iso", "unknown field `iso`");
    check(
        &connector("block-when-partner-data-missing = [\"ios\", \"iphone\"]\n"),
        "iphone",
        "unknown variant `iphone`",
    );
    check(&connector("app-protection = [\"macos\"]\n"), "app-protection", "no such switch for macos");
    check(&connector("app-protection = [\"ios\", \"ios\"]\n"), "app-protection", "lists ios twice");
    check(&connector("unresponsive-after-days = -1\n"), "unresponsive-after-days", "is not a day count");
    check(
        &connector("unresponsive-after-days = 3000000000\n"),
        "unresponsive-after-days",
        "is not a day count",
    );
    check(
        &connector("[connectors.lookout.settings]\npartnerState = \"enabled\"\n"),
        "[connectors.lookout.settings]",
        "'partnerState' is read-only",
    );
    check(
        &connector("[connectors.lookout.settings]\nallowPartnerToCollectIosApplicationMetadata = true\n"),
        "[connectors.lookout.settings]",
        "is not a property of mobileThreatDefenseConnector",
    );
    check(
        &connector("[connectors.lookout.settings]\nmicrosoftDefenderForEndpointAttachEnabled = \"yes\"\n"),
        "[connectors.lookout.settings]",
        "takes true or false",
    );
    check(
        &connector("ios = true\n[connectors.lookout.settings]\niosEnabled = false\n"),
        "[connectors.lookout.settings]",
        "'iosEnabled' is already set by a named field",
    );
}

#[test]
fn a_connector_named_twice_or_mapped_differently_is_an_error() {
    let twice = format!("{}\n[connectors.other]\nid = \"{}\"\n", connector(""), CONNECTOR.to_uppercase());
    check(&twice, &CONNECTOR.to_uppercase(), "name the same connector");
    let mapped = format!(
        "[tenant]\nemulator = {{}}\n\n[tenant.connectors]\nlookout = \"7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d\"\n\n[connectors.lookout]\nid = \"{CONNECTOR}\"\n"
    );
    check(&mapped, &format!("id = \"{CONNECTOR}\""), "differs from [tenant.connectors] lookout");
    // The same id in both places is fine (the export writes exactly that).
    let same = format!("[tenant]\nemulator = {{}}\n\n[tenant.connectors]\nlookout = \"{CONNECTOR}\"\n\n[connectors.lookout]\nid = \"{CONNECTOR}\"\n");
    Config::parse(Path::new("mtdhost.toml"), same).expect("the same id twice agrees");
}

fn ca(extra: &str) -> String {
    format!(
        "[tenant]\nemulator = {{}}\nowner = \"contoso\"\nbreak-glass = [\"Break Glass Admins\"]\n\n[[conditional-access]]\nname = \"CA\"\napps = [\"Office365\"]\ninclude = [\"Users\"]\nexclude = [\"Break Glass Admins\"]\n{extra}"
    )
}

#[test]
fn conditional_access_tables_are_checked() {
    Config::parse(Path::new("mtdhost.toml"), ca("grant = [\"compliant-device\"]\n")).expect("a valid policy");
    check(&ca("grant = [\"compliant\"]\n"), "grant", "unknown variant `compliant`");
    check(&ca("grant = []\n"), "grant", "grant is empty");
    check(&ca("grant = [\"mfa\", \"mfa\"]\n"), "grant", "lists mfa twice");
    check(&ca("grant = [\"mfa\"]\nstate = \"enabled\"\n"), "state", "unknown variant `enabled`");
    check(&ca("grant = [\"mfa\"]\nplatforms = [\"iOS\"]\n"), "iOS", "unknown variant `iOS`");
    let display_name = ca("grant = [\"mfa\"]\n").replace("[\"Office365\"]", "[\"Office 365\"]");
    check(&display_name, "Office 365", "app 'Office 365' is neither an application id");
    let nobody = ca("grant = [\"mfa\"]\n").replace("include = [\"Users\"]\n", "");
    check(&nobody, "name = \"CA\"", "applies to no one");
    let twice = format!("{}\n[[conditional-access]]\nname = \"CA\"\napps = [\"All\"]\nall-users = true\nexclude = [\"Break Glass Admins\"]\ngrant = [\"mfa\"]\n", ca("grant = [\"mfa\"]\n"));
    assert!(err(&twice).contains("is defined twice"), "{}", err(&twice));
    // The lockout guard's config half.
    let no_exclusion = ca("grant = [\"block\"]\n").replace("exclude = [\"Break Glass Admins\"]\n", "");
    check(&no_exclusion, "name = \"CA\"", "excludes no group");
    let no_break_glass =
        ca("grant = [\"compliant-device\"]\n").replace("break-glass = [\"Break Glass Admins\"]\n", "");
    check(&no_break_glass, "name = \"CA\"", "needs [tenant] break-glass");
    // Every policy, MFA included: Entra's advice is to exclude break-glass from all of them.
    let mfa = ca("grant = [\"mfa\"]\n").replace("break-glass = [\"Break Glass Admins\"]\n", "");
    check(&mfa, "name = \"CA\"", "needs [tenant] break-glass");
    let no_owner = ca("grant = [\"mfa\"]\n").replace("owner = \"contoso\"\n", "");
    check(&no_owner, "name = \"CA\"", "[[conditional-access]] needs [tenant] owner");
}
