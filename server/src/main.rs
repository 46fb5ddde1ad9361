//! `heliosdb-conversational-bi`: the command-line tool and standalone server of HeliosDB
//! Conversational BI.

use std::process::ExitCode;

fn main() -> ExitCode {
    cbi_server::cli::main()
}
