//! No secret or token reaches the log, at any verbosity: every sign-in
//! method runs (including failures; workload identity from a file and from
//! GitHub's endpoint, managed identity) with a TRACE-level subscriber capturing
//! everything, then the capture is searched for each secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mtd_e2e::graph::{client_with, demo_secret, emulator, endpoints, fast_options};
use mtdhost::emulator::{
    App, EmulatorConfig, DEMO_CLIENT_ID, DEMO_FEDERATED_SUBJECTS, DEMO_SECRET, DEMO_TENANT,
    TOKEN_EXCHANGE_AUDIENCE,
};
use mtdhost::graph::auth::ambient::{resolve, AmbientMethod, AmbientSettings};
use mtdhost::graph::auth::{CertificateCredential, Credential, FederatedTokenSource, TokenProvider};
use secrecy::ExposeSecret;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/cert/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

#[tokio::test]
async fn secrets_and_tokens_never_reach_the_log() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .init();

    let emu = emulator(EmulatorConfig {
        faults: "burst429=1,retry-after=0.01".parse().unwrap(),
        ..EmulatorConfig::default()
    })
    .await;
    let key_pem = fixture("app.key.pem");
    emu.with_tenant(|t| {
        t.apps.push(App {
            client_id: "cert-app".into(),
            secrets: Vec::new(),
            certificates: vec![fixture("app.cert.pem")],
            public_client: false,
            federated_credentials: Vec::new(),
        })
    });

    // Secret: success, then a wrong secret.
    let c = client_with(&emu, demo_secret(), fast_options());
    c.find_group("Executives").await.unwrap();
    let wrong = Credential::ClientSecret {
        tenant: DEMO_TENANT.into(),
        client_id: DEMO_CLIENT_ID.into(),
        secret: "wrong-secret-value-123".to_string().into(),
    };
    assert!(client_with(&emu, wrong, fast_options()).find_group("Executives").await.is_err());

    // Certificate.
    let cert = CertificateCredential::from_pem(&fixture("app.cert.pem"), &key_pem).unwrap();
    let assertion = cert.assertion("cert-app", "http://x/token").unwrap();
    let cred = Credential::Certificate {
        tenant: DEMO_TENANT.into(),
        client_id: "cert-app".into(),
        certificate: cert,
    };
    client_with(&emu, cred, fast_options()).find_group("Executives").await.unwrap();

    // Bearer, and a token we read back to search for.
    let provider = TokenProvider::new(demo_secret(), endpoints(&emu), mtdhost::graph::http_client().unwrap());
    let token = provider.token().await.unwrap().expose_secret().to_string();
    let bearer = Credential::Bearer(token.clone().into());
    client_with(&emu, bearer, fast_options()).find_group("Executives").await.unwrap();
    let mut dbg = format!("{:?} {:?}", demo_secret(), provider);

    // Workload identity from a file (accepted, then refused as expired), from
    // the GitHub-Actions-style endpoint, and managed identity.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("federated-token");
    let federated = emu.federated_token(DEMO_FEDERATED_SUBJECTS[0], TOKEN_EXCHANGE_AUDIENCE, 0, 600);
    let expired = emu.federated_token(DEMO_FEDERATED_SUBJECTS[0], TOKEN_EXCHANGE_AUDIENCE, -1200, -600);
    let wi = || Credential::WorkloadIdentity {
        tenant: DEMO_TENANT.into(),
        client_id: DEMO_CLIENT_ID.into(),
        source: FederatedTokenSource::File(file.clone()),
    };
    std::fs::write(&file, &federated).unwrap();
    client_with(&emu, wi(), fast_options()).find_group("Executives").await.unwrap();
    std::fs::write(&file, &expired).unwrap();
    assert!(client_with(&emu, wi(), fast_options()).find_group("Executives").await.is_err());
    let (gh_url, gh_request_token) = emu.github_actions(DEMO_FEDERATED_SUBJECTS[0]);
    let (mi_endpoint, mi_header) = emu.identity_endpoint();
    let vars: std::collections::HashMap<&str, String> = [
        ("ACTIONS_ID_TOKEN_REQUEST_URL", gh_url),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", gh_request_token.clone()),
        ("IDENTITY_ENDPOINT", mi_endpoint),
        ("IDENTITY_HEADER", mi_header.clone()),
    ]
    .into_iter()
    .collect();
    let lookup = |k: &str| vars.get(k).cloned();
    let settings = AmbientSettings {
        tenant: Some(DEMO_TENANT.into()),
        client_id: Some(DEMO_CLIENT_ID.into()),
        imds: false,
    };
    for method in [AmbientMethod::WorkloadIdentity, AmbientMethod::ManagedIdentity] {
        let s = if method == AmbientMethod::ManagedIdentity {
            AmbientSettings::default()
        } else {
            settings.clone()
        };
        let cred = resolve(method, &s, &lookup).unwrap();
        dbg.push_str(&format!(" {cred:?}"));
        let c = client_with(&emu, cred, fast_options());
        c.find_group("Executives").await.unwrap();
    }

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.len() > 1000, "the capture saw the run ({} bytes)", log.len());
    for secret in [
        DEMO_SECRET,
        "wrong-secret-value-123",
        token.as_str(),
        assertion.expose_secret(),
        federated.as_str(),
        expired.as_str(),
        gh_request_token.as_str(),
        mi_header.as_str(),
    ] {
        assert!(!log.contains(secret), "a secret reached the log");
        assert!(!dbg.contains(secret), "a secret reached Debug output");
    }
    let key_body: String = key_pem.lines().nth(1).unwrap().to_string();
    assert!(!log.contains(&key_body), "the private key reached the log");
    assert!(!log.contains("emu."), "no emulator-issued token in the log");
    // Every JWT (client assertions, federated and GitHub tokens) starts so.
    assert!(!log.contains("eyJ"), "no JWT in the log");
    assert!(!dbg.contains("eyJ"), "no JWT in Debug output");
}
