//! What the prompt knows besides the request: the value index, sample values, few-shot
//! examples, an optional embedder, the schema token budget and privacy mode.
//!
//! The context is built once per generator (see [`PromptContext::from_source`]) and shared by
//! its clones. Per-catalog work (the schema's words, the examples' tables, embeddings of the
//! schema) is done on first use and kept.

use std::sync::{Arc, Mutex};

use super::{
    examples::{ExampleInfo, FewShotExample, verify_examples},
    index::SchemaIndex,
    render::SchemaRenderer,
    samples::SampleValues,
    select::SchemaSelection,
    tokens::estimate_tokens,
};
use crate::{
    catalog::Catalog,
    config::Config,
    embed::Embedder,
    error::{Error, Result},
    generate::GenerationRequest,
    source::DataSource,
    sql::{Validator, ValidatorOptions},
    values::ValueIndex,
};

/// Sample values shown per text column.
pub const SAMPLES_PER_COLUMN: usize = 3;
/// Few-shot examples shown per question by default.
pub const DEFAULT_MAX_EXAMPLES: usize = 3;
/// Texts sent to the embedder per call.
const EMBED_BATCH: usize = 128;

/// The prompt's inputs beyond the request. Build with [`PromptContext::new`] and the builder
/// methods, or [`PromptContext::from_source`].
#[derive(Clone)]
pub struct PromptContext {
    pub(crate) values: Option<Arc<ValueIndex>>,
    pub(crate) samples: Option<Arc<SampleValues>>,
    pub(crate) examples: Arc<Vec<FewShotExample>>,
    pub(crate) embedder: Option<Arc<dyn Embedder>>,
    pub(crate) max_schema_tokens: usize,
    pub(crate) privacy_mode: bool,
    pub(crate) max_examples: usize,
    /// The source's semantic model, for requests without a view.
    pub(crate) semantic: Option<crate::semantic::Semantic>,
    prepared: Arc<Mutex<Option<Arc<Prepared>>>>,
    vectors: Arc<tokio::sync::Mutex<Option<Arc<SchemaVectors>>>>,
}

impl std::fmt::Debug for PromptContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PromptContext")
            .field("values", &self.values.as_ref().map(|v| v.len()))
            .field("samples", &self.samples.as_ref().map(|s| s.len()))
            .field("examples", &self.examples.len())
            .field("embedder", &self.embedder.as_ref().map(|e| e.name()))
            .field("max_schema_tokens", &self.max_schema_tokens)
            .field("privacy_mode", &self.privacy_mode)
            .field("max_examples", &self.max_examples)
            .field(
                "semantic",
                &self.semantic.as_ref().map(|s| s.model().name.clone()),
            )
            .finish()
    }
}

impl Default for PromptContext {
    fn default() -> Self {
        Self::new()
    }
}

/// Per-catalog state, computed on first use.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub fingerprint: String,
    pub index: SchemaIndex,
    pub validator: Validator,
    pub examples: Vec<ExampleInfo>,
    /// The whole schema listing, as this context renders it.
    pub full_text: String,
    /// Its tokens.
    pub full_tokens: usize,
}

/// Embeddings of a catalog's tables and columns and of the examples' questions.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaVectors {
    fingerprint: String,
    embedder: String,
    /// One vector per table.
    pub tables: Vec<Vec<f32>>,
    /// One vector per column of each table.
    pub columns: Vec<Vec<Vec<f32>>>,
    /// One vector per few-shot example question.
    pub examples: Vec<Vec<f32>>,
}

/// The embeddings one prompt uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    /// The question's vector.
    pub question: Vec<f32>,
    /// The schema's and the examples' vectors.
    pub schema: Arc<SchemaVectors>,
}

impl PromptContext {
    /// A context with no values, samples, examples or embedder, a budget of 4000 schema tokens
    /// and privacy mode off.
    pub fn new() -> Self {
        Self {
            values: None,
            samples: None,
            examples: Arc::new(Vec::new()),
            embedder: None,
            max_schema_tokens: 4000,
            privacy_mode: false,
            max_examples: DEFAULT_MAX_EXAMPLES,
            semantic: None,
            prepared: Arc::default(),
            vectors: Arc::default(),
        }
    }

