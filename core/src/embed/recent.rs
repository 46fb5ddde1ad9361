//! An embedder that remembers the vectors of the questions it embedded last, so that two stages
//! embedding the same question (the semantic cache, then schema ranking) call the model once.

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;

use super::Embedder;
use crate::error::Result;

/// Wraps an [`Embedder`]: a single text (a question) among the last `capacity` embedded alone is
/// answered from memory. Batches (a schema, which its user keeps vectors of) go to the inner
/// embedder as they are.
#[derive(Debug)]
pub struct RecentEmbeddings {
    inner: Arc<dyn Embedder>,
    capacity: usize,
    recent: Mutex<VecDeque<(String, Vec<f32>)>>,
}

impl RecentEmbeddings {
    /// Remembers the vectors of the last `capacity` single texts `inner` embedded.
    pub fn new(inner: Arc<dyn Embedder>, capacity: usize) -> Self {
        Self {
            inner,
            capacity,
            recent: Mutex::new(VecDeque::with_capacity(capacity)),
        }
    }

    fn remembered(&self, text: &str) -> Option<Vec<f32>> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent
            .iter()
            .find(|(t, _)| t == text)
            .map(|(_, v)| v.clone())
    }

    fn remember(&self, text: &str, vector: &[f32]) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if self.capacity == 0 || recent.iter().any(|(t, _)| t == text) {
            return;
        }
        if recent.len() == self.capacity {
            recent.pop_front();
        }
        recent.push_back((text.to_string(), vector.to_vec()));
    }
}

#[async_trait]
impl Embedder for RecentEmbeddings {
    fn name(&self) -> String {
        self.inner.name()
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
        let [text] = texts else {
            return self.inner.embed(texts).await;
        };
        if let Some(vector) = self.remembered(text) {
            return Ok(vec![vector]);
        }
        let vectors = self.inner.embed(texts).await?;
        if let [vector] = vectors.as_slice() {
            self.remember(text, vector);
        }
        Ok(vectors)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Debug, Default)]
    struct Counting {
        texts: AtomicUsize,
    }

    #[async_trait]
    impl Embedder for Counting {
        fn name(&self) -> String {
            "counting".into()
        }

        async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>> {
            self.texts.fetch_add(texts.len(), Ordering::Relaxed);
            Ok(texts.iter().map(|t| vec![t.len() as f32, 1.0]).collect())
        }
    }

    #[tokio::test]
    async fn a_question_embedded_lately_is_not_sent_again() {
        let inner = Arc::new(Counting::default());
        let memo = RecentEmbeddings::new(inner.clone(), 2);
        let t = |s: &str| vec![s.to_string()];
        assert_eq!(
            memo.embed(&t("ab")).await.expect("embeds"),
            vec![vec![2.0, 1.0]]
        );
        assert_eq!(
            memo.embed(&t("ab")).await.expect("embeds"),
            vec![vec![2.0, 1.0]]
        );
        assert_eq!(
            inner.texts.load(Ordering::Relaxed),
            1,
            "the second came from memory"
        );
        // Batches are passed through and remembered by nobody.
        let batch = vec!["ab".to_string(), "abc".to_string()];
        assert_eq!(memo.embed(&batch).await.expect("embeds").len(), 2);
        assert_eq!(inner.texts.load(Ordering::Relaxed), 3);
        // Capacity 2: after two other questions, "ab" is gone.
        memo.embed(&t("x")).await.expect("embeds");
        memo.embed(&t("y")).await.expect("embeds");
        memo.embed(&t("ab")).await.expect("embeds");
        assert_eq!(inner.texts.load(Ordering::Relaxed), 6);
        assert_eq!(memo.name(), "counting");
    }
}
