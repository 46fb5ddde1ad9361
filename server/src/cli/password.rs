//! `hash-password`: reads a password from standard input and prints its argon2id hash (a PHC
//! string) for the `password_hash` of an `[auth] users` entry.

use std::{
    io::{BufRead, IsTerminal, Write},
    process::{Command, ExitCode, Stdio},
};

use crate::http::auth::hash_password;

/// Shortest accepted password.
const MIN_LEN: usize = 8;

/// Reads one line (a terminal gets a prompt and no echo), hashes it and prints the hash.
pub fn hash_from_stdin() -> ExitCode {
    let stdin = std::io::stdin();
    let terminal = stdin.is_terminal();
    if terminal {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
        set_echo(false);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if terminal {
        set_echo(true);
        eprintln!();
    }
    if let Err(e) = read {
        eprintln!("error [INVALID_INPUT]: cannot read the password from standard input: {e}");
        return ExitCode::from(2);
    }
    let password = line.strip_suffix('\n').unwrap_or(&line);
    let password = password.strip_suffix('\r').unwrap_or(password);
    if password.chars().count() < MIN_LEN {
        eprintln!(
            "error [INVALID_INPUT]: the password is {} characters long; use at least {MIN_LEN} (e.g. `printf '%s' \"$PASSWORD\" | heliosdb-conversational-bi hash-password`)",
            password.chars().count()
        );
        return ExitCode::from(2);
    }
    match hash_password(password) {
        Ok(hash) => {
            println!("{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error [{}]: {e}", e.kind().code());
            ExitCode::from(1)
        }
    }
}

/// Turns terminal echo off or on (best effort, through `stty`).
fn set_echo(on: bool) {
    let _ = Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(Stdio::inherit())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}
