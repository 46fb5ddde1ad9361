//! `heliosdb-conversational-bi`: the command-line tool and standalone server of HeliosDB
//! Conversational BI.

use std::process::ExitCode;

// Parsing and validating SQL allocates a node per token; mimalloc serves that load faster than
// the system allocator (see core/benches/validator.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cbi_server::cli::main()
}
