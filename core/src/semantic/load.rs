//! Reading semantic-model files: YAML in the engine's own shape or dbt MetricFlow's, merged
//! into one [`SemanticModel`], with errors that name the file, the line and the key.

use std::path::{Path, PathBuf};

use super::model::SemanticModel;
use crate::error::{Error, Result};

/// The text of one model file, kept to place errors found after parsing (an unknown column is
/// found once the catalog is read).
#[derive(Debug, Clone)]
pub struct ModelSource {
    /// The file, when the model came from one.
    pub file: Option<PathBuf>,
    /// Its text.
    pub text: String,
    /// Whether it was a dbt MetricFlow file (its keys are not the engine's: errors name the
    /// engine's key and the dbt file).
    pub dbt: bool,
}

/// A model with the sources it was read from; [`Located::error`] turns a problem found at a key
/// path into a configuration error with file and line.
#[derive(Debug, Clone, Default)]
pub struct Located {
    /// The merged model.
    pub model: SemanticModel,
    /// Per table of `model.tables`, the index of the source it came from (likewise for
    /// relationships and verified queries), and its index within that source.
    pub(crate) origins: Origins,
    /// The files.
    pub sources: Vec<ModelSource>,
    /// Where each item imported from dbt was written.
    pub(crate) dbt_places: Vec<DbtPlace>,
}

/// An imported item's merged key path, its source and its dbt key path.
#[derive(Debug, Clone)]
pub(crate) struct DbtPlace {
    pub path: String,
    pub source: usize,
    pub dbt_path: String,
}

/// `tables[3].x` shifted by `by` under `prefix` → `tables[3+by].x`.
fn shift(path: &str, prefix: &str, by: usize) -> String {
    if let Some(rest) = path.strip_prefix(prefix)
        && let Some((n, tail)) = rest.split_once(']')
        && let Ok(n) = n.parse::<usize>()
    {
        return format!("{prefix}{}]{tail}", n + by);
    }
    path.to_string()
}

/// The line of `name: <name>` in a dbt file.
fn locate_dbt_name(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches("- ").trim();
            t.strip_prefix("name:")
                .is_some_and(|v| v.trim().trim_matches(|c| c == '"' || c == '\'') == name)
        })
        .map(|i| i + 1)
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    pub tables: Vec<(usize, usize)>,
    pub relationships: Vec<(usize, usize)>,
    pub verified_queries: Vec<(usize, usize)>,
}

/// Reads and merges the files of `[semantic] model`. dbt MetricFlow files are imported together
/// (a metric may use a measure of another file), after the engine's own files.
pub fn load_files(paths: &[PathBuf]) -> Result<Located> {
    let mut located = Located::default();
    let mut dbt = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            message: format!(
                "semantic model {}: cannot read it: {e}; check [semantic] model",
                path.display()
            ),
            key: Some("semantic.model".into()),
            file: Some(path.clone()),
            line: None,
        })?;
        if super::dbt::is_dbt(&text) {
            dbt.push((text, Some(path.clone())));
        } else {
            located.add(text, Some(path))?;
        }
    }
    if !dbt.is_empty() {
        located.add_dbt(dbt)?;
    }
    Ok(located)
}

/// Parses one model from YAML text (the engine's shape or dbt MetricFlow's). `file` names it in
/// errors.
pub fn parse(text: &str, file: Option<&Path>) -> Result<SemanticModel> {
    let mut located = Located::default();
    located.add(text.to_string(), file)?;
    Ok(located.model)
}

impl Located {
    /// Adds one file's model (a dbt MetricFlow file is imported on its own: see
    /// [`Located::add_dbt`] for several that refer to each other).
    pub fn add(&mut self, text: String, file: Option<&Path>) -> Result<()> {
        if super::dbt::is_dbt(&text) {
            return self.add_dbt(vec![(text, file.map(Path::to_path_buf))]);
        }
        let model = parse_native(&text, file)?;
        let source = self.sources.len();
        self.sources.push(ModelSource {
            file: file.map(Path::to_path_buf),
            text,
            dbt: false,
        });
        let n = model.tables.len();
        let r = model.relationships.len();
        let v = model.verified_queries.len();
        self.merge(
            model,
            &(0..n).map(|i| (source, i)).collect::<Vec<_>>(),
            &(0..r).map(|i| (source, i)).collect::<Vec<_>>(),
            &(0..v).map(|i| (source, i)).collect::<Vec<_>>(),
        )
        .inspect_err(|_| {
            self.sources.pop();
        })
    }

