//! Secretless sign-in against the emulator: workload identity federation
//! from a token file (re-read when it rotates) and from a GitHub-Actions-style
//! endpoint, Entra's refusals of bad assertions, managed identity through
//! IDENTITY_ENDPOINT and IMDS, and `auto` choosing each source or failing
//! with one clear message. The environment is passed as a map, never set on
//! the process, so these tests cannot race others.

use std::collections::HashMap;

use mtd_e2e::graph::{client_with, emulator, endpoints, fast_options};
use mtdhost::emulator::{
    Emulator, EmulatorConfig, DEMO_CLIENT_ID, DEMO_FEDERATED_SUBJECTS, DEMO_SYSTEM_IDENTITY, DEMO_TENANT,
    DEMO_USER_IDENTITY, TOKEN_EXCHANGE_AUDIENCE,
};
use mtdhost::graph::auth::ambient::{resolve, AmbientMethod, AmbientSettings};
use mtdhost::graph::auth::{Credential, FederatedTokenSource, ManagedIdentitySource, TokenProvider};
use mtdhost::graph::GroupLookup;
use mtdhost::graph::{ClientOptions, GraphError};
use secrecy::ExposeSecret;

const MAIN: &str = DEMO_FEDERATED_SUBJECTS[0];

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn resolve_in(
    method: AmbientMethod,
    settings: &AmbientSettings,
    vars: &HashMap<String, String>,
) -> Credential {
    resolve(method, settings, &|k: &str| vars.get(k).cloned()).unwrap()
}

fn no_retry() -> ClientOptions {
    let mut o = fast_options();
    o.retry.max_attempts = 1;
    o
}

async fn works(emu: &Emulator, credential: Credential) -> Result<(), GraphError> {
    match client_with(emu, credential, no_retry()).find_group("Executives").await? {
        GroupLookup::One(_) => Ok(()),
        other => panic!("{other:?}"),
    }
}

fn demo_ids() -> AmbientSettings {
    AmbientSettings { tenant: Some(DEMO_TENANT.into()), client_id: Some(DEMO_CLIENT_ID.into()), imds: false }
}

/// The error Entra's token endpoint gives for `assertion`.
async fn refusal(emu: &Emulator, assertion: &str, dir: &tempfile::TempDir) -> String {
    let file = dir.path().join("token");
    std::fs::write(&file, assertion).unwrap();
    let cred = Credential::WorkloadIdentity {
        tenant: DEMO_TENANT.into(),
        client_id: DEMO_CLIENT_ID.into(),
        source: FederatedTokenSource::File(file),
    };
    works(emu, cred).await.unwrap_err().to_string()
}

#[tokio::test]
async fn workload_identity_from_a_file_rereads_it_on_every_token_request() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("azure-identity-token");
    std::fs::write(&file, emu.federated_token(MAIN, TOKEN_EXCHANGE_AUDIENCE, 0, 600)).unwrap();
    let vars = env(&[
        ("AZURE_FEDERATED_TOKEN_FILE", file.to_str().unwrap()),
        ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
        ("AZURE_TENANT_ID", DEMO_TENANT),
    ]);
    // Client and tenant come from the environment when the config omits them.
    let cred = resolve_in(AmbientMethod::WorkloadIdentity, &AmbientSettings::default(), &vars);
    let http = mtdhost::graph::http_client().unwrap();
    let provider = TokenProvider::new(cred, endpoints(&emu), http);
    let first = provider.token().await.unwrap();

    // The platform rotates the file; the next token request must read the
    // new content. An expired token there proves it was read.
    std::fs::write(&file, emu.federated_token(MAIN, TOKEN_EXCHANGE_AUDIENCE, -1200, -600)).unwrap();
    provider.invalidate().await;
    let err = provider.token().await.unwrap_err().to_string();
    assert!(err.contains("AADSTS700024"), "{err}");

    std::fs::write(&file, emu.federated_token(DEMO_FEDERATED_SUBJECTS[1], TOKEN_EXCHANGE_AUDIENCE, 0, 600))
        .unwrap();
    let second = provider.token().await.unwrap();
    assert_ne!(first.expose_secret(), second.expose_secret());
    let assertions = emu.requests().iter().filter(|r| r.path.ends_with("/oauth2/v2.0/token")).count();
    assert_eq!(assertions, 3, "one exchange per token request");
}

