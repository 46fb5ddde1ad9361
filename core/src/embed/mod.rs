//! Text embeddings: the [`Embedder`] seam.
//!
//! The semantic cache compares questions and the prompt builder ranks schema elements by
//! embedding similarity. Implementations: the built-in lexical embedder (no model,
//! deterministic) and the embedding endpoints of the LLM providers that have them.

pub(crate) mod builtin;
mod recent;

use async_trait::async_trait;

pub use builtin::BuiltinEmbedder;
pub use recent::RecentEmbeddings;

use crate::error::Result;

/// Turns texts into vectors whose cosine similarity tracks similarity of meaning.
#[async_trait]
pub trait Embedder: Send + Sync + std::fmt::Debug {
    /// A short name for logs and cache keys (`builtin`, `openai:text-embedding-3-small`). Vectors
    /// of embedders with different names are never compared.
    fn name(&self) -> String;

    /// One vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>>;
}

/// Cosine similarity of two vectors; 0 when either is all zeros or the lengths differ.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return 0.0;
    }
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

#[cfg(test)]
mod tests {
    use super::cosine;

    #[test]
    fn cosine_of_equal_orthogonal_and_degenerate_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[1.0, 0.0], &[0.0, 1.0]), 0.0);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 1.0]), 0.0);
        assert_eq!(cosine(&[1.0], &[1.0, 0.0]), 0.0);
    }
}
