//! `demo`: the web app on the built-in demo database (or `[database] url`), on `127.0.0.1`
//! only, with no configuration: a random `JWT_SECRET` for this run, one user `demo` (role
//! `analyst`) whose password nobody knows, and a one-time sign-in link printed on stdout, as a
//! notebook server does.

use std::{io::Write, net::SocketAddr, process::ExitCode};

use conversational_bi::{
    Config, Error,
    config::{AuthUser, Secret},
};

use crate::http::{AppState, auth::hash_password};

/// The user the demo signs in.
pub const DEMO_USER: &str = "demo";

/// How long the demo's tokens last (a working day: nobody has the password to sign in again).
const DEMO_TOKEN_TTL_SECS: u64 = 12 * 3600;

/// The configuration the demo serves with: `config` bound to `127.0.0.1:port`, without the
/// metrics listener, with a fresh secret and the demo user added.
pub fn demo_config(mut config: Config, port: u16) -> Result<Config, Error> {
    config.server.host = "127.0.0.1".into();
    config.server.port = port;
    config.metrics.enabled = false;
    config.auth.token_ttl_secs = DEMO_TOKEN_TTL_SECS;
    let random = || uuid::Uuid::new_v4().simple().to_string();
    config.auth.jwt_secret = Some(Secret::new(format!("{}{}", random(), random())));
    if !config.auth.users.iter().any(|u| u.username == DEMO_USER) {
        config.auth.users.push(AuthUser {
            username: DEMO_USER.into(),
            password_hash: Secret::new(hash_password(&format!("{}{}", random(), random()))?),
            tenant_id: "default".into(),
            roles: vec!["analyst".into()],
            attributes: Default::default(),
        });
    }
    if config.logging.level == "info" && std::env::var_os("RUST_LOG").is_none() {
        // The link is the output; the request log would bury it.
        config.logging.level = "warn".into();
    }
    Ok(config)
}

/// Runs the demo until Ctrl-C. `port` 0 lets the system choose; a taken port falls back to
/// that.
pub fn run(config: Config, port: u16) -> ExitCode {
    let port = if port != 0 && std::net::TcpListener::bind(("127.0.0.1", port)).is_err() {
        eprintln!("port {port} is taken; using a free port instead");
        0
    } else {
        port
    };
    let config = match demo_config(config, port) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.kind().code());
            return ExitCode::from(2);
        }
    };
    let on_listening = Box::new(|state: &AppState, addr: SocketAddr| {
        let code = state.sign_in_links().issue(DEMO_USER);
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "HeliosDB Conversational BI is running on http://{addr}/ (this computer only).\n\nOpen this link to sign in; it works once, within 15 minutes:\n\n    http://{addr}/#signin={code}\n\nPress Ctrl-C to stop."
        );
        let _ = out.flush();
    });
    crate::serve::run_with(config, Some(on_listening))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_listens_on_loopback_only_with_a_fresh_secret_and_its_user() {
        let mut config = Config::default();
        config.server.host = "0.0.0.0".into();
        config.metrics.enabled = true;
        let a = demo_config(config.clone(), 0).expect("config");
        let b = demo_config(config, 0).expect("config");
        assert_eq!(a.server.host, "127.0.0.1");
        assert!(!a.metrics.enabled);
        let secret = |c: &Config| {
            c.auth
                .jwt_secret
                .as_ref()
                .expect("secret")
                .expose()
                .to_string()
        };
        assert_eq!(secret(&a).len(), 64);
        assert_ne!(secret(&a), secret(&b), "a new secret each run");
        let demo = a
            .auth
            .users
            .iter()
            .find(|u| u.username == DEMO_USER)
            .expect("user");
        assert_eq!(demo.roles, ["analyst"]);
        crate::http::auth::Auth::from_config(&a).expect("a valid [auth]");
    }
}