#[tokio::test]
async fn workload_identity_from_the_github_actions_endpoint() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (url, request_token) = emu.github_actions(MAIN);
    let vars = env(&[
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token.as_str()),
    ]);
    let cred = resolve_in(AmbientMethod::WorkloadIdentity, &demo_ids(), &vars);
    assert!(matches!(
        &cred,
        Credential::WorkloadIdentity { source: FederatedTokenSource::GitHubActions { .. }, .. }
    ));
    works(&emu, cred).await.unwrap();
    assert!(emu.requests().iter().any(|r| r.path == "/_emulator/github/token" && r.status == 200));

    // A wrong request token: the runner's endpoint refuses, with a hint.
    let vars =
        env(&[("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()), ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "stale")]);
    let err = works(&emu, resolve_in(AmbientMethod::WorkloadIdentity, &demo_ids(), &vars)).await.unwrap_err();
    assert!(err.to_string().contains("id-token: write"), "{err}");

    // A workflow on another branch is not trusted by the app.
    let (url, request_token) = emu.github_actions("repo:contoso/compliance:ref:refs/heads/feature");
    let vars = env(&[
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token.as_str()),
    ]);
    let err = works(&emu, resolve_in(AmbientMethod::WorkloadIdentity, &demo_ids(), &vars)).await.unwrap_err();
    assert!(err.to_string().contains("AADSTS70021"), "{err}");
}

#[tokio::test]
async fn bad_assertions_are_refused_with_entras_errors() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();

    let err = refusal(
        &emu,
        &emu.federated_token("repo:evil/fork:ref:refs/heads/main", TOKEN_EXCHANGE_AUDIENCE, 0, 600),
        &dir,
    )
    .await;
    assert!(err.contains("invalid_client: AADSTS70021: No matching federated identity record"), "{err}");
    assert!(err.contains("Assertion Subject: 'repo:evil/fork:ref:refs/heads/main'"), "{err}");

    let err = refusal(&emu, &emu.federated_token(MAIN, "https://github.com/contoso", 0, 600), &dir).await;
    assert!(err.contains("AADSTS70021"), "{err}");
    assert!(err.contains("Assertion Audience: 'https://github.com/contoso'"), "{err}");

    let err = refusal(&emu, &emu.federated_token(MAIN, TOKEN_EXCHANGE_AUDIENCE, -1200, -600), &dir).await;
    assert!(err.contains("AADSTS700024: Client assertion is not within its valid time range"), "{err}");

    let err = refusal(&emu, &emu.federated_token(MAIN, TOKEN_EXCHANGE_AUDIENCE, 900, 1800), &dir).await;
    assert!(err.contains("AADSTS700024"), "not yet valid: {err}");

    // The right claims without a signature, and with someone else's.
    let good = emu.federated_token(MAIN, TOKEN_EXCHANGE_AUDIENCE, 0, 600);
    let mut parts: Vec<&str> = good.split('.').collect();
    let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
    let unsigned = format!("{none_header}.{}.", parts[1]);
    let err = refusal(&emu, &unsigned, &dir).await;
    assert!(err.contains("AADSTS50013: Assertion failed signature validation"), "{err}");
    let other = "c2lnbmVkLWJ5LXNvbWVvbmUtZWxzZQ";
    parts[2] = other;
    let err = refusal(&emu, &parts.join("."), &dir).await;
    assert!(err.contains("AADSTS50013"), "{err}");

    let err = refusal(&emu, "not-a-jwt", &dir).await;
    assert!(err.contains("AADSTS50027"), "{err}");

    // The discovery document and the JWKS describe the issuer that signed.
    let http = reqwest::Client::new();
    let config: serde_json::Value = http
        .get(format!("{}/.well-known/openid-configuration", emu.issuer()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["issuer"], emu.issuer());
    let jwks: serde_json::Value =
        http.get(config["jwks_uri"].as_str().unwrap()).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks["keys"][0]["kty"], "RSA");
    assert_eq!(jwks["keys"][0]["alg"], "RS256");
}

