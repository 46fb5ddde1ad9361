//! The dbt MetricFlow importer: `semantic_models:` and `metrics:` YAML become a
//! [`SemanticModel`].
//!
//! The mapping (see docs/semantic-model.md):
//!
//! - a semantic model is a logical table over the physical table of `model: ref('x')`, with its
//!   categorical dimensions, its time dimensions (`type_params.time_granularity` is the default
//!   grain; `defaults.agg_time_dimension` is the primary one) and its measures;
//! - a foreign entity whose name is another semantic model's primary (or unique/natural) entity
//!   becomes a [`Relationship`];
//! - a simple metric is a measure with the metric's name, label (as a synonym) and description,
//!   its `filter` folded into the measure (`CASE WHEN ... THEN expr END`);
//! - a ratio metric is `1.0 * num / NULLIF(den, 0)`, a derived metric its `expr` over the other
//!   metrics, both as an `aggregation: none` measure; the metrics they read must be on one table.
//!
//! Several files import together ([`import_all`]): a metric may use the measures of a semantic
//! model of another file. Shapes the engine cannot express (cumulative and conversion metrics,
//! percentiles, filters across tables, offsets) are errors with the file, the line and the key.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    path::{Path, PathBuf},
};

use serde::Deserialize;

use super::{
    load::{config_error, locate_path},
    model::{
        Aggregation, ColumnPair, Dimension, Measure, Relationship, SemanticModel, SemanticTable,
        TimeDimension, TimeGrain,
    },
};
use crate::error::Result;

/// Whether `text` is a dbt MetricFlow file (its top level has `semantic_models:` or
/// `metrics:`).
pub fn is_dbt(text: &str) -> bool {
    text.lines()
        .any(|l| l.starts_with("semantic_models:") || l.starts_with("metrics:"))
}

/// Imports one dbt MetricFlow file.
pub fn import(text: &str, file: Option<&Path>) -> Result<SemanticModel> {
    Ok(import_all(&[(text.to_string(), file.map(Path::to_path_buf))])?.model)
}

/// Where an imported item came from: the engine's key path (`tables[2].measures[1]`), the file
/// (index into the files given to [`import_all`]) and the dbt key path
/// (`semantic_models[0].measures[1]`).
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The engine's key path of the item.
    pub path: String,
    /// The file's index.
    pub file: usize,
    /// The dbt key path.
    pub dbt_path: String,
}

/// The model imported from several dbt files, with the place of each item.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The model.
    pub model: SemanticModel,
    /// Per table (same order as `model.tables`), the file it came from.
    pub table_files: Vec<usize>,
    /// Per relationship, the file of its foreign entity.
    pub relationship_files: Vec<usize>,
    /// The dbt place of each item.
    pub places: Vec<Place>,
}

