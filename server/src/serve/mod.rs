//! The server process: `heliosdb-conversational-bi --config FILE` (or `serve`).
//!
//! It installs the logs of `[logging]`, starts a runtime with `[server] workers` threads
//! (`TOKIO_WORKER_THREADS` overrides), builds the engine, and serves the API on
//! `[server] host:port` and the Prometheus metrics on `[metrics] host:prometheus_port` (a
//! separate listener, `GET /metrics`, without authentication: on `127.0.0.1` unless `[metrics]
//! host` says otherwise). On SIGTERM or SIGINT it stops accepting connections, lets requests in
//! flight finish (at most `[server] shutdown_timeout_secs`) and exits 0.

pub mod logging;

use std::{
    net::{IpAddr, SocketAddr},
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::get,
};
use conversational_bi::{Config, Engine, Error, ErrorKind, metrics::Metrics};
use prometheus_client::{encoding::text::encode, registry::Registry};
use tokio::{net::TcpListener, sync::watch};

use crate::http::{
    AppState, app, auth::Auth, client_ip::TrustedProxies, login_guard::LoginGuard,
    middleware::HttpMetrics,
};

/// The content type of the metrics endpoint (OpenMetrics text, which Prometheus scrapes).
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Runs the server until a signal stops it. Exit codes: 0 after a graceful stop, 2 for a
/// configuration problem (including a missing or short `JWT_SECRET`, a bad `[[auth.issuers]]`
/// or an issuer's JWKS that cannot be fetched), 1 for anything else
/// (database unreachable, port taken).
pub fn run(config: Config) -> ExitCode {
    run_with(config, None)
}