    /// Imports dbt MetricFlow files together (metrics may use the measures of another file's
    /// semantic models) and adds the result.
    pub fn add_dbt(&mut self, files: Vec<(String, Option<PathBuf>)>) -> Result<()> {
        let imported = super::dbt::import_all(&files)?;
        let base = self.sources.len();
        let table_base = self.model.tables.len();
        let rel_base = self.model.relationships.len();
        for (text, file) in files {
            self.sources.push(ModelSource {
                file,
                text,
                dbt: true,
            });
        }
        let tables: Vec<(usize, usize)> = imported
            .table_files
            .iter()
            .enumerate()
            .map(|(i, &f)| (base + f, i))
            .collect();
        let relationships: Vec<(usize, usize)> = imported
            .relationship_files
            .iter()
            .enumerate()
            .map(|(i, &f)| (base + f, i))
            .collect();
        let places = imported.places.iter().map(|p| DbtPlace {
            path: shift(
                &shift(&p.path, "tables[", table_base),
                "relationships[",
                rel_base,
            ),
            source: base + p.file,
            dbt_path: p.dbt_path.clone(),
        });
        let places: Vec<DbtPlace> = places.collect();
        match self.merge(imported.model, &tables, &relationships, &[]) {
            Ok(()) => {
                self.dbt_places.extend(places);
                Ok(())
            }
            Err(e) => {
                self.sources.truncate(base);
                Err(e)
            }
        }
    }

    fn merge(
        &mut self,
        model: SemanticModel,
        tables: &[(usize, usize)],
        relationships: &[(usize, usize)],
        verified: &[(usize, usize)],
    ) -> Result<()> {
        for (i, t) in model.tables.iter().enumerate() {
            if let Some(prev) = self.model.tables.iter().position(|p| p.name == t.name) {
                let (s, _) = self.origins.tables[prev];
                let other = self.sources[s]
                    .file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| "another model".into());
                let (src, local) = tables[i];
                let source = &self.sources[src];
                let key = if source.dbt {
                    "name".to_string()
                } else {
                    format!("tables[{local}].name")
                };
                let line = if source.dbt {
                    locate_dbt_name(&source.text, &t.name)
                } else {
                    locate_path(&source.text, &key)
                };
                return Err(config_error(
                    source.file.clone(),
                    line,
                    &key,
                    format!(
                        "the table {:?} is already described in {other}; give each logical table one description",
                        t.name
                    ),
                ));
            }
        }
        for (i, t) in model.tables.into_iter().enumerate() {
            self.origins.tables.push(tables[i]);
            self.model.tables.push(t);
        }
        for (i, r) in model.relationships.into_iter().enumerate() {
            self.origins.relationships.push(relationships[i]);
            self.model.relationships.push(r);
        }
        for (i, v) in model.verified_queries.into_iter().enumerate() {
            self.origins.verified_queries.push(verified[i]);
            self.model.verified_queries.push(v);
        }
        self.model.business_rules.extend(model.business_rules);
        if self.model.name.is_empty() {
            self.model.name = model.name;
        }
        if !model.description.is_empty() {
            if !self.model.description.is_empty() {
                self.model.description.push('\n');
            }
            self.model.description.push_str(&model.description);
        }
        Ok(())
    }

    /// A configuration error about the item at `path` of the merged model (`tables[3].measures[0].expr`),
    /// placed at its file and line.
    pub fn error(&self, path: &str, message: String) -> Error {
        let (source, local) = self.localize(path);
        match source.and_then(|s| self.sources.get(s)) {
            Some(src) if src.dbt => {
                // The deepest imported item the path is in: its dbt key and line.
                let place = self
                    .dbt_places
                    .iter()
                    .filter(|p| {
                        path.strip_prefix(p.path.as_str())
                            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
                    })
                    .max_by_key(|p| p.path.len());
                match place {
                    Some(p) => {
                        let src = &self.sources[p.source];
                        config_error(
                            src.file.clone(),
                            locate_path(&src.text, &p.dbt_path),
                            &p.dbt_path,
                            format!("(imported as `{path}`) {message}"),
                        )
                    }
                    None => config_error(src.file.clone(), None, path, message),
                }
            }
            Some(src) => {
                let line = locate_path(&src.text, &local);
                config_error(src.file.clone(), line, &local, message)
            }
            None => config_error(None, None, path, message),
        }
    }

    /// Maps a merged path's first index to its source and the index within that source.
    fn localize(&self, path: &str) -> (Option<usize>, String) {
        let segments = [
            ("tables[", &self.origins.tables),
            ("relationships[", &self.origins.relationships),
            ("verified_queries[", &self.origins.verified_queries),
        ];
        for (prefix, origins) in segments {
            if let Some(rest) = path.strip_prefix(prefix)
                && let Some((n, tail)) = rest.split_once(']')
                && let Ok(n) = n.parse::<usize>()
                && let Some(&(s, local)) = origins.get(n)
            {
                return (Some(s), format!("{prefix}{local}]{tail}"));
            }
        }
        (
            if self.sources.len() == 1 {
                Some(0)
            } else {
                None
            },
            path.to_string(),
        )
    }
}