// ---- the dbt shapes -------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DbtFile {
    semantic_models: Vec<DbtSemanticModel>,
    metrics: Vec<DbtMetric>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtSemanticModel {
    name: String,
    description: Option<String>,
    label: Option<String>,
    model: String,
    defaults: Option<DbtDefaults>,
    primary_entity: Option<String>,
    entities: Vec<DbtEntity>,
    dimensions: Vec<DbtDimension>,
    measures: Vec<DbtMeasure>,
    config: Option<serde_yaml_ng::Value>,
    meta: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtDefaults {
    agg_time_dimension: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtEntity {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    expr: Option<String>,
    description: Option<String>,
    label: Option<String>,
    role: Option<String>,
    config: Option<serde_yaml_ng::Value>,
    meta: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtDimension {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    expr: Option<String>,
    description: Option<String>,
    label: Option<String>,
    type_params: Option<DbtDimensionParams>,
    is_partition: Option<bool>,
    config: Option<serde_yaml_ng::Value>,
    meta: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtDimensionParams {
    time_granularity: Option<String>,
    validity_params: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtMeasure {
    name: String,
    agg: String,
    expr: Option<serde_yaml_ng::Value>,
    description: Option<String>,
    label: Option<String>,
    agg_time_dimension: Option<String>,
    non_additive_dimension: Option<serde_yaml_ng::Value>,
    agg_params: Option<serde_yaml_ng::Value>,
    create_metric: Option<bool>,
    config: Option<serde_yaml_ng::Value>,
    meta: Option<serde_yaml_ng::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtMetric {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    description: Option<String>,
    label: Option<String>,
    type_params: DbtMetricParams,
    filter: Option<Filter>,
    config: Option<serde_yaml_ng::Value>,
    meta: Option<serde_yaml_ng::Value>,
    time_granularity: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct DbtMetricParams {
    measure: Option<MetricInput>,
    numerator: Option<MetricInput>,
    denominator: Option<MetricInput>,
    expr: Option<String>,
    metrics: Vec<MetricInput>,
    window: Option<serde_yaml_ng::Value>,
    grain_to_date: Option<serde_yaml_ng::Value>,
    conversion_type_params: Option<serde_yaml_ng::Value>,
    cumulative_type_params: Option<serde_yaml_ng::Value>,
}

/// `measure: name` or `measure: {name: ..., filter: ..., alias: ...}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum MetricInput {
    Name(String),
    Full(Box<MetricInputFull>),
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct MetricInputFull {
    name: String,
    filter: Option<Filter>,
    alias: Option<String>,
    offset_window: Option<serde_yaml_ng::Value>,
    offset_to_grain: Option<serde_yaml_ng::Value>,
    fill_nulls_with: Option<serde_yaml_ng::Value>,
    join_to_timespine: Option<bool>,
}

impl MetricInput {
    fn name(&self) -> &str {
        match self {
            Self::Name(n) => n,
            Self::Full(f) => &f.name,
        }
    }
    fn filter(&self) -> Vec<String> {
        match self {
            Self::Name(_) => Vec::new(),
            Self::Full(f) => f.filter.as_ref().map(Filter::parts).unwrap_or_default(),
        }
    }
    fn alias(&self) -> Option<&str> {
        match self {
            Self::Name(_) => None,
            Self::Full(f) => f.alias.as_deref(),
        }
    }
    fn offset(&self) -> bool {
        matches!(self, Self::Full(f) if f.offset_window.is_some() || f.offset_to_grain.is_some())
    }
}

/// A filter: one Jinja predicate or a list of them (all must hold).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Filter {
    One(String),
    All(Vec<String>),
}

impl Filter {
    fn parts(&self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s.clone()],
            Self::All(v) => v.clone(),
        }
    }
}

// ---- import ---------------------------------------------------------------------------------

/// One file: its text and path.
type FileText = (String, Option<PathBuf>);

struct Errors<'a> {
    files: &'a [FileText],
}

impl Errors<'_> {
    fn at(&self, file: usize, path: &str, message: String) -> crate::error::Error {
        let (text, name) = &self.files[file];
        config_error(name.clone(), locate_path(text, path), path, message)
    }
}

/// A measure as the importer keeps it until metrics are resolved.
#[derive(Debug, Clone)]
struct RawMeasure {
    table: usize,
    agg: Aggregation,
    /// For `median`: a percentile over `expr`.
    median: bool,
    expr: String,
    description: String,
    label: Option<String>,
    file: usize,
    dbt_path: String,
    /// Its position among all measures, to keep the files' order.
    order: usize,
}

impl RawMeasure {
    /// The aggregate SQL, with `filter` (a predicate) folded in.
    fn aggregate(&self, filter: Option<&str>) -> (Aggregation, String) {
        let expr = match filter {
            Some(p) => format!("CASE WHEN {p} THEN {} END", self.expr),
            None => self.expr.clone(),
        };
        if self.median {
            (
                Aggregation::None,
                format!("PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY {expr})"),
            )
        } else {
            (self.agg, expr)
        }
    }
}

/// Per semantic model: its table index, entities and dimensions (for filters).
struct Scope {
    name: String,
    /// entity name → (type, expr).
    entities: Vec<(String, String, String)>,
    /// dimension name → expr.
    dimensions: HashMap<String, String>,
}

/// Imports several dbt MetricFlow files together: a metric may use the measures (and a
/// foreign entity the primary entity) of a semantic model in another file.
pub fn import_all(files: &[FileText]) -> Result<Imported> {
    let errors = Errors { files };
    let mut parsed = Vec::with_capacity(files.len());
    for (text, file) in files {
        parsed.push(parse_file(text, file.as_deref())?);
    }
    let mut out = Imported::default();
    let mut scopes: Vec<Scope> = Vec::new();
    let mut measures: BTreeMap<String, RawMeasure> = BTreeMap::new();
    let mut seen_tables: HashMap<String, (usize, String)> = HashMap::new();

    for (fi, file) in parsed.iter().enumerate() {
        for (si, sm) in file.semantic_models.iter().enumerate() {
            let base = format!("semantic_models[{si}]");
            if sm.name.trim().is_empty() {
                return Err(errors.at(fi, &base, "a semantic model needs a `name`".into()));
            }
            if seen_tables.contains_key(&sm.name) {
                return Err(errors.at(
                    fi,
                    &format!("{base}.name"),
                    format!(
                        "the semantic model {:?} is defined twice; give each one a distinct name",
                        sm.name
                    ),
                ));
            }
            let table = model_ref(&sm.model).ok_or_else(|| {
                errors.at(
                    fi,
                    &format!("{base}.model"),
                    format!(
                        "`model: {}` is not understood; write `model: ref('table')` naming the physical table",
                        sm.model
                    ),
                )
            })?;
            let ti = out.model.tables.len();
            seen_tables.insert(sm.name.clone(), (ti, base.clone()));
            let mut t = SemanticTable {
                name: sm.name.clone(),
                table: Some(table),
                description: sm
                    .description
                    .clone()
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
                synonyms: sm.label.iter().cloned().collect(),
                ..SemanticTable::default()
            };
            out.places.push(Place {
                path: format!("tables[{ti}]"),
                file: fi,
                dbt_path: base.clone(),
            });
            let mut scope = Scope {
                name: sm.name.clone(),
                entities: Vec::new(),
                dimensions: HashMap::new(),
            };
            for (ei, e) in sm.entities.iter().enumerate() {
                let kind = e.kind.to_ascii_lowercase();
                if !matches!(kind.as_str(), "primary" | "unique" | "foreign" | "natural") {
                    return Err(errors.at(
                        fi,
                        &format!("{base}.entities[{ei}].type"),
                        format!(
                            "entity {:?} has type {:?}; use primary, unique, natural or foreign",
                            e.name, e.kind
                        ),
                    ));
                }
                let expr = e.expr.clone().unwrap_or_else(|| e.name.clone());
                scope.entities.push((e.name.clone(), kind, expr));
            }
            if let Some(p) = &sm.primary_entity
                && !scope.entities.iter().any(|(n, _, _)| n == p)
            {
                scope
                    .entities
                    .push((p.clone(), "primary".into(), p.clone()));
            }
            let default_time = sm
                .defaults
                .as_ref()
                .and_then(|d| d.agg_time_dimension.clone());
            for (di, d) in sm.dimensions.iter().enumerate() {
                let path = format!("{base}.dimensions[{di}]");
                let expr = d.expr.clone().unwrap_or_else(|| d.name.clone());
                let synonyms: Vec<String> = d.label.iter().cloned().collect();
                let description = d.description.clone().unwrap_or_default().trim().to_string();
                match d.kind.to_ascii_lowercase().as_str() {
                    "categorical" => {
                        out.places.push(Place {
                            path: format!("tables[{ti}].dimensions[{}]", t.dimensions.len()),
                            file: fi,
                            dbt_path: path,
                        });
                        t.dimensions.push(Dimension {
                            name: d.name.clone(),
                            expr: expr.clone(),
                            synonyms,
                            description,
                            sample_values: Vec::new(),
                        });
                    }
                    "time" => {
                        let grain = d
                            .type_params
                            .as_ref()
                            .and_then(|p| p.time_granularity.as_deref());
                        let default_grain = match grain {
                            None => TimeGrain::Day,
                            Some(g) => grain_of(g).ok_or_else(|| {
                                errors.at(
                                    fi,
                                    &format!("{path}.type_params.time_granularity"),
                                    format!(
                                        "time granularity {g:?} is not supported; use day, week, month, quarter or year (finer grains count as day)"
                                    ),
                                )
                            })?,
                        };
                        out.places.push(Place {
                            path: format!(
                                "tables[{ti}].time_dimensions[{}]",
                                t.time_dimensions.len()
                            ),
                            file: fi,
                            dbt_path: path,
                        });
                        t.time_dimensions.push(TimeDimension {
                            name: d.name.clone(),
                            expr: expr.clone(),
                            synonyms,
                            description,
                            default_grain,
                            primary: default_time.as_deref() == Some(d.name.as_str()),
                        });
                    }
                    other => {
                        return Err(errors.at(
                            fi,
                            &format!("{path}.type"),
                            format!(
                                "dimension {:?} has type {other:?}; use categorical or time",
                                d.name
                            ),
                        ));
                    }
                }
                scope.dimensions.insert(d.name.clone(), expr);
            }
            if let Some(name) = &default_time
                && !t.time_dimensions.iter().any(|d| &d.name == name)
            {
                return Err(errors.at(
                    fi,
                    &format!("{base}.defaults.agg_time_dimension"),
                    format!("no time dimension {name:?} in semantic model {:?}", sm.name),
                ));
            }
            for (mi, m) in sm.measures.iter().enumerate() {
                let path = format!("{base}.measures[{mi}]");
                if m.name.trim().is_empty() {
                    return Err(errors.at(fi, &path, "a measure needs a `name`".into()));
                }
                if m.non_additive_dimension.is_some() {
                    return Err(errors.at(
                        fi,
                        &format!("{path}.non_additive_dimension"),
                        format!(
                            "measure {:?}: semi-additive measures (non_additive_dimension) are not supported; remove the key or leave the measure out",
                            m.name
                        ),
                    ));
                }
                if let Some(td) = &m.agg_time_dimension
                    && !t.time_dimensions.iter().any(|d| &d.name == td)
                {
                    return Err(errors.at(
                        fi,
                        &format!("{path}.agg_time_dimension"),
                        format!(
                            "measure {:?}: no time dimension {td:?} in semantic model {:?}",
                            m.name, sm.name
                        ),
                    ));
                }
                let expr = match &m.expr {
                    None => m.name.clone(),
                    Some(serde_yaml_ng::Value::String(s)) => s.trim().to_string(),
                    Some(serde_yaml_ng::Value::Number(n)) => n.to_string(),
                    Some(serde_yaml_ng::Value::Bool(b)) => b.to_string(),
                    Some(_) => {
                        return Err(errors.at(
                            fi,
                            &format!("{path}.expr"),
                            format!("measure {:?}: `expr` must be SQL text", m.name),
                        ));
                    }
                };
                let (agg, expr, median) = match m.agg.to_ascii_lowercase().as_str() {
                    "sum" => (Aggregation::Sum, expr, false),
                    "count" => (Aggregation::Count, expr, false),
                    "count_distinct" => (Aggregation::CountDistinct, expr, false),
                    "average" | "avg" => (Aggregation::Avg, expr, false),
                    "min" => (Aggregation::Min, expr, false),
                    "max" => (Aggregation::Max, expr, false),
                    "sum_boolean" => (
                        Aggregation::Sum,
                        format!("CASE WHEN {expr} THEN 1 ELSE 0 END"),
                        false,
                    ),
                    "median" => (Aggregation::None, expr, true),
                    other => {
                        return Err(errors.at(
                            fi,
                            &format!("{path}.agg"),
                            format!(
                                "measure {:?}: aggregation {other:?} is not supported; use sum, count, count_distinct, average, min, max, sum_boolean or median",
                                m.name
                            ),
                        ));
                    }
                };
                if let Some(prev) = measures.get(&m.name) {
                    return Err(errors.at(
                        fi,
                        &format!("{path}.name"),
                        format!(
                            "the measure {:?} is also defined at {}; measure names must be unique across semantic models",
                            m.name, prev.dbt_path
                        ),
                    ));
                }
                measures.insert(
                    m.name.clone(),
                    RawMeasure {
                        table: ti,
                        agg,
                        median,
                        expr,
                        description: m.description.clone().unwrap_or_default().trim().to_string(),
                        label: m.label.clone(),
                        file: fi,
                        dbt_path: path,
                        order: measures.len(),
                    },
                );
            }
            out.model.tables.push(t);
            out.table_files.push(fi);
            scopes.push(scope);
        }
    }

    // Relationships: a foreign entity names another semantic model's primary entity.
    for (fi, file) in parsed.iter().enumerate() {
        for (si, sm) in file.semantic_models.iter().enumerate() {
            let (ti, _) = seen_tables[&sm.name];
            for (ei, e) in sm.entities.iter().enumerate() {
                if !e.kind.eq_ignore_ascii_case("foreign") {
                    continue;
                }
                let Some((oi, other)) = scopes.iter().enumerate().find(|(oi, s)| {
                    *oi != ti
                        && s.entities.iter().any(|(n, k, _)| {
                            n == &e.name && matches!(k.as_str(), "primary" | "unique" | "natural")
                        })
                }) else {
                    continue;
                };
                let left = e.expr.clone().unwrap_or_else(|| e.name.clone());
                let right = other
                    .entities
                    .iter()
                    .find(|(n, _, _)| n == &e.name)
                    .map(|(_, _, x)| x.clone())
                    .unwrap_or_default();
                for (side, col) in [("this", &left), ("the primary", &right)] {
                    if !is_identifier(col) {
                        return Err(errors.at(
                            fi,
                            &format!("semantic_models[{si}].entities[{ei}]"),
                            format!(
                                "entity {:?}: {side} entity's expr {col:?} is not a column; a join needs plain columns",
                                e.name
                            ),
                        ));
                    }
                }
                out.places.push(Place {
                    path: format!("relationships[{}]", out.model.relationships.len()),
                    file: fi,
                    dbt_path: format!("semantic_models[{si}].entities[{ei}]"),
                });
                out.relationships_push(
                    Relationship {
                        name: format!("{} {}", sm.name, e.name),
                        left_table: sm.name.clone(),
                        right_table: out_name(&scopes, oi),
                        columns: vec![ColumnPair { left, right }],
                    },
                    fi,
                );
            }
        }
    }

    // Metrics.
    let mut metrics: HashMap<String, (usize, usize)> = HashMap::new();
    for (fi, file) in parsed.iter().enumerate() {
        for (mi, m) in file.metrics.iter().enumerate() {
            if m.name.trim().is_empty() {
                return Err(errors.at(
                    fi,
                    &format!("metrics[{mi}]"),
                    "a metric needs a `name`".into(),
                ));
            }
            if metrics.insert(m.name.clone(), (fi, mi)).is_some() {
                return Err(errors.at(
                    fi,
                    &format!("metrics[{mi}].name"),
                    format!("the metric {:?} is defined twice", m.name),
                ));
            }
        }
    }
    let mut resolver = Resolver {
        parsed: &parsed,
        errors: &errors,
        scopes: &scopes,
        measures: &measures,
        metrics: &metrics,
        done: HashMap::new(),
        active: HashSet::new(),
    };
    let mut order: Vec<(usize, usize)> = metrics.values().copied().collect();
    order.sort();
    let mut replaced: HashSet<String> = HashSet::new();
    let mut new_measures: Vec<(usize, Measure, usize, String)> = Vec::new();
    for (fi, mi) in order {
        let m = &parsed[fi].metrics[mi];
        let resolved = resolver.resolve(&m.name)?;
        // A simple metric without a filter publishes its measure: the measure is not listed
        // again under its own name.
        if m.kind.eq_ignore_ascii_case("simple")
            && m.filter.is_none()
            && let Some(measure) = m.type_params.measure.as_ref()
            && measure.filter().is_empty()
        {
            replaced.insert(measure.name().to_string());
        }
        let raw_description = match m.kind.to_ascii_lowercase().as_str() {
            "simple" => m
                .type_params
                .measure
                .as_ref()
                .and_then(|x| measures.get(x.name()))
                .map(|r| r.description.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        let description = m
            .description
            .clone()
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or(raw_description);
        new_measures.push((
            resolved.table,
            Measure {
                name: m.name.clone(),
                expr: resolved.expr,
                aggregation: resolved.agg,
                synonyms: m.label.iter().filter(|l| **l != m.name).cloned().collect(),
                description,
                format: None,
                higher_is_better: true,
            },
            fi,
            format!("metrics[{mi}]"),
        ));
    }
    // Measures not published under their own name by a simple metric stay as measures.
    let mut kept: Vec<(&String, &RawMeasure)> = measures.iter().collect();
    kept.sort_by_key(|(_, r)| r.order);
    for (name, raw) in kept {
        if replaced.contains(name) {
            continue;
        }
        let (agg, expr) = raw.aggregate(None);
        let t = &mut out.model.tables[raw.table];
        out.places.push(Place {
            path: format!("tables[{}].measures[{}]", raw.table, t.measures.len()),
            file: raw.file,
            dbt_path: raw.dbt_path.clone(),
        });
        t.measures.push(Measure {
            name: name.clone(),
            expr,
            aggregation: agg,
            synonyms: raw.label.iter().filter(|l| *l != name).cloned().collect(),
            description: raw.description.clone(),
            format: None,
            higher_is_better: true,
        });
    }
    for (ti, measure, fi, dbt_path) in new_measures {
        let t = &mut out.model.tables[ti];
        out.places.push(Place {
            path: format!("tables[{ti}].measures[{}]", t.measures.len()),
            file: fi,
            dbt_path,
        });
        t.measures.push(measure);
    }
    Ok(out)
}

impl Imported {
    fn relationships_push(&mut self, r: Relationship, file: usize) {
        self.model.relationships.push(r);
        self.relationship_files.push(file);
    }
}

fn out_name(scopes: &[Scope], i: usize) -> String {
    scopes[i].name.clone()
}

fn parse_file(text: &str, file: Option<&Path>) -> Result<DbtFile> {
    super::load::parse_yaml(
        text,
        file,
        " (dbt MetricFlow file); see docs/semantic-model.md for what is imported",
    )
}

/// `ref('orders')` / `ref("orders")` / `ref('pkg', 'orders')` → `orders`.
fn model_ref(text: &str) -> Option<String> {
    let t = text.trim();
    let t = t
        .strip_prefix("{{")
        .and_then(|s| s.strip_suffix("}}"))
        .unwrap_or(t)
        .trim();
    let inner = t.strip_prefix("ref(")?.strip_suffix(')')?;
    let last = inner.rsplit(',').next()?.trim();
    let name = last
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| last.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
    (!name.is_empty()).then(|| name.to_string())
}

fn grain_of(text: &str) -> Option<TimeGrain> {
    Some(match text.to_ascii_lowercase().as_str() {
        "nanosecond" | "microsecond" | "millisecond" | "second" | "minute" | "hour" | "day" => {
            TimeGrain::Day
        }
        "week" => TimeGrain::Week,
        "month" => TimeGrain::Month,
        "quarter" => TimeGrain::Quarter,
        "year" => TimeGrain::Year,
        _ => return None,
    })
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A metric resolved to one table's aggregate SQL.
#[derive(Debug, Clone)]
struct Resolved {
    table: usize,
    agg: Aggregation,
    /// With `agg`: the expression it aggregates (`None`: the whole aggregate).
    expr: String,
}

impl Resolved {
    fn sql(&self) -> String {
        self.agg.apply(&self.expr)
    }
}

struct Resolver<'a> {
    parsed: &'a [DbtFile],
    errors: &'a Errors<'a>,
    scopes: &'a [Scope],
    measures: &'a BTreeMap<String, RawMeasure>,
    metrics: &'a HashMap<String, (usize, usize)>,
    done: HashMap<String, Resolved>,
    active: HashSet<String>,
}

impl Resolver<'_> {
    fn resolve(&mut self, name: &str) -> Result<Resolved> {
        if let Some(r) = self.done.get(name) {
            return Ok(r.clone());
        }
        let &(fi, mi) = self
            .metrics
            .get(name)
            .expect("resolve is called on metrics");
        let m = &self.parsed[fi].metrics[mi];
        let base = format!("metrics[{mi}]");
        if !self.active.insert(name.to_string()) {
            return Err(self.errors.at(
                fi,
                &base,
                format!("metric {name:?} refers to itself through other metrics"),
            ));
        }
        let err = |key: &str, message: String| self.errors.at(fi, &format!("{base}{key}"), message);
        let metric_filter = m.filter.as_ref().map(Filter::parts).unwrap_or_default();
        let resolved = match m.kind.to_ascii_lowercase().as_str() {
            "simple" => {
                let input = m.type_params.measure.as_ref().ok_or_else(|| {
                    err(
                        ".type_params",
                        format!("simple metric {name:?} needs `type_params.measure`"),
                    )
                })?;
                let raw = self.measures.get(input.name()).ok_or_else(|| {
                    err(
                        ".type_params.measure",
                        format!(
                            "metric {name:?}: no measure {:?} in any semantic model of [semantic] model",
                            input.name()
                        ),
                    )
                })?;
                let mut parts = metric_filter.clone();
                parts.extend(input.filter());
                let predicate = self.predicate(&parts, raw.table, name, |k, msg| err(k, msg))?;
                let (agg, expr) = raw.aggregate(predicate.as_deref());
                Resolved {
                    table: raw.table,
                    agg,
                    expr,
                }
            }
            "ratio" => {
                let mut sides = Vec::new();
                for (key, input) in [
                    ("numerator", &m.type_params.numerator),
                    ("denominator", &m.type_params.denominator),
                ] {
                    let input = input.as_ref().ok_or_else(|| {
                        err(
                            ".type_params",
                            format!("ratio metric {name:?} needs `type_params.{key}`"),
                        )
                    })?;
                    let key = format!(".type_params.{key}");
                    let side = self.input(input, &key, name, fi, &base)?;
                    sides.push(side);
                }
                if sides[0].table != sides[1].table {
                    return Err(err(
                        "",
                        format!(
                            "ratio metric {name:?}: its numerator is on {:?} and its denominator on {:?}; the engine imports ratios of one table only",
                            self.scopes[sides[0].table].name, self.scopes[sides[1].table].name
                        ),
                    ));
                }
                if !metric_filter.is_empty() {
                    return Err(err(
                        ".filter",
                        format!(
                            "ratio metric {name:?}: a filter on the whole ratio is not supported; put it on the numerator and denominator"
                        ),
                    ));
                }
                Resolved {
                    table: sides[0].table,
                    agg: Aggregation::None,
                    expr: format!("1.0 * {} / NULLIF({}, 0)", sides[0].sql(), sides[1].sql()),
                }
            }
            "derived" => {
                let expr = m.type_params.expr.clone().ok_or_else(|| {
                    err(
                        ".type_params.expr",
                        format!("derived metric {name:?} needs `type_params.expr`"),
                    )
                })?;
                if m.type_params.metrics.is_empty() {
                    return Err(err(
                        ".type_params.metrics",
                        format!("derived metric {name:?} needs `type_params.metrics`"),
                    ));
                }
                if !metric_filter.is_empty() {
                    return Err(err(
                        ".filter",
                        format!(
                            "derived metric {name:?}: a filter on a derived metric is not supported; put it on the metrics it uses"
                        ),
                    ));
                }
                let mut table: Option<usize> = None;
                let mut replacements: HashMap<String, String> = HashMap::new();
                for (ii, input) in m.type_params.metrics.iter().enumerate() {
                    let key = format!(".type_params.metrics[{ii}]");
                    if input.offset() {
                        return Err(err(
                            &key,
                            format!(
                                "derived metric {name:?}: offset_window/offset_to_grain (period over period) is not supported"
                            ),
                        ));
                    }
                    let side = self.input(input, &key, name, fi, &base)?;
                    if let Some(t) = table
                        && t != side.table
                    {
                        return Err(err(
                            &key,
                            format!(
                                "derived metric {name:?}: it reads {:?} and {:?}; the engine imports derived metrics of one table only",
                                self.scopes[t].name, self.scopes[side.table].name
                            ),
                        ));
                    }
                    table = Some(side.table);
                    let word = input.alias().unwrap_or(input.name()).to_string();
                    replacements.insert(word, format!("({})", side.sql()));
                }
                Resolved {
                    table: table.unwrap_or_default(),
                    agg: Aggregation::None,
                    expr: replace_words(&expr, &replacements),
                }
            }
            other => {
                return Err(err(
                    ".type",
                    format!(
                        "metric {name:?} has type {other:?}; the engine imports simple, ratio and derived metrics (cumulative and conversion metrics are not supported)"
                    ),
                ));
            }
        };
        self.active.remove(name);
        self.done.insert(name.to_string(), resolved.clone());
        Ok(resolved)
    }

    /// A numerator, denominator or derived input: a metric (or, for ratios of older dbt, a
    /// measure), with its own filter.
    fn input(
        &mut self,
        input: &MetricInput,
        key: &str,
        metric: &str,
        fi: usize,
        base: &str,
    ) -> Result<Resolved> {
        let errors = self.errors;
        let err = |k: &str, message: String| errors.at(fi, &format!("{base}{k}"), message);
        let filter = input.filter();
        if self.metrics.contains_key(input.name()) {
            let r = self.resolve(input.name())?;
            if filter.is_empty() {
                return Ok(r);
            }
            // A filter on an input metric: only simple metrics can take it.
            let &(ofi, omi) = &self.metrics[input.name()];
            let other = &self.parsed[ofi].metrics[omi];
            let raw = other
                .type_params
                .measure
                .as_ref()
                .and_then(|x| self.measures.get(x.name()))
                .filter(|_| other.kind.eq_ignore_ascii_case("simple"));
            let Some(raw) = raw else {
                return Err(err(
                    key,
                    format!(
                        "metric {metric:?}: a filter on {:?} needs it to be a simple metric",
                        input.name()
                    ),
                ));
            };
            let mut parts = other.filter.as_ref().map(Filter::parts).unwrap_or_default();
            if let Some(x) = other.type_params.measure.as_ref() {
                parts.extend(x.filter());
            }
            parts.extend(filter);
            let predicate = self.predicate(&parts, raw.table, metric, |k, m| {
                err(&format!("{key}{k}"), m)
            })?;
            let (agg, expr) = raw.aggregate(predicate.as_deref());
            return Ok(Resolved {
                table: raw.table,
                agg,
                expr,
            });
        }
        if let Some(raw) = self.measures.get(input.name()) {
            let predicate = self.predicate(&filter, raw.table, metric, |k, m| {
                err(&format!("{key}{k}"), m)
            })?;
            let (agg, expr) = raw.aggregate(predicate.as_deref());
            return Ok(Resolved {
                table: raw.table,
                agg,
                expr,
            });
        }
        Err(err(
            key,
            format!(
                "metric {metric:?}: no metric or measure {:?} in the files of [semantic] model",
                input.name()
            ),
        ))
    }

    /// The SQL predicate of dbt filters (`{{ Dimension('order__status') }} = 'paid'`), all of
    /// which must hold, over the columns of table `table`.
    fn predicate(
        &self,
        parts: &[String],
        table: usize,
        metric: &str,
        err: impl Fn(&str, String) -> crate::error::Error,
    ) -> Result<Option<String>> {
        if parts.is_empty() {
            return Ok(None);
        }
        let mut out = Vec::new();
        for part in parts {
            let sql = render_filter(part, &self.scopes[table])
                .map_err(|why| err(".filter", format!("metric {metric:?}: {why}")))?;
            out.push(format!("({sql})"));
        }
        Ok(Some(out.join(" AND ")))
    }
}

/// Replaces the Jinja calls of a dbt filter with SQL over `scope`'s columns.
fn render_filter(text: &str, scope: &Scope) -> std::result::Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| format!("the filter {text:?} has an unclosed `{{{{`"))?;
        let call = after[..end].trim();
        out.push_str(&render_call(call, scope)?);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    if out.contains("{%") {
        return Err(format!(
            "the filter {text:?} uses Jinja statements; only {{{{ Dimension(...) }}}}, {{{{ TimeDimension(...) }}}} and {{{{ Entity(...) }}}} are read"
        ));
    }
    Ok(out.trim().to_string())
}

fn render_call(call: &str, scope: &Scope) -> std::result::Result<String, String> {
    let (func, args) = call
        .split_once('(')
        .and_then(|(f, a)| Some((f.trim(), a.strip_suffix(')')?)))
        .ok_or_else(|| format!("`{{{{ {call} }}}}` is not understood"))?;
    let args: Vec<&str> = args
        .split(',')
        .map(|a| a.trim().trim_matches(|c| c == '\'' || c == '"'))
        .collect();
    if args.iter().any(|a| a.contains('=')) {
        return Err(format!(
            "`{{{{ {call} }}}}`: entity_path and named arguments are not supported"
        ));
    }
    let reference = args.first().copied().unwrap_or("");
    let entity_expr = |entity: &str| {
        scope
            .entities
            .iter()
            .find(|(n, _, _)| n == entity)
            .map(|(_, _, e)| e.clone())
    };
    let own_entity = |entity: &str| {
        scope
            .entities
            .iter()
            .any(|(n, k, _)| n == entity && k != "foreign")
    };
    match func {
        "Dimension" | "TimeDimension" => {
            if func == "TimeDimension"
                && let Some(grain) = args.get(1)
                && !grain.eq_ignore_ascii_case("day")
            {
                return Err(format!(
                    "`{{{{ {call} }}}}`: only the day grain of a time dimension can be filtered on"
                ));
            }
            let (entity, dim) = reference.split_once("__").ok_or_else(|| {
                format!("`{{{{ {call} }}}}`: name the dimension as 'entity__dimension'")
            })?;
            if !own_entity(entity) {
                return Err(format!(
                    "`{{{{ {call} }}}}`: the entity {entity:?} is not a primary entity of semantic model {:?}; a filter across tables is not supported",
                    scope.name
                ));
            }
            scope.dimensions.get(dim).cloned().ok_or_else(|| {
                format!(
                    "`{{{{ {call} }}}}`: no dimension {dim:?} in semantic model {:?}",
                    scope.name
                )
            })
        }
        "Entity" => entity_expr(reference).ok_or_else(|| {
            format!(
                "`{{{{ {call} }}}}`: no entity {reference:?} in semantic model {:?}",
                scope.name
            )
        }),
        other => Err(format!(
            "`{{{{ {call} }}}}`: {other} is not supported in filters; use Dimension, TimeDimension or Entity"
        )),
    }
}

/// Replaces whole words of `expr` outside string literals.
fn replace_words(expr: &str, words: &HashMap<String, String>) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            out.push_str(words.get(word.as_str()).map_or(word.as_str(), |s| s));
            word.clear();
        }
    };
    for c in expr.chars() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
        out.push(c);
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODELS: &str = "\
semantic_models:
  - name: orders
    model: ref('Orders')
    defaults:
      agg_time_dimension: ordered_at
    entities:
      - name: order
        type: primary
        expr: OrderId
      - name: customer
        type: foreign
        expr: CustomerId
    dimensions:
      - name: ordered_at
        type: time
        expr: OrderDate
        type_params:
          time_granularity: month
      - name: status
        type: categorical
    measures:
      - name: order_total
        agg: sum
        expr: Amount
      - name: order_count
        agg: count
        expr: OrderId
  - name: customers
    model: ref('Customers')
    entities:
      - name: customer
        type: primary
        expr: CustomerId
    dimensions:
      - name: country
        type: categorical
        expr: Country
    measures:
      - name: customer_count
        agg: count
        expr: CustomerId
