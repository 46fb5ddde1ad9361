//! `heliosdb-conversational-bi`: the command-line tool and standalone server of HeliosDB
//! Conversational BI.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main()
}
