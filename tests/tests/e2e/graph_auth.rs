//! Each sign-in method against the emulator's token service: client secret,
//! certificate (signed client assertion), device code, bearer token; token
//! refresh; and refusals for anything the emulator did not issue.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mtd_e2e::graph::{client, client_with, demo_secret, emulator, endpoints, fast_options};
use mtdhost::emulator::{App, EmulatorConfig, DEMO_CLIENT_ID, DEMO_TENANT};
use mtdhost::graph::auth::{AuthError, CertificateCredential, Credential, TokenProvider};
use mtdhost::graph::GraphError;
use mtdhost::graph::GroupLookup;
use secrecy::ExposeSecret;

const CERT_APP: &str = "c3a7e1f0-1111-4222-8333-944455556666";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/cert/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

async fn works(c: &mtdhost::graph::GraphClient) -> Result<(), GraphError> {
    match c.find_group("Executives").await? {
        GroupLookup::One(_) => Ok(()),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn client_secret_signs_in_and_a_wrong_secret_is_refused() {
    let emu = emulator(EmulatorConfig::default()).await;
    works(&client(&emu)).await.unwrap();
    let wrong = Credential::ClientSecret {
        tenant: DEMO_TENANT.into(),
        client_id: DEMO_CLIENT_ID.into(),
        secret: "nope".to_string().into(),
    };
    let err = works(&client_with(&emu, wrong, fast_options())).await.unwrap_err();
    assert!(
        err.to_string().contains("invalid_client: AADSTS7000215: Invalid client secret provided"),
        "{err}"
    );
    let unknown = Credential::ClientSecret {
        tenant: DEMO_TENANT.into(),
        client_id: "someone-else".into(),
        secret: "x".to_string().into(),
    };
    let err = works(&client_with(&emu, unknown, fast_options())).await.unwrap_err();
    assert!(err.to_string().contains("AADSTS700016"), "{err}");
}

#[tokio::test]
async fn certificate_assertions_are_verified() {
    let emu = emulator(EmulatorConfig::default()).await;
    emu.with_tenant(|t| {
        t.apps.push(App {
            client_id: CERT_APP.into(),
            secrets: Vec::new(),
            certificates: vec![fixture("app.cert.pem")],
            public_client: false,
            federated_credentials: Vec::new(),
        })
    });
    let good = CertificateCredential::from_pem(&fixture("app.cert.pem"), &fixture("app.key.pem")).unwrap();
    let cred =
        Credential::Certificate { tenant: DEMO_TENANT.into(), client_id: CERT_APP.into(), certificate: good };
    works(&client_with(&emu, cred, fast_options())).await.unwrap();

    // A certificate the app never registered.
    let other =
        CertificateCredential::from_pem(&fixture("other.cert.pem"), &fixture("other.key.pem")).unwrap();
    let cred = Credential::Certificate {
        tenant: DEMO_TENANT.into(),
        client_id: CERT_APP.into(),
        certificate: other,
    };
    let err = works(&client_with(&emu, cred, fast_options())).await.unwrap_err();
    assert!(err.to_string().contains("AADSTS700027"), "{err}");

    // The registered certificate's thumbprint with another key: the signature fails.
    let forged =
        CertificateCredential::from_pem(&fixture("app.cert.pem"), &fixture("other.key.pem")).unwrap();
    let cred = Credential::Certificate {
        tenant: DEMO_TENANT.into(),
        client_id: CERT_APP.into(),
        certificate: forged,
    };
    let err = works(&client_with(&emu, cred, fast_options())).await.unwrap_err();
    assert!(err.to_string().contains("signature validation"), "{err}");

    assert!(CertificateCredential::from_pem("junk", &fixture("app.key.pem")).is_err());
    assert!(CertificateCredential::from_pem(&fixture("app.cert.pem"), "junk").is_err());
}

#[tokio::test]
async fn device_code_flow_waits_for_the_admin() {
    let emu = Arc::new(emulator(EmulatorConfig::default()).await);
    let seen = Arc::new(Mutex::new(None::<String>));
    let (e, s) = (emu.clone(), seen.clone());
    let prompt = Box::new(move |p: &mtdhost::graph::auth::DeviceCodePrompt| {
        *s.lock().unwrap() = Some(p.user_code.clone());
        let (e, code) = (e.clone(), p.user_code.clone());
        // The admin approves a little later, while the client polls.
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            assert!(e.decide_device_code(&code, true));
        });
    });
    let cred =
        Credential::DeviceCode { tenant: DEMO_TENANT.into(), client_id: DEMO_CLIENT_ID.into(), prompt };
    works(&client_with(&emu, cred, fast_options())).await.unwrap();
    assert!(seen.lock().unwrap().as_ref().is_some_and(|c| c.starts_with("EMU")));
    let polls = emu.requests().iter().filter(|r| r.path.ends_with("/oauth2/v2.0/token")).count();
    assert!(polls >= 2, "polled while pending ({polls})");

    let e = emu.clone();
    let prompt = Box::new(move |p: &mtdhost::graph::auth::DeviceCodePrompt| {
        assert!(e.decide_device_code(&p.user_code, false));
    });
    let cred =
        Credential::DeviceCode { tenant: DEMO_TENANT.into(), client_id: DEMO_CLIENT_ID.into(), prompt };
    let err = works(&client_with(&emu, cred, fast_options())).await.unwrap_err();
    assert!(matches!(err, GraphError::Auth(AuthError::DeviceCode(_))), "{err}");
    assert!(err.to_string().contains("declined"));
}

#[tokio::test]
async fn bearer_tokens_and_refusal_of_foreign_tokens() {
    let emu = emulator(EmulatorConfig::default()).await;
    let http = mtdhost::graph::http_client().unwrap();
    let provider = TokenProvider::new(demo_secret(), endpoints(&emu), http);
    let token = provider.token().await.unwrap();
    works(&client_with(&emu, Credential::Bearer(token.expose_secret().to_string().into()), fast_options()))
        .await
        .unwrap();

    let err = works(&client_with(
        &emu,
        Credential::Bearer("eyJhbGciOiJub25lIn0.e30.".to_string().into()),
        fast_options(),
    ))
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(err.code(), Some("InvalidAuthenticationToken"));
}

#[tokio::test]
async fn tokens_are_refreshed_before_they_expire() {
    let emu =
        emulator(EmulatorConfig { token_lifetime: Duration::from_secs(2), ..EmulatorConfig::default() })
            .await;
    let c = client(&emu);
    works(&c).await.unwrap();
    works(&c).await.unwrap();
    let token_calls = || emu.requests().iter().filter(|r| r.path.ends_with("/oauth2/v2.0/token")).count();
    assert_eq!(token_calls(), 1, "the token is cached");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    works(&c).await.unwrap();
    assert_eq!(token_calls(), 2, "refreshed before expiry");
    assert!(emu.requests().iter().all(|r| r.status != 401), "never sent an expired token");
}