/// As [`run`], calling `on_listening` once the API listens.
pub fn run_with(config: Config, on_listening: Option<OnListening>) -> ExitCode {
    if let Err(e) = logging::init(&config.logging) {
        return fail(&e);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.server.workers)
        .thread_name("cbi-worker")
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(rt) => rt,
        Err(e) => return fail(&Error::internal(format!("cannot start the runtime: {e}"))),
    };
    match runtime.block_on(serve_with(config, on_listening)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(e: &Error) -> ExitCode {
    tracing::error!(error_code = e.kind().code(), error = %e, "the server cannot start");
    eprintln!("error [{}]: {e}", e.kind().code());
    ExitCode::from(if e.kind() == ErrorKind::Config { 2 } else { 1 })
}

/// Called once the API listens, with its state and address (the `demo` command prints its
/// sign-in link from here).
pub type OnListening = Box<dyn FnOnce(&AppState, SocketAddr) + Send>;

/// Builds everything, serves, and returns after a signal and the graceful stop.
pub async fn serve(config: Config) -> Result<(), Error> {
    serve_with(config, None).await
}

/// As [`serve`], calling `on_listening` once the API listens.
pub async fn serve_with(config: Config, on_listening: Option<OnListening>) -> Result<(), Error> {
    // Configuration problems of the API are reported before the database is contacted.
    let auth = Auth::from_config(&config)?;
    LoginGuard::from_config(&config.auth)?;
    TrustedProxies::from_config(&config.server.trusted_proxies)?;
    check_host("server.host", &config.server.host)?;
    check_host("metrics.host", &config.metrics.host)?;
    let server = &config.server;
    if config.metrics.enabled && config.metrics.prometheus_port == server.port && server.port != 0 {
        return Err(Error::Config {
            message: format!(
                "metrics.prometheus_port and server.port are both {}; the metrics listener needs its own port (the runbook uses 9090)",
                server.port
            ),
            key: Some("metrics.prometheus_port".into()),
            file: None,
            line: None,
        });
    }

    // The keys of JWKS issuers, before the database: an unreachable identity provider is a
    // configuration problem (exit 2), like a missing secret.
    auth.load_keys().await?;

    let mut registry = Registry::default();
    let metrics = Metrics::register(&mut registry);
    let http_metrics = HttpMetrics::register(&mut registry);
    let engine = Engine::builder()
        .config(config.clone())
        .metrics(metrics)
        .build()
        .await?;
    let generator = engine.health().await.generator;
    let state = AppState::with_auth(engine, auth)?.with_http_metrics(http_metrics);
    let issuers: Vec<&str> = state.auth().issuers().collect();
    if !state.auth().has_builtin_login() {
        tracing::info!(
            issuers = %issuers.join(", "),
            "built-in login is off (no JWT_SECRET): only tokens of [[auth.issuers]] are accepted"
        );
    } else if !state.auth().has_users() && issuers.is_empty() {
        tracing::warn!(
            "[auth] users is empty: nobody can log in; add users with password hashes from `heliosdb-conversational-bi hash-password`"
        );
    }

    let api_listener = bind(&server.host, server.port, "server.host/server.port").await?;
    let api_addr = local_addr(&api_listener);
    let metrics_listener = if config.metrics.enabled {
        Some(
            bind(
                &config.metrics.host,
                config.metrics.prometheus_port,
                "metrics.host/metrics.prometheus_port",
            )
            .await?,
        )
    } else {
        None
    };
    let metrics_addr = metrics_listener.as_ref().map(local_addr);

    if let Some(on_listening) = on_listening {
        on_listening(&state, api_addr);
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    // The peer address of each connection is kept for the login limits.
    let api = tokio::spawn(
        axum::serve(
            api_listener,
            app(state).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(stopped(stop_rx.clone()))
        .into_future(),
    );
    let metrics_server = metrics_listener.map(|listener| {
        tokio::spawn(
            axum::serve(listener, metrics_app(Arc::new(registry)))
                .with_graceful_shutdown(stopped(stop_rx.clone()))
                .into_future(),
        )
    });
    tracing::info!(
        service = conversational_bi::engine::SERVICE,
        version = env!("CARGO_PKG_VERSION"),
        api_addr = %api_addr,
        metrics_addr = %metrics_addr.map_or_else(|| "disabled".to_string(), |a| a.to_string()),
        workers = server.workers,
        generator = %generator,
        "listening"
    );

    let signal = shutdown_signal().await;
    tracing::info!(
        signal,
        grace_secs = server.shutdown_timeout_secs,
        "shutting down: no new connections; finishing requests in flight"
    );
    let _ = stop_tx.send(true);
    let grace = Duration::from_secs(server.shutdown_timeout_secs);
    let drained = tokio::time::timeout(grace, async {
        let _ = api.await;
        if let Some(m) = metrics_server {
            let _ = m.await;
        }
    })
    .await;
    match drained {
        Ok(()) => tracing::info!("stopped"),
        Err(_) => tracing::warn!(
            grace_secs = server.shutdown_timeout_secs,
            "requests were still in flight when [server] shutdown_timeout_secs ran out; exiting"
        ),
    }
    Ok(())
}

/// Checks an address to bind (`server.host`, `metrics.host`): an IP address (`0.0.0.0`,
/// `127.0.0.1`, `::`, `10.0.0.11`) or a host name (`localhost`). Refuses anything else with a
/// configuration error that names `key`.
pub fn check_host(key: &str, host: &str) -> Result<(), Error> {
    let is_name = |h: &str| {
        !h.is_empty()
            && h.len() <= 253
            && h.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
    };
    if host.parse::<IpAddr>().is_ok() || is_name(host) {
        return Ok(());
    }
    let hint = if host.starts_with('[') {
        "; write an IPv6 address without brackets, e.g. \"::1\""
    } else {
        ""
    };
    Err(Error::Config {
        message: format!(
            "{key} = {host:?} is not an IP address or a host name (e.g. \"127.0.0.1\", \"0.0.0.0\", \"::1\" or \"localhost\"){hint}"
        ),
        key: Some(key.into()),
        file: None,
        line: None,
    })
}

async fn bind(host: &str, port: u16, keys: &str) -> Result<TcpListener, Error> {
    TcpListener::bind((host, port)).await.map_err(|e| {
        Error::internal(format!(
            "cannot listen on {host}:{port} ({keys}): {e}; stop the process that holds the port or choose another"
        ))
    })
}

fn local_addr(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
}

async fn stopped(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Waits for SIGTERM (systemd's stop) or SIGINT (Ctrl-C) and names it.
async fn shutdown_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let sigterm = async {
            match term.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            () = sigterm => "SIGTERM",
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "SIGINT"
    }
}

/// The metrics listener's router: `GET /metrics` in the OpenMetrics text format.
pub fn metrics_app(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(registry)
}

async fn render_metrics(State(registry): State<Arc<Registry>>) -> Response {
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &registry) {
        tracing::error!(error = %e, "cannot encode the metrics");
        return axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(METRICS_CONTENT_TYPE),
    );
    response
}
