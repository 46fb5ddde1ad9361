//! Length and content checks of a question.

use crate::error::{Error, Result};

/// Checks questions against the configured limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InputGuard {
    /// Longest accepted question, in bytes (`[production.security] max_query_length`).
    pub max_query_length: usize,
    /// Largest conversation context, in bytes (`[production.security] max_context_size`).
    pub max_context_size: usize,
}

impl InputGuard {
    /// The guard of `config`.
    pub fn from_config(config: &crate::Config) -> Self {
        Self {
            max_query_length: config.production.security.max_query_length,
            max_context_size: config.production.security.max_context_size,
        }
    }

    /// Returns the question cleaned of control characters and surrounding whitespace, or an
    /// `InvalidInput` error that says what to change.
    pub fn check(&self, question: &str) -> Result<String> {
        if question.len() > self.max_query_length {
            return Err(Error::invalid_input(format!(
                "the question is {} bytes long; the limit is {} ([production.security] max_query_length). Ask a shorter question",
                question.len(),
                self.max_query_length
            )));
        }
        // Control characters (including zero-width and bidi controls) are dropped; line breaks
        // and tabs become spaces.
        let cleaned: String = question
            .chars()
            .map(|c| {
                if c == '\n' || c == '\r' || c == '\t' {
                    ' '
                } else {
                    c
                }
            })
            .filter(|c| !c.is_control() && !is_invisible(*c))
            .collect();
        let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
        if cleaned.is_empty() {
            return Err(Error::invalid_input(
                "the question is empty; ask something about the data, e.g. \"How many customers are there?\"",
            ));
        }
        Ok(cleaned)
    }

    /// Checks that a conversation context of `bytes` fits the limit.
    pub fn check_context(&self, bytes: usize) -> Result<()> {
        if bytes > self.max_context_size {
            return Err(Error::invalid_input(format!(
                "the conversation context is {bytes} bytes; the limit is {} ([production.security] max_context_size). Start a new session",
                self.max_context_size
            )));
        }
        Ok(())
    }
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUARD: InputGuard = InputGuard {
        max_query_length: 40,
        max_context_size: 100,
    };

    #[test]
    fn cleans_control_characters_and_whitespace() {
        assert_eq!(
            GUARD
                .check("  top 5\tartists\u{0}\u{200B} \n by sales ")
                .expect("ok"),
            "top 5 artists by sales"
        );
    }

    #[test]
    fn refuses_empty_and_too_long_questions() {
        let e = GUARD.check(" \u{7}\n ").expect_err("empty");
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("empty"));
        let e = GUARD.check(&"x".repeat(41)).expect_err("long");
        assert!(e.to_string().contains("max_query_length"), "{e}");
        assert!(GUARD.check_context(101).is_err());
        assert!(GUARD.check_context(100).is_ok());
    }
}