fn parse_native(text: &str, file: Option<&Path>) -> Result<SemanticModel> {
    parse_yaml(text, file, "; see docs/semantic-model.md for the keys")
}

/// Deserializes YAML `text` (empty text is the default value); an error names the file, the
/// line and the key, followed by `hint`.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned + Default>(
    text: &str,
    file: Option<&Path>,
    hint: &str,
) -> Result<T> {
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = inner
            .location()
            .map(|l| l.line())
            .or_else(|| locate_path(text, &path));
        let message = inner.to_string();
        // serde_yaml_ng appends " at line N column M": the place is said once, in front.
        let message = match message.find(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        config_error(
            file.map(Path::to_path_buf),
            line,
            if path == "." { "" } else { &path },
            format!("{message}{hint}"),
        )
    })
}

/// A configuration error placed at `file:line`, naming the model key.
pub(crate) fn config_error(
    file: Option<PathBuf>,
    line: Option<usize>,
    key: &str,
    message: String,
) -> Error {
    let place = match (&file, line) {
        (Some(f), Some(l)) => format!("{}:{l}: ", f.display()),
        (Some(f), None) => format!("{}: ", f.display()),
        (None, Some(l)) => format!("line {l}: "),
        (None, None) => String::new(),
    };
    let shown = if key.is_empty() {
        String::new()
    } else {
        format!("key `{key}`: ")
    };
    Error::Config {
        message: format!("semantic model {place}{shown}{message}"),
        key: Some(if key.is_empty() {
            "semantic.model".to_string()
        } else {
            format!("semantic.model.{key}")
        }),
        file,
        line,
    }
}

/// One step of a key path.
#[derive(Debug, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

fn steps(path: &str) -> Vec<Step<'_>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !name.is_empty() {
            out.push(Step::Key(name));
        }
        while let Some(r) = rest.strip_prefix('[') {
            let Some((n, tail)) = r.split_once(']') else {
                break;
            };
            if let Ok(n) = n.parse() {
                out.push(Step::Index(n));
            }
            rest = tail;
        }
    }
    out
}