";

    const METRICS: &str = "\
metrics:
  - name: revenue
    type: simple
    type_params:
      measure: order_total
  - name: paid_revenue
    type: simple
    type_params:
      measure: order_total
    filter: \"{{ Dimension('order__status') }} = 'paid'\"
";

    fn files(extra: &str) -> Vec<FileText> {
        vec![
            (
                format!("{METRICS}{extra}"),
                Some(PathBuf::from("metrics.yml")),
            ),
            (MODELS.to_string(), Some(PathBuf::from("models.yml"))),
        ]
    }

    fn refused(extra: &str) -> String {
        import_all(&files(extra)).expect_err("refused").to_string()
    }

    fn line_of(text: &str, needle: &str) -> usize {
        text.lines().position(|l| l.contains(needle)).expect("line") + 1
    }

    #[test]
    fn files_import_together_whatever_their_order() {
        let imported = import_all(&files("")).expect("imports");
        let model = &imported.model;
        let orders = &model.tables[0];
        assert_eq!(orders.physical(), "Orders");
        assert_eq!(orders.time_dimensions[0].default_grain, TimeGrain::Month);
        assert!(orders.time_dimensions[0].primary);
        assert_eq!(orders.dimensions[0].expr, "status");
        let names: Vec<&str> = orders.measures.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["order_count", "revenue", "paid_revenue"]);
        assert_eq!(
            orders.measures[2].expr,
            "CASE WHEN (status = 'paid') THEN Amount END"
        );
        assert_eq!(model.relationships.len(), 1);
        assert_eq!(model.relationships[0].right_table, "customers");
        let mut reversed = files("");
        reversed.reverse();
        assert_eq!(
            import_all(&reversed).expect("imports").model,
            imported.model
        );
    }

    #[test]
    fn model_refs_are_read() {
        assert_eq!(model_ref("ref('Invoice')").as_deref(), Some("Invoice"));
        assert_eq!(model_ref("{{ ref(\"x\") }}").as_deref(), Some("x"));
        assert_eq!(model_ref("ref('pkg', 'y')").as_deref(), Some("y"));
        assert_eq!(model_ref("source('a', 'b')"), None);
    }

    #[test]
    fn unsupported_metric_types_are_refused_at_their_line() {
        let extra = "  - name: running\n    type: cumulative\n    type_params:\n      measure: order_total\n";
        let e = refused(extra);
        let text = format!("{METRICS}{extra}");
        assert!(
            e.contains(&format!(
                "metrics.yml:{}:",
                line_of(&text, "type: cumulative")
            )),
            "{e}"
        );
        assert!(e.contains("metrics[2].type"), "{e}");
        assert!(e.contains("cumulative"), "{e}");
    }

    #[test]
    fn a_ratio_across_tables_is_refused_naming_the_metric() {
        let extra = "  - name: orders_per_customer\n    type: ratio\n    type_params:\n      numerator: order_count\n      denominator: customer_count\n";
        let e = refused(extra);
        assert!(e.contains("orders_per_customer"), "{e}");
        assert!(e.contains("metrics.yml:"), "{e}");
        assert!(e.contains("key `metrics[2]`"), "{e}");
        assert!(e.contains("one table"), "{e}");
    }

    #[test]
    fn a_derived_metric_across_tables_is_refused() {
        let extra = "  - name: mix\n    type: derived\n    type_params:\n      expr: revenue + customers\n      metrics:\n        - name: revenue\n        - name: customer_count\n          alias: customers\n";
        let e = refused(extra);
        assert!(e.contains("metrics[2].type_params.metrics[1]"), "{e}");
        assert!(e.contains("mix"), "{e}");
    }

    #[test]
    fn a_derived_metric_is_its_expression_over_metrics() {
        let extra = "  - name: unpaid\n    type: derived\n    type_params:\n      expr: revenue - paid\n      metrics:\n        - name: revenue\n        - name: paid_revenue\n          alias: paid\n";
        let model = import_all(&files(extra)).expect("imports").model;
        let m = model.tables[0]
            .measures
            .iter()
            .find(|m| m.name == "unpaid")
            .expect("imported");
        assert_eq!(m.aggregation, Aggregation::None);
        assert_eq!(
            m.expr,
            "(SUM(Amount)) - (SUM(CASE WHEN (status = 'paid') THEN Amount END))"
        );
    }

    #[test]
    fn filters_read_time_dimensions_and_entities() {
        let extra = "  - name: recent\n    type: simple\n    type_params:\n      measure:\n        name: order_total\n        filter: \"{{ Entity('customer') }} IS NOT NULL\"\n    filter:\n      - \"{{ TimeDimension('order__ordered_at', 'day') }} >= '2024-01-01'\"\n";
        let model = import_all(&files(extra)).expect("imports").model;
        let m = model.tables[0]
            .measures
            .iter()
            .find(|m| m.name == "recent")
            .expect("imported");
        assert_eq!(
            m.expr,
            "CASE WHEN (OrderDate >= '2024-01-01') AND (CustomerId IS NOT NULL) THEN Amount END"
        );
        let bad = extra.replace("'day'", "'month'");
        let e = refused(&bad);
        assert!(e.contains("metrics[2].filter"), "{e}");
        assert!(e.contains("day grain"), "{e}");
    }

    #[test]
    fn a_filter_on_another_table_is_refused() {
        let extra = "  - name: german_revenue\n    type: simple\n    type_params:\n      measure: order_total\n    filter: \"{{ Dimension('customer__country') }} = 'Germany'\"\n";
        let e = refused(extra);
        assert!(e.contains("metrics[2].filter"), "{e}");
        assert!(e.contains("across tables"), "{e}");
    }

    #[test]
    fn an_unknown_measure_is_refused() {
        let extra = "  - name: x\n    type: simple\n    type_params:\n      measure: nope\n";
        let e = refused(extra);
        assert!(e.contains("metrics[2].type_params.measure"), "{e}");
        assert!(e.contains("\"nope\""), "{e}");
    }

    #[test]
    fn unsupported_semantic_model_shapes_are_refused_at_their_line() {
        let cases = [
            (
                "agg: count\n",
                "agg: percentile\n",
                "semantic_models[0].measures[1].agg",
            ),
            (
                "model: ref('Orders')",
                "model: Orders",
                "semantic_models[0].model",
            ),
            (
                "type: categorical\n",
                "type: geo\n",
                "semantic_models[0].dimensions[1].type",
            ),
            (
                "time_granularity: month",
                "time_granularity: fortnight",
                "semantic_models[0].dimensions[0].type_params.time_granularity",
            ),
            (
                "agg_time_dimension: ordered_at",
                "agg_time_dimension: shipped_at",
                "semantic_models[0].defaults.agg_time_dimension",
            ),
            (
                "        expr: CustomerId\n    dimensions",
                "        expr: CustomerId\n    dimensionz",
                "semantic_models[0]",
            ),
        ];
        for (from, to, key) in cases {
            let text = MODELS.replacen(from, to, 1);
            assert_ne!(text, MODELS, "{from}");
            let e = import_all(&[(text.clone(), Some(PathBuf::from("models.yml")))])
                .expect_err(to)
                .to_string();
            assert!(e.contains(key), "{to}: {e}");
            let needle = to.lines().last().unwrap_or(to).trim();
            assert!(
                e.contains(&format!("models.yml:{}", line_of(&text, needle))),
                "{to}: {e}"
            );
        }
    }
}
