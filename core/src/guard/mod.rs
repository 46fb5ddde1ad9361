//! Input guard: the checks a question passes before anything else sees it.

mod input;

pub use input::InputGuard;