#[tokio::test]
async fn managed_identity_through_identity_endpoint_and_imds() {
    let emu = emulator(EmulatorConfig::default()).await;
    let (endpoint, header) = emu.identity_endpoint();
    let vars = env(&[("IDENTITY_ENDPOINT", endpoint.as_str()), ("IDENTITY_HEADER", header.as_str())]);
    let system = AmbientSettings::default();
    let cred = resolve_in(AmbientMethod::ManagedIdentity, &system, &vars);
    assert!(matches!(
        &cred,
        Credential::ManagedIdentity { source: ManagedIdentitySource::AppService { .. }, .. }
    ));
    works(&emu, cred).await.unwrap();

    let user = AmbientSettings { client_id: Some(DEMO_USER_IDENTITY.into()), ..AmbientSettings::default() };
    works(&emu, resolve_in(AmbientMethod::ManagedIdentity, &user, &vars)).await.unwrap();
    let issued: Vec<_> = emu.requests().iter().filter_map(|r| r.client_id.clone()).collect();
    assert!(issued.iter().any(|c| c == DEMO_SYSTEM_IDENTITY), "{issued:?}");
    assert!(issued.iter().any(|c| c == DEMO_USER_IDENTITY), "{issued:?}");

    let unknown =
        AmbientSettings { client_id: Some("0000-not-assigned".into()), ..AmbientSettings::default() };
    let err = works(&emu, resolve_in(AmbientMethod::ManagedIdentity, &unknown, &vars)).await.unwrap_err();
    assert!(err.to_string().contains("Identity not found"), "{err}");

    let wrong_header = env(&[("IDENTITY_ENDPOINT", endpoint.as_str()), ("IDENTITY_HEADER", "guess")]);
    let err =
        works(&emu, resolve_in(AmbientMethod::ManagedIdentity, &system, &wrong_header)).await.unwrap_err();
    assert!(err.to_string().contains("HTTP 401"), "{err}");

    // IMDS, at the emulator on loopback instead of 169.254.169.254.
    let imds = env(&[("MTDHOST_IMDS_URL", emu.url())]);
    let cred = resolve_in(AmbientMethod::ManagedIdentity, &system, &imds);
    assert!(matches!(&cred, Credential::ManagedIdentity { source: ManagedIdentitySource::Imds { .. }, .. }));
    works(&emu, cred).await.unwrap();
    assert!(emu.requests().iter().any(|r| r.path == "/metadata/identity/oauth2/token" && r.status == 200));
}

