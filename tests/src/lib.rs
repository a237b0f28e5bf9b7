//! Helpers for the end-to-end tests: where the plugins built from source
//! are, and a runtime to load them with.

use std::path::PathBuf;

use mtdhost::runtime::{Cache, Limits, LoadOptions, LoadedPlugin, PluginSource, Runtime};

/// The directory holding every plugin component built by this crate's build script.
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("MTD_PLUGIN_DIR"))
}

/// Path of a built plugin by cargo package name (e.g. `mtd-test-hostile`).
pub fn plugin_path(package: &str) -> PathBuf {
    plugin_dir().join(format!("{}.wasm", package.replace('-', "_")))
}

/// The plugin's source.
pub fn source(package: &str) -> PluginSource {
    PluginSource::from_file(&plugin_path(package)).expect("plugin built by build.rs")
}

/// A runtime without a disk cache, so tests never share state.
pub fn runtime() -> Runtime {
    Runtime::new(Cache::disabled())
}

/// Loads `package` with settings and limits.
pub fn load(rt: &Runtime, package: &str, settings_json: &str, limits: Limits) -> LoadedPlugin {
    let opts = LoadOptions { limits, settings_json: settings_json.to_string(), ..LoadOptions::default() };
    rt.load(&source(package), &opts).unwrap_or_else(|e| panic!("loading {package}: {e}"))
}

/// Graph helpers: an emulator and clients signed in to it.
pub mod graph {
    use std::sync::Arc;
    use std::time::Duration;

    use mtdhost::emulator::{Emulator, EmulatorConfig, DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT};
    use mtdhost::graph::auth::{Credential, TokenProvider};
    use mtdhost::graph::PaceLimit;
    use mtdhost::graph::RetryPolicy;
    use mtdhost::graph::{ClientOptions, GraphClient};
    use mtdhost::graph::{Cloud, Endpoints};

    /// Starts an emulator on a free loopback port.
    pub async fn emulator(config: EmulatorConfig) -> Emulator {
        Emulator::start(config).await.expect("emulator starts")
    }

    /// Endpoints pointing at the emulator.
    pub fn endpoints(emu: &Emulator) -> Endpoints {
        Endpoints::with_overrides(Cloud::Global, Some(emu.url()), Some(emu.url())).expect("loopback URLs")
    }

    /// Fast retries and pacing suited to tests.
    pub fn fast_options() -> ClientOptions {
        ClientOptions {
            retry: RetryPolicy {
                max_attempts: 12,
                base_delay: Duration::from_millis(10),
                max_delay: Duration::from_millis(100),
                max_retry_after: Duration::from_secs(5),
            },
            pace: PaceLimit { max: 10_000, window: Duration::from_secs(1) },
            timeout: Duration::from_secs(10),
            create_settle: Duration::from_millis(300),
            ..ClientOptions::default()
        }
    }

    /// A client signing in with the demo app's client secret.
    pub fn client_with(emu: &Emulator, credential: Credential, options: ClientOptions) -> GraphClient {
        let http = mtdhost::graph::http_client().expect("http client");
        let tokens = Arc::new(TokenProvider::new(credential, endpoints(emu), http.clone()));
        GraphClient::new(http, endpoints(emu), tokens, options)
    }

    /// The demo app's secret credential.
    pub fn demo_secret() -> Credential {
        Credential::ClientSecret {
            tenant: DEMO_TENANT.into(),
            client_id: DEMO_CLIENT_ID.into(),
            secret: DEMO_SECRET.to_string().into(),
        }
    }

    /// A client with the demo secret and fast test options.
    pub fn client(emu: &Emulator) -> GraphClient {
        client_with(emu, demo_secret(), fast_options())
    }
}

/// Config files for end-to-end runs against an emulator started by the test.
pub mod configs {
    use std::path::{Path, PathBuf};

    use mtdhost::emulator::{Emulator, DEMO_CLIENT_ID, DEMO_SECRET, DEMO_TENANT};

    /// The environment variable the test configs read the client secret from.
    pub const SECRET_ENV: &str = "MTDHOST_E2E_CLIENT_SECRET";

    /// A `[tenant]` table pointing at `emu` with client-secret sign-in.
    pub fn tenant(emu: &Emulator) -> String {
        // SAFETY of set_var: every test sets the same value.
        std::env::set_var(SECRET_ENV, DEMO_SECRET);
        format!(
            "[tenant]\ntenant-id = \"{DEMO_TENANT}\"\ngraph-url = \"{url}\"\nlogin-url = \"{url}\"\n\n\
             [tenant.auth]\nmethod = \"client-secret\"\nclient-id = \"{DEMO_CLIENT_ID}\"\nsecret-env = \"{SECRET_ENV}\"\n\n",
            url = emu.url()
        )
    }

    /// Writes `mtdhost.toml` with the tenant table and `rest`.
    pub fn write(dir: &Path, emu: &Emulator, rest: &str) -> PathBuf {
        let path = dir.join("mtdhost.toml");
        std::fs::write(&path, format!("{}{rest}", tenant(emu))).expect("write config");
        path
    }

    /// Like [`write()`], with `[tenant] owner` set (needed for `--prune`).
    pub fn write_owned(dir: &Path, emu: &Emulator, owner: &str, rest: &str) -> PathBuf {
        let path = dir.join("mtdhost.toml");
        let tenant = tenant(emu).replacen("[tenant]\n", &format!("[tenant]\nowner = \"{owner}\"\n"), 1);
        std::fs::write(&path, format!("{tenant}{rest}")).expect("write config");
        path
    }
}