/// The 1-based line of the node at `path` (`tables[1].measures[0].expr`) in block-style YAML,
/// or of the deepest ancestor found.
pub(crate) fn locate_path(text: &str, path: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let meaningful = |l: &str| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && t != "---"
    };
    // The node's lines are (start, end); its children are the lines more indented than
    // `parent_indent` (or, for a list item, the item's own content column).
    let (mut start, mut end) = (0usize, lines.len());
    let mut parent_indent: isize = -1;
    let mut found = None;
    for step in steps(path) {
        match step {
            Step::Key(key) => {
                let mut hit = None;
                let mut child_indent = None;
                for (n, line) in lines.iter().enumerate().take(end).skip(start) {
                    if !meaningful(line) {
                        continue;
                    }
                    // A list item's first key shares the dash's line.
                    let (col, body) = match line.trim_start().strip_prefix("- ") {
                        Some(b) if n == start => (indent(line) + 2, b.trim_start()),
                        _ => (indent(line), line.trim_start()),
                    };
                    if (col as isize) <= parent_indent {
                        break;
                    }
                    let ci = *child_indent.get_or_insert(col);
                    if col != ci {
                        continue;
                    }
                    let name = body.split(':').next().unwrap_or("").trim();
                    let name = name.trim_matches(|c| c == '"' || c == '\'');
                    if name == key && body.contains(':') {
                        hit = Some((n, col));
                        break;
                    }
                }
                let (n, col) = hit?;
                found = Some(n + 1);
                // The value's lines: until the next line at or left of the key's column.
                let stop = lines
                    .iter()
                    .enumerate()
                    .skip(n + 1)
                    .take(end.saturating_sub(n + 1))
                    .find(|(_, l)| meaningful(l) && indent(l) <= col)
                    .map_or(end, |(i, _)| i);
                start = n + 1;
                end = stop;
                parent_indent = col as isize;
                // Inline value lists (`- a`) under a key sit at the key's column in YAML;
                // allow them as children.
                if lines
                    .get(start..end)
                    .into_iter()
                    .flatten()
                    .find(|l| meaningful(l))
                    .is_some_and(|l| indent(l) == col && l.trim_start().starts_with("- "))
                {
                    parent_indent = col as isize - 1;
                }
            }
            Step::Index(want) => {
                let mut seen = 0usize;
                let mut hit = None;
                let mut item_indent = None;
                for (n, line) in lines.iter().enumerate().take(end).skip(start) {
                    if !meaningful(line) {
                        continue;
                    }
                    let col = indent(line);
                    if (col as isize) <= parent_indent {
                        break;
                    }
                    if !line.trim_start().starts_with('-') {
                        continue;
                    }
                    let ii = *item_indent.get_or_insert(col);
                    if col != ii {
                        continue;
                    }
                    if seen == want {
                        hit = Some((n, col));
                        break;
                    }
                    seen += 1;
                }
                let (n, col) = hit?;
                found = Some(n + 1);
                let stop = lines
                    .iter()
                    .enumerate()
                    .skip(n + 1)
                    .take(end.saturating_sub(n + 1))
                    .find(|(_, l)| meaningful(l) && indent(l) <= col)
                    .map_or(end, |(i, _)| i);
                start = n;
                end = stop;
                parent_indent = col as isize;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: shop
tables:
  - name: customers
    table: Customer
    dimensions:
      - name: country
        expr: Country
  - name: invoices
    table: Invoice
    measures:
      - name: revenue
        expr: Total
        synonyms: [sales]
      - name: orders
        expr: InvoiceId
        aggregation: count
";

    #[test]
    fn paths_are_placed_on_their_lines() {
        assert_eq!(locate_path(TEXT, "name"), Some(1));
        assert_eq!(locate_path(TEXT, "tables[0].name"), Some(3));
        assert_eq!(locate_path(TEXT, "tables[0].dimensions[0].expr"), Some(7));
        assert_eq!(locate_path(TEXT, "tables[1].table"), Some(9));
        assert_eq!(
            locate_path(TEXT, "tables[1].measures[1].aggregation"),
            Some(16)
        );
        assert_eq!(locate_path(TEXT, "tables[1].measures[0]"), Some(11));
        assert_eq!(locate_path(TEXT, "tables[2]"), None);
    }

    #[test]
    fn a_wrong_key_names_file_line_and_key() {
        let bad = TEXT.replace("aggregation: count", "agregation: count");
        let err = parse(&bad, Some(Path::new("shop.yaml"))).expect_err("a misspelt key");
        let text = err.to_string();
        assert!(text.contains("shop.yaml:16"), "{text}");
        assert!(text.contains("tables[1].measures[1]"), "{text}");
        assert!(text.contains("agregation"), "{text}");
    }

    #[test]
    fn the_native_shape_parses() {
        let model = parse(TEXT, None).expect("the text parses");
        assert_eq!(model.tables.len(), 2);
        assert_eq!(
            model.tables[1].measures[1].aggregation,
            super::super::Aggregation::Count
        );
        assert_eq!(model.tables[1].physical(), "Invoice");
    }
}
