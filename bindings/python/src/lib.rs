//! The `conversational_bi._native` extension module: a thin layer between Python and the engine
//! core. The public Python API lives in the `conversational_bi` package (`python/`); this module
//! is private to it.
//!
//! - [`engine`]: the engine handle, with blocking methods that release the GIL and methods that
//!   return asyncio awaitables, and the stream of a question's events;
//! - [`answer`]: answers, converted to Python values when a field is read;
//! - [`errors`]: the one mapping from the core's error kinds to the package's exception classes;
//! - [`config`]: configuration from a TOML file, keyword options and the environment;
//! - [`convert`]: database values and JSON documents as Python objects;
//! - `test_hooks` (feature `test-hooks`): what the binding's tests and benchmarks call, kept out of
//!   the released wheel.

mod answer;
mod config;
mod convert;
mod engine;
mod errors;
#[cfg(feature = "test-hooks")]
mod test_hooks;

use pyo3::prelude::*;

// The engine's allocations (parsing SQL allocates a node per token) are served by mimalloc, as
// in the server binary; Python objects keep Python's allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The extension module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<engine::NativeEngine>()?;
    m.add_class::<answer::NativeAnswer>()?;
    m.add_class::<engine::NativeAskStream>()?;
    #[cfg(feature = "test-hooks")]
    {
        m.add_function(wrap_pyfunction!(test_hooks::sample_error, m)?)?;
        m.add_function(wrap_pyfunction!(test_hooks::rust_ask_gaps, m)?)?;
    }
    Ok(())
}
