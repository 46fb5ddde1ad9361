//! The real binary as a server process: a configuration file in a temporary folder, ephemeral
//! ports (the binary logs the addresses it bound), its JSON log lines, signals.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_heliosdb-conversational-bi");

/// A running server process.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT` of the API.
    pub api: String,
    /// `http://127.0.0.1:PORT` of the metrics listener, when enabled.
    pub metrics: Option<String>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    log_file: Option<PathBuf>,
    /// The folder of the configuration file, kept while the process runs.
    _dir: tempfile::TempDir,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect(stream: impl std::io::Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            sink.lock().expect("lock").push(line);
        }
    });
    lines
}

/// The command that runs the binary with `config` (TOML; `{dir}` stands for the fresh folder
/// it is written to), with a clean environment for the variables the configuration reads, plus
/// `env`.
pub fn command(config: &str, env: &[(&str, &str)]) -> (Command, tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("conversational-bi.toml");
    let config = config.replace("{dir}", &dir.path().display().to_string());
    std::fs::write(&path, config).expect("write config");
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(&path)
        .current_dir(dir.path())
        .env("XDG_CACHE_HOME", dir.path().join("cache"));
    for var in [
        "RUST_LOG",
        "DATABASE_URL",
        "REDIS_URL",
        "JWT_SECRET",
        "CORS_ALLOWED_ORIGINS",
        "TOKIO_WORKER_THREADS",
        "OPENAI_API_KEY",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    (cmd, dir, path)
}

impl ServerProcess {
    /// Starts the binary and waits (up to a minute) for its `listening` log line on stdout,
    /// which names the addresses it bound. Panics with the process's output if it exits first.
    pub fn start(config: &str, env: &[(&str, &str)]) -> Self {
        let (mut cmd, dir, path) = command(config, env);
        let log_file = log_file(&path);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the server");
        let stdout = collect(child.stdout.take().expect("stdout"));
        let stderr = collect(child.stderr.take().expect("stderr"));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let lines = match &log_file {
                Some(f) => read_lines(f),
                None => stdout.lock().expect("lock").clone(),
            };
            let listening = lines
                .iter()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| l["message"] == "listening");
            if let Some(line) = listening {
                let api = format!("http://{}", line["api_addr"].as_str().expect("api_addr"));
                let metrics = line["metrics_addr"]
                    .as_str()
                    .filter(|a| *a != "disabled")
                    .map(|a| format!("http://{a}"));
                return Self {
                    child,
                    api,
                    metrics,
                    stdout,
                    stderr,
                    log_file,
                    _dir: dir,
                };
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "the server exited with {status} before listening\nstdout:\n{}\nstderr:\n{}",
                    stdout.lock().expect("lock").join("\n"),
                    stderr.lock().expect("lock").join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "the server did not start within a minute"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The log lines that are JSON objects (from stdout, or from `[logging] output` when it
    /// names a file).
    pub fn log_lines(&self) -> Vec<Value> {
        let lines = match &self.log_file {
            Some(f) => read_lines(f),
            None => self.stdout.lock().expect("lock").clone(),
        };
        lines
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// Everything written to stdout.
    pub fn stdout(&self) -> String {
        self.stdout.lock().expect("lock").join("\n")
    }

    /// Everything written to stderr.
    pub fn stderr(&self) -> String {
        self.stderr.lock().expect("lock").join("\n")
    }

    /// Sends SIGTERM (what `systemctl stop` sends).
    pub fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// Waits for the process to exit (up to `limit`).
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader threads drain the pipes.
                std::thread::sleep(Duration::from_millis(50));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the server did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `[logging] output` of the configuration file, when it names a file.
fn log_file(config: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config).ok()?;
    let value: toml::Table = toml::from_str(&text).ok()?;
    let output = value.get("logging")?.get("output")?.as_str()?;
    (!matches!(output, "stdout" | "stderr")).then(|| PathBuf::from(output))
}

fn read_lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The Chinook demo database as a `sqlite://` URL (the file in the repository).
pub fn chinook_url() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/chinook/chinook.sqlite");
    format!("sqlite://{}", path.display())
}

/// An HTTP client for the real servers (plain HTTP on loopback).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}