    /// The context `[llm]` asks for on `source`: its shared value index, sample values from it
    /// (none in privacy mode), the configured examples (each checked by the validator; the error
    /// names the first refused one), `max_schema_tokens`, `privacy_mode`, and the provider's
    /// embedder when [`Config::prompt_uses_embeddings`].
    pub async fn from_source(config: &Config, source: &DataSource) -> Result<Self> {
        let embedder = if config.prompt_uses_embeddings() {
            Some(crate::llm::embedder_from_config(&config.llm)?)
        } else {
            None
        };
        Self::from_source_with_embedder(config, source, embedder).await
    }

    /// [`from_source`](Self::from_source) with the embedder given (e.g. one shared with the
    /// semantic cache), or none.
    pub async fn from_source_with_embedder(
        config: &Config,
        source: &DataSource,
        embedder: Option<Arc<dyn Embedder>>,
    ) -> Result<Self> {
        let llm = &config.llm;
        verify_examples(&llm.examples, source.validator())?;
        let values = source.value_index().await?;
        let mut context = Self::new()
            .values(values.clone())
            .examples(llm.examples.clone())
            .max_schema_tokens(llm.max_schema_tokens)
            .privacy_mode(llm.privacy_mode);
        if !llm.privacy_mode {
            context = context.samples(SampleValues::from_value_index(&values, SAMPLES_PER_COLUMN));
        }
        Ok(context
            .embedder(embedder)
            .semantic(source.semantic().cloned()))
    }

    /// The semantic model of requests that carry no view (a request's view gives its own,
    /// restricted to what the asker may see).
    pub fn semantic(mut self, semantic: Option<crate::semantic::Semantic>) -> Self {
        self.semantic = semantic;
        self
    }

    /// This context with the known values (and, unless in privacy mode, the samples) of another
    /// view of the data: an asker's under data permissions, or a tenant's database.
    pub(crate) fn for_values(&self, values: Arc<ValueIndex>) -> Self {
        let sampled = self.samples.is_some();
        let mut context = self.clone().values(values.clone());
        if sampled {
            context = context.samples(SampleValues::from_value_index(&values, SAMPLES_PER_COLUMN));
        }
        context
    }

    fn reset(mut self) -> Self {
        self.prepared = Arc::default();
        self.vectors = Arc::default();
        self
    }

    /// Known values: for value hints and for ranking by values.
    pub fn values(mut self, values: Arc<ValueIndex>) -> Self {
        self.values = Some(values);
        self.reset()
    }

    /// Sample values shown next to text columns.
    pub fn samples(mut self, samples: SampleValues) -> Self {
        self.samples = Some(Arc::new(samples));
        self.reset()
    }

    /// Few-shot examples (check them with
    /// [`verify_examples`](super::examples::verify_examples) first).
    pub fn examples(mut self, examples: Vec<FewShotExample>) -> Self {
        self.examples = Arc::new(examples);
        self.reset()
    }

    /// How many examples at most go into one prompt (default 3).
    pub fn max_examples(mut self, max: usize) -> Self {
        self.max_examples = max;
        self
    }

    /// An embedder for ranking schema elements and examples by meaning.
    pub fn embedder(mut self, embedder: Option<Arc<dyn Embedder>>) -> Self {
        self.embedder = embedder;
        self.reset()
    }

    /// The token budget of the schema listing (`[llm] max_schema_tokens`).
    pub fn max_schema_tokens(mut self, tokens: usize) -> Self {
        self.max_schema_tokens = tokens;
        self
    }

    /// Privacy mode: no sample values and no value hints in the prompt, and no data values in
    /// the database messages of failed tries.
    pub fn privacy_mode(mut self, on: bool) -> Self {
        self.privacy_mode = on;
        self.reset()
    }

    /// The renderer of this context for `catalog`.
    pub(crate) fn renderer<'a>(&'a self, catalog: &'a Catalog) -> SchemaRenderer<'a> {
        SchemaRenderer {
            catalog,
            samples: if self.privacy_mode {
                None
            } else {
                self.samples.as_deref()
            },
        }
    }

