//! No secret or token reaches the log, at any verbosity: every sign-in
//! method runs (including failures) with a TRACE-level subscriber capturing
//! everything, then the capture is searched for each secret.

use std::io::Write;
use std::sync::{Arc, Mutex};

use mtd_e2e::graph::{client_with, demo_secret, emulator, endpoints, fast_options};
use mtdhost::emulator::{App, EmulatorConfig, DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT};
use mtdhost::graph::auth::{CertificateCredential, Credential, TokenProvider};
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
    let provider =
        TokenProvider::new(demo_secret(), endpoints(&emu), mtdhost::graph::client::http_client().unwrap());
    let token = provider.token().await.unwrap().expose_secret().to_string();
    let bearer = Credential::Bearer(token.clone().into());
    client_with(&emu, bearer, fast_options()).find_group("Executives").await.unwrap();
    let dbg = format!("{:?} {:?}", demo_secret(), provider);

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(log.len() > 1000, "the capture saw the run ({} bytes)", log.len());
    for secret in [DEMO_SECRET, "wrong-secret-value-123", token.as_str(), assertion.expose_secret()] {
        assert!(!log.contains(secret), "a secret reached the log");
        assert!(!dbg.contains(secret), "a secret reached Debug output");
    }
    let key_body: String = key_pem.lines().nth(1).unwrap().to_string();
    assert!(!log.contains(&key_body), "the private key reached the log");
    assert!(!log.contains("emu."), "no emulator-issued token in the log");
}