#[tokio::test]
async fn auto_picks_each_source_in_order_and_fails_clearly_without_one() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, emu.federated_token(MAIN, TOKEN_EXCHANGE_AUDIENCE, 0, 600)).unwrap();
    let (gh_url, gh_token) = emu.github_actions(MAIN);
    let (endpoint, header) = emu.identity_endpoint();
    let f = file.to_str().unwrap();

    // Everything present: the token file wins.
    let all = env(&[
        ("AZURE_FEDERATED_TOKEN_FILE", f),
        ("ACTIONS_ID_TOKEN_REQUEST_URL", gh_url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", gh_token.as_str()),
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", header.as_str()),
    ]);
    let cred = resolve_in(AmbientMethod::Auto, &demo_ids(), &all);
    assert!(
        matches!(&cred, Credential::WorkloadIdentity { source: FederatedTokenSource::File(_), .. }),
        "{cred:?}"
    );
    works(&emu, cred).await.unwrap();

    let gh = env(&[
        ("ACTIONS_ID_TOKEN_REQUEST_URL", gh_url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", gh_token.as_str()),
        ("IDENTITY_ENDPOINT", endpoint.as_str()),
        ("IDENTITY_HEADER", header.as_str()),
    ]);
    let cred = resolve_in(AmbientMethod::Auto, &demo_ids(), &gh);
    assert!(matches!(
        &cred,
        Credential::WorkloadIdentity { source: FederatedTokenSource::GitHubActions { .. }, .. }
    ));
    works(&emu, cred).await.unwrap();

    let app_service = env(&[("IDENTITY_ENDPOINT", endpoint.as_str()), ("IDENTITY_HEADER", header.as_str())]);
    let cred = resolve_in(AmbientMethod::Auto, &AmbientSettings::default(), &app_service);
    assert!(matches!(
        &cred,
        Credential::ManagedIdentity { source: ManagedIdentitySource::AppService { .. }, .. }
    ));
    works(&emu, cred).await.unwrap();

    let imds = env(&[("MTDHOST_IMDS_URL", emu.url())]);
    let cred = resolve_in(AmbientMethod::Auto, &AmbientSettings::default(), &imds);
    works(&emu, cred).await.unwrap();

    // `imds = true` allows the real metadata address (only resolved here, never contacted).
    let allowed = AmbientSettings { imds: true, ..AmbientSettings::default() };
    match resolve_in(AmbientMethod::Auto, &allowed, &HashMap::new()) {
        Credential::ManagedIdentity { source: ManagedIdentitySource::Imds { base_url }, .. } => {
            assert_eq!(base_url, "http://169.254.169.254")
        }
        other => panic!("{other:?}"),
    }

    // Nothing: one message naming everything looked for, even with a
    // secret lying around in the environment.
    let nothing = env(&[("AZURE_CLIENT_SECRET", "must-not-be-used"), ("AZURE_CLIENT_ID", DEMO_CLIENT_ID)]);
    let err = resolve(AmbientMethod::Auto, &demo_ids(), &|k: &str| nothing.get(k).cloned())
        .unwrap_err()
        .to_string();
    for looked in [
        "AZURE_FEDERATED_TOKEN_FILE",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "IDENTITY_ENDPOINT",
        "IDENTITY_HEADER",
        "imds = true",
    ] {
        assert!(err.contains(looked), "{looked} missing from: {err}");
    }
    assert!(!err.contains("must-not-be-used"));

    // Workload identity without a client id anywhere says where to put it.
    let no_client = env(&[("AZURE_FEDERATED_TOKEN_FILE", f), ("AZURE_TENANT_ID", DEMO_TENANT)]);
    let err = resolve(AmbientMethod::Auto, &AmbientSettings::default(), &|k: &str| no_client.get(k).cloned())
        .unwrap_err()
        .to_string();
    assert!(err.contains("AZURE_CLIENT_ID"), "{err}");
}

#[tokio::test]
async fn a_pipeline_config_signs_in_with_no_secret() {
    let emu = emulator(EmulatorConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mtdhost.toml");
    // Only the URLs point at the emulator; tenant and app come from the pipeline.
    std::fs::write(
        &path,
        format!(
            "[tenant]\ngraph-url = \"{url}\"\nlogin-url = \"{url}\"\n\n[tenant.auth]\nmethod = \"auto\"\n",
            url = emu.url()
        ),
    )
    .unwrap();
    let config = mtdhost::config::Config::load(&path).unwrap();
    let (url, request_token) = emu.github_actions(DEMO_FEDERATED_SUBJECTS[1]);
    let vars = env(&[
        ("ACTIONS_ID_TOKEN_REQUEST_URL", url.as_str()),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token.as_str()),
        ("AZURE_CLIENT_ID", DEMO_CLIENT_ID),
        ("AZURE_TENANT_ID", DEMO_TENANT),
    ]);
    let session = mtdhost::session::connect_with_env(&config, no_retry(), &|k: &str| vars.get(k).cloned())
        .await
        .unwrap();
    assert!(session.label.contains(DEMO_TENANT), "{}", session.label);
    assert!(matches!(session.client.find_group("Executives").await.unwrap(), GroupLookup::One(_)));

    let err = match mtdhost::session::connect_with_env(&config, no_retry(), &|_: &str| None).await {
        Err(e) => e.to_string(),
        Ok(_) => panic!("signed in with nothing"),
    };
    assert!(err.contains("found no secretless credential"), "{err}");
}