    /// The per-catalog state of `catalog`, computed on first use.
    pub(crate) fn prepared(&self, catalog: &Arc<Catalog>) -> Arc<Prepared> {
        let mut slot = self
            .prepared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(p) = slot.as_ref()
            && p.fingerprint == catalog.fingerprint
        {
            return p.clone();
        }
        let index = SchemaIndex::new(catalog, self.values.as_deref());
        let validator = Validator::new(
            catalog.clone(),
            ValidatorOptions {
                max_rows: 1000,
                ..ValidatorOptions::default()
            },
        );
        let examples = self
            .examples
            .iter()
            .map(|e| ExampleInfo::new(e, &validator, &index))
            .collect();
        let full_text = self
            .renderer(catalog)
            .render(&SchemaSelection::whole(&index));
        let full_tokens = estimate_tokens(&full_text);
        let prepared = Arc::new(Prepared {
            fingerprint: catalog.fingerprint.clone(),
            index,
            validator,
            examples,
            full_text,
            full_tokens,
        });
        *slot = Some(prepared.clone());
        prepared
    }

    /// Embeddings for `request`, when an embedder is configured. An embedder that fails costs
    /// the ranking its embeddings, not the question: the failure is logged and `None` returned.
    pub async fn embeddings(&self, request: &GenerationRequest) -> Option<Embeddings> {
        let embedder = self.embedder.as_ref()?;
        match self.try_embeddings(embedder.as_ref(), request).await {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(embedder = %embedder.name(), error = %e, "schema ranking goes on without embeddings");
                None
            }
        }
    }

    async fn try_embeddings(
        &self,
        embedder: &dyn Embedder,
        request: &GenerationRequest,
    ) -> Result<Embeddings> {
        let schema = self.schema_vectors(embedder, &request.catalog).await?;
        let question = embedder
            .embed(std::slice::from_ref(&request.question))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::internal("the embedder returned no vector"))?;
        Ok(Embeddings { question, schema })
    }

    async fn schema_vectors(
        &self,
        embedder: &dyn Embedder,
        catalog: &Catalog,
    ) -> Result<Arc<SchemaVectors>> {
        let mut slot = self.vectors.lock().await;
        if let Some(v) = slot.as_ref()
            && v.fingerprint == catalog.fingerprint
            && v.embedder == embedder.name()
        {
            return Ok(v.clone());
        }
        let mut texts: Vec<String> = Vec::new();
        for t in &catalog.tables {
            let columns: Vec<String> = t.columns.iter().map(|c| words(&c.name)).collect();
            texts.push(with_comment(
                format!("{}: {}", words(&t.name), columns.join(", ")),
                t.comment.as_deref(),
            ));
        }
        for t in &catalog.tables {
            for c in &t.columns {
                texts.push(with_comment(
                    format!("{} {}", words(&t.name), words(&c.name)),
                    c.comment.as_deref(),
                ));
            }
        }
        texts.extend(self.examples.iter().map(|e| e.question.clone()));
        let mut vectors = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(EMBED_BATCH) {
            let got = embedder.embed(chunk).await?;
            if got.len() != chunk.len() {
                return Err(Error::internal(format!(
                    "the embedder returned {} vectors for {} texts",
                    got.len(),
                    chunk.len()
                )));
            }
            vectors.extend(got);
        }
        let mut it = vectors.into_iter();
        let tables: Vec<Vec<f32>> = it.by_ref().take(catalog.tables.len()).collect();
        let columns: Vec<Vec<Vec<f32>>> = catalog
            .tables
            .iter()
            .map(|t| it.by_ref().take(t.columns.len()).collect())
            .collect();
        let examples: Vec<Vec<f32>> = it.collect();
        let v = Arc::new(SchemaVectors {
            fingerprint: catalog.fingerprint.clone(),
            embedder: embedder.name(),
            tables,
            columns,
            examples,
        });
        *slot = Some(v.clone());
        Ok(v)
    }
}

/// An identifier as words (`BillingCountry` → "billing country").
fn words(ident: &str) -> String {
    crate::text::identifier_words(ident).join(" ")
}

fn with_comment(text: String, comment: Option<&str>) -> String {
    match comment {
        Some(c) => format!("{text} ({c})"),
        None => text,
    }
}
