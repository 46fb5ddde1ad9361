//! Roles compiled against a catalog (checked at start), and the policy bound for one principal:
//! the tables in scope, the columns denied, and for each filtered or masked table the derived
//! table that replaces it in every statement (see `sql::enforce`).

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Write as _,
    sync::{Arc, Mutex},
};

use sqlparser::{
    ast::{Ident, ObjectName, ObjectNamePart, Query, SetExpr, VisitMut},
    tokenizer::Token,
};

use super::Principal;
use crate::{
    catalog::{AccessPolicy, Catalog, Table},
    config::{Config, RolePolicy},
    dialect::Dialect,
    error::{Error, Result},
    sql::{Validator, ValidatorOptions, quote},
    values::ValueIndex,
};

/// Checks that an attribute's value is one a row filter can bind: a string, a number, a
/// boolean, or a list of those.
pub(crate) fn check_attribute(name: &str, value: &serde_json::Value) -> Result<(), String> {
    use serde_json::Value;
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    match value {
        v if scalar(v) => Ok(()),
        Value::Array(items) if items.iter().all(scalar) => Ok(()),
        _ => Err(format!(
            "attribute `{name}` must be a string, a number, a boolean or a list of them"
        )),
    }
}

/// How a role lets a column be seen, from the least to the clearest.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    Deny,
    Null,
    Text(String),
    Hash,
    Full,
}

impl Rule {
    fn parse(text: &str) -> Result<Self, String> {
        match text {
            "deny" => Ok(Self::Deny),
            "null" => Ok(Self::Null),
            "hash" => Ok(Self::Hash),
            "full" => Ok(Self::Full),
            t if t.starts_with("text:") => Ok(Self::Text(t["text:".len()..].to_string())),
            other => Err(format!(
                "{other:?} is not a column rule; use \"deny\", \"null\", \"hash\", \"text:<shown text>\" or \"full\""
            )),
        }
    }

    fn clarity(&self) -> u8 {
        match self {
            Self::Deny => 0,
            Self::Null => 1,
            Self::Text(_) => 2,
            Self::Hash => 3,
            Self::Full => 4,
        }
    }
}

/// A placeholder of a row filter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Placeholder {
    Id,
    Tenant,
    Attribute(String),
}

impl Placeholder {
    fn parse(name: &str) -> Result<Self, String> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        match name {
            "id" => Ok(Self::Id),
            "tenant" => Ok(Self::Tenant),
            n if valid => Ok(Self::Attribute(n.to_string())),
            n => Err(format!(
                "`{{user.{n}}}` is not a placeholder; write {{user.id}}, {{user.tenant}} or {{user.<attribute>}} with a name of letters, digits and _"
            )),
        }
    }

    fn value(&self, principal: &Principal) -> Option<serde_json::Value> {
        match self {
            Self::Id => principal.user_id.clone().map(serde_json::Value::String),
            Self::Tenant => Some(serde_json::Value::String(
                principal
                    .tenant_id
                    .clone()
                    .unwrap_or_else(|| crate::engine::DEFAULT_TENANT.to_string()),
            )),
            Self::Attribute(name) => principal.attributes.get(name).cloned(),
        }
    }
}

/// The marker string literal that stands for placeholder `n` while a filter is parsed.
fn marker(n: usize) -> String {
    format!("cbi\u{1}{n}")
}

/// A row filter as checked at start: its text with every table qualified (so that no CTE of a
/// statement can stand in for one) and each placeholder written as a marker literal.
#[derive(Debug, Clone)]
struct Filter {
    text: String,
    placeholders: Vec<Placeholder>,
}

impl Filter {
    /// The filter with its placeholders bound from `principal` as literals, checked token by
    /// token: each literal must read as exactly the value bound. `None` when the principal lacks
    /// a value (the filter then lets no row be seen).
    fn bind(&self, dialect: Dialect, principal: &Principal) -> Result<Option<String>> {
        let mut text = self.text.clone();
        let mut expected_values = Vec::with_capacity(self.placeholders.len());
        for (n, placeholder) in self.placeholders.iter().enumerate() {
            let Some(value) = placeholder.value(principal) else {
                return Ok(None);
            };
            let written = quote::string_literal(dialect, &marker(n));
            let (literal, tokens) = literal_of(dialect, &value).ok_or_else(|| {
                Error::InvalidInput {
                    message: format!(
                        "user: the value of {placeholder:?} cannot be used in a row filter; attributes are strings, numbers, booleans or lists of them"
                    ),
                }
            })?;
            text = text.replacen(&written, &literal, 1);
            expected_values.push(tokens);
        }
        let template = significant(dialect, &self.text)
            .ok_or_else(|| Error::internal("a row filter checked at start no longer tokenizes"))?;
        let mut expected = Vec::with_capacity(template.len());
        for token in template {
            match &token {
                Token::SingleQuotedString(s) => {
                    match (0..self.placeholders.len()).find(|&n| *s == marker(n)) {
                        Some(n) => expected.extend(expected_values[n].iter().cloned()),
                        None => expected.push(token),
                    }
                }
                _ => expected.push(token),
            }
        }
        if significant(dialect, &text).is_none_or(|bound| bound != expected) {
            return Err(Error::InvalidInput {
                message: "user: an attribute's value cannot be written as a literal that the database reads as that value; \
                          ask an administrator to check the attributes of this user"
                    .into(),
            });
        }
        Ok(Some(text))
    }
}

/// The tokens of `text` without whitespace.
fn significant(dialect: Dialect, text: &str) -> Option<Vec<Token>> {
    let tokens = crate::sql::tokens_of(dialect, text)?;
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_) | Token::EOF))
            .collect(),
    )
}

/// `value` written as SQL literals of `dialect` (a list as items separated by commas), with the
/// tokens it must read as.
fn literal_of(dialect: Dialect, value: &serde_json::Value) -> Option<(String, Vec<Token>)> {
    use serde_json::Value as J;
    let scalar = |v: &J| -> Option<(String, Vec<Token>)> {
        match v {
            J::String(s) => Some((
                quote::string_literal(dialect, s),
                vec![Token::SingleQuotedString(s.clone())],
            )),
            J::Bool(b) => {
                let word = if *b { "TRUE" } else { "FALSE" };
                Some((word.to_string(), vec![Token::make_keyword(word)]))
            }
            J::Number(n) => {
                let text = n.to_string();
                let digits = text.strip_prefix('-').unwrap_or(&text).to_string();
                if digits.is_empty()
                    || !digits
                        .chars()
                        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
                {
                    return None;
                }
                let number = Token::Number(digits, false);
                let tokens = if text.starts_with('-') {
                    vec![Token::Minus, number]
                } else {
                    vec![number]
                };
                Some((text, tokens))
            }
            _ => None,
        }
    };
    match value {
        J::Array(items) if items.is_empty() => {
            Some(("NULL".into(), vec![Token::make_keyword("NULL")]))
        }
        J::Array(items) => {
            let mut text = String::new();
            let mut tokens = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let (t, toks) = scalar(item)?;
                if i > 0 {
                    text.push_str(", ");
                    tokens.push(Token::Comma);
                }
                text.push_str(&t);
                tokens.extend(toks);
            }
            Some((text, tokens))
        }
        v => scalar(v),
    }
}

/// One role compiled against the catalog (tables by their index in it).
#[derive(Debug)]
struct Role {
    /// `None`: every table.
    tables: Option<Vec<usize>>,
    filters: HashMap<usize, Filter>,
    columns: HashMap<(usize, usize), Rule>,
}

/// The roles of `[access]` compiled against one catalog, with the policies bound so far.
pub(crate) struct Roles {
    catalog: Arc<Catalog>,
    global: AccessPolicy,
    max_rows: usize,
    default_roles: Vec<String>,
    roles: BTreeMap<String, Role>,
    mask_key: String,
    bound: Mutex<HashMap<String, Arc<BoundPolicy>>>,
}

impl std::fmt::Debug for Roles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Roles")
            .field("roles", &self.roles.keys().collect::<Vec<_>>())
            .field("default_roles", &self.default_roles)
            .field("mask_key", &"***")
            .finish()
    }
}

/// Policies bound at most, before the cache starts over.
const MAX_BOUND: usize = 4096;

impl Roles {
    /// Compiles `[access]` against `catalog`; `None` when no role is configured. Every table,
    /// column and row filter is checked: a mistake is a configuration error naming its key
    /// (with the file and line when the configuration came from a file).
    pub(crate) fn compile(config: &Config, catalog: Arc<Catalog>) -> Result<Option<Self>> {
        let access = &config.access;
        if !access.is_enabled() {
            return Ok(None);
        }
        let dialect = catalog.dialect;
        let validator = Validator::new(
            catalog.clone(),
            ValidatorOptions {
                max_rows: config.database.max_rows.max(1),
                ..ValidatorOptions::default()
            },
        );
        let bad = |key: String, message: String| config.error_at(&key, message);
        let mut roles = BTreeMap::new();
        for (name, policy) in &access.roles {
            roles.insert(
                name.clone(),
                compile_role(name, policy, &catalog, dialect, &validator, &bad)?,
            );
        }
        for (i, role) in access.default_roles.iter().enumerate() {
            if !roles.contains_key(role) {
                return Err(bad(
                    format!("access.default_roles[{i}]"),
                    format!(
                        "role {role:?} is not defined; define [access.roles.{role}] or use one of: {}",
                        roles.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        let mask_key = match &access.mask_key {
            Some(k) => k.expose().to_string(),
            None => uuid::Uuid::new_v4().simple().to_string(),
        };
        Ok(Some(Self {
            catalog,
            global: AccessPolicy {
                allowed_tables: config.database.allowed_tables.clone(),
                denied_columns: config.database.denied_columns.clone(),
            },
            max_rows: config.database.max_rows,
            default_roles: access.default_roles.clone(),
            roles,
            mask_key,
            bound: Mutex::new(HashMap::new()),
        }))
    }

    /// The policy of `principal` (bound once per distinct principal and kept).
    pub(crate) fn bind(&self, principal: &Principal) -> Result<Arc<BoundPolicy>> {
        let mut names: Vec<&str> = principal
            .roles
            .iter()
            .map(String::as_str)
            .chain(self.default_roles.iter().map(String::as_str))
            .filter(|r| self.roles.contains_key(*r))
            .collect();
        names.sort_unstable();
        names.dedup();
        let key = serde_json::json!([
            names,
            principal.user_id,
            principal.tenant_id,
            principal.attributes
        ])
        .to_string();
        if let Some(p) = self.bound.lock().ok().and_then(|b| b.get(&key).cloned()) {
            return Ok(p);
        }
        let policy = Arc::new(self.bind_roles(&names, principal, key.clone())?);
        if let Ok(mut bound) = self.bound.lock() {
            if bound.len() >= MAX_BOUND {
                bound.clear();
            }
            bound.insert(key, policy.clone());
        }
        Ok(policy)
    }

    fn bind_roles(
        &self,
        names: &[&str],
        principal: &Principal,
        key: String,
    ) -> Result<BoundPolicy> {
        let catalog = &self.catalog;
        let dialect = catalog.dialect;
        let roles: Vec<&Role> = names.iter().filter_map(|n| self.roles.get(*n)).collect();
        if roles.is_empty() {
            return Err(Error::InvalidInput {
                message: format!(
                    "you have no data role, so no table may be read; ask an administrator to give you one of: {}",
                    self.roles.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
        let mut allowed = Vec::new();
        let mut denied: Vec<String> = self.global.denied_columns.clone();
        let mut masked = Vec::new();
        let mut derived = HashMap::new();
        for (t, table) in catalog.tables.iter().enumerate() {
            if !self.global.allows_table(table) {
                continue;
            }
            let granting: Vec<&Role> = roles
                .iter()
                .copied()
                .filter(|r| r.tables.as_ref().is_none_or(|ts| ts.contains(&t)))
                .collect();
            if granting.is_empty() {
                continue;
            }
            allowed.push(table.qualified_name());
            // Each granting role: the condition on its rows (`None`: every row) and its rules.
            let mut grants: Vec<(Option<String>, &Role)> = Vec::new();
            for role in &granting {
                match role.filters.get(&t) {
                    None => grants.push((None, role)),
                    Some(filter) => {
                        if let Some(text) = filter.bind(dialect, principal)? {
                            grants.push((Some(text), role));
                        }
                        // A filter that names an attribute the principal lacks lets no row be
                        // seen through this role.
                    }
                }
            }
            let mut columns = Vec::new();
            let mut rewrite = grants.is_empty() || grants.iter().all(|(c, _)| c.is_some());
            for (c, column) in table.columns.iter().enumerate() {
                if self.global.denies_column(table, &column.name) {
                    continue;
                }
                let rules: Vec<(&Option<String>, Rule)> = grants
                    .iter()
                    .map(|(cond, role)| {
                        (
                            cond,
                            role.columns.get(&(t, c)).cloned().unwrap_or(Rule::Full),
                        )
                    })
                    .collect();
                let best = rules.iter().map(|(_, r)| r.clarity()).max();
                let all_roles_deny = granting
                    .iter()
                    .all(|role| role.columns.get(&(t, c)) == Some(&Rule::Deny));
                if all_roles_deny || best == Some(0) && !grants.is_empty() {
                    // The validator refuses every read of a denied column (by name, `*`,
                    // NATURAL or USING): denial alone needs no derived table.
                    denied.push(format!("{}.{}", table.qualified_name(), column.name));
                    continue;
                }
                let expr = self.cell(dialect, &column.name, &column.data_type, rules);
                if expr.is_some() {
                    masked.push(format!("{}.{}", table.qualified_name(), column.name));
                    rewrite = true;
                }
                columns.push((column.name.as_str(), expr));
            }
            if !rewrite {
                continue;
            }
            let cond = if grants.is_empty() {
                Some("1 = 0".to_string())
            } else if grants.iter().any(|(c, _)| c.is_none()) {
                None
            } else {
                Some(
                    grants
                        .iter()
                        .filter_map(|(c, _)| c.as_deref())
                        .map(|c| format!("({c})"))
                        .collect::<Vec<_>>()
                        .join(" OR "),
                )
            };
            // Every column as stored: the derived table reads them all with `*`.
            let whole =
                columns.len() == table.columns.len() && columns.iter().all(|(_, e)| e.is_none());
            let text = derived_text(dialect, catalog, table, &columns, whole, cond.as_deref());
            let tree = crate::sql::parse_query(dialect, &text).map_err(|e| {
                Error::internal(format!(
                    "the data policy of table {} does not parse: {e}",
                    table.qualified_name()
                ))
            })?;
            derived.insert(
                std::ptr::from_ref(table) as usize,
                Arc::new(Derived { text, tree }),
            );
        }
        if allowed.is_empty() {
            return Err(Error::InvalidInput {
                message: format!(
                    "your roles ({}) grant no table that may be read; ask an administrator",
                    names.join(", ")
                ),
            });
        }
        let visible_policy = AccessPolicy {
            allowed_tables: allowed.clone(),
            denied_columns: denied.clone(),
        };
        let visible = Arc::new(catalog.visible_to(&visible_policy));
        let mut known_policy = visible_policy;
        known_policy.denied_columns.extend(masked);
        let knowledge = Arc::new(catalog.visible_to(&known_policy));
        Ok(BoundPolicy {
            key,
            options: ValidatorOptions {
                max_rows: self.max_rows,
                allowed_tables: allowed,
                denied_columns: denied,
            },
            visible,
            knowledge,
            derived,
            values: Arc::default(),
            semantic: std::sync::OnceLock::new(),
            rewritten: Mutex::default(),
        })
    }

    /// The expression of a cell under `rules` (one per granting role with its row condition);
    /// `None` when the column is shown in full to every row that may be seen.
    fn cell(
        &self,
        dialect: Dialect,
        column: &str,
        data_type: &str,
        mut rules: Vec<(&Option<String>, Rule)>,
    ) -> Option<String> {
        rules.sort_by_key(|(_, r)| std::cmp::Reverse(r.clarity()));
        let best = rules.first()?.1.clone();
        let unconditional_best = rules
            .iter()
            .any(|(c, r)| c.is_none() && r.clarity() == best.clarity());
        let same = rules.iter().all(|(_, r)| *r == best);
        if best == Rule::Full && (unconditional_best || same) {
            return None;
        }
        if unconditional_best || same {
            return Some(self.form(dialect, column, data_type, &best));
        }
        let mut out = String::from("CASE");
        let mut fallback = None;
        for (cond, rule) in &rules {
            match cond {
                Some(c) => {
                    let _ = write!(
                        out,
                        " WHEN ({c}) THEN {}",
                        self.form(dialect, column, data_type, rule)
                    );
                }
                None => {
                    fallback = Some(self.form(dialect, column, data_type, rule));
                    break;
                }
            }
        }
        let _ = write!(
            out,
            " ELSE {} END",
            fallback.unwrap_or_else(|| "NULL".into())
        );
        Some(out)
    }

    fn form(&self, dialect: Dialect, column: &str, data_type: &str, rule: &Rule) -> String {
        let col = quote::identifier(dialect, column);
        let key = quote::string_literal(dialect, &self.mask_key);
        match rule {
            Rule::Full => col,
            Rule::Deny | Rule::Null => match dialect {
                Dialect::Postgres if simple_type(data_type) => {
                    format!("CAST(NULL AS {data_type})")
                }
                _ => "NULL".into(),
            },
            Rule::Text(t) => quote::string_literal(dialect, t),
            Rule::Hash => match dialect {
                Dialect::Postgres => format!("md5({key} || CAST({col} AS text))"),
                Dialect::Mysql => format!("MD5(CONCAT({key}, {col}))"),
                Dialect::Sqlite => format!("{}({key}, {col})", crate::exec::SQLITE_MASK_HASH),
            },
        }
    }
}

/// A PostgreSQL type name that `CAST(NULL AS ...)` takes as written: words and an optional
/// precision.
fn simple_type(t: &str) -> bool {
    let (name, rest) = t.split_once('(').unwrap_or((t, ""));
    !name.trim().is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '_')
        && rest
            .trim_end_matches(')')
            .chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == ' ')
}

/// `SELECT <columns> FROM <qualified table> [WHERE <cond>]`.
fn derived_text(
    dialect: Dialect,
    catalog: &Catalog,
    table: &Table,
    columns: &[(&str, Option<String>)],
    whole: bool,
    cond: Option<&str>,
) -> String {
    let mut out = String::from("SELECT ");
    if whole {
        out.push('*');
    }
    let columns = if whole { &[][..] } else { columns };
    for (i, (name, expr)) in columns.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        match expr {
            None => out.push_str(&quote::identifier(dialect, name)),
            Some(e) => {
                let _ = write!(out, "{e} AS {}", quote::identifier(dialect, name));
            }
        }
    }
    if columns.is_empty() && !whole {
        out.push_str("NULL AS ");
        out.push_str(&quote::identifier(dialect, "_"));
    }
    out.push_str(" FROM ");
    out.push_str(&qualified(dialect, catalog, table));
    if let Some(c) = cond {
        out.push_str(" WHERE ");
        out.push_str(c);
    }
    // An optimization fence: the database must compute the derived table before it applies
    // anything of the statement around it. Merged into the statement, a condition of the
    // asker's could run on rows the policy hides and reveal them by an error (division by
    // zero, a failed cast) or its cost. A subquery with OFFSET (PostgreSQL, SQLite) or LIMIT
    // (MariaDB, MySQL) is neither flattened nor given the outer conditions.
    out.push_str(match dialect {
        Dialect::Postgres => " OFFSET 0",
        Dialect::Sqlite => " LIMIT -1 OFFSET 0",
        Dialect::Mysql => " LIMIT 18446744073709551615",
    });
    out
}

/// The table's name qualified so that no CTE can stand in for it: the schema on PostgreSQL,
/// the database on MySQL, `main` on SQLite.
fn qualified(dialect: Dialect, catalog: &Catalog, table: &Table) -> String {
    format!(
        "{}.{}",
        quote::identifier(dialect, &owner(dialect, catalog, table)),
        quote::identifier(dialect, &table.name)
    )
}

/// What qualifies `table`'s name: its schema on PostgreSQL, the database on MySQL, `main` on
/// SQLite.
fn owner(dialect: Dialect, catalog: &Catalog, table: &Table) -> String {
    match dialect {
        Dialect::Postgres => table.schema.clone().unwrap_or_else(|| "public".into()),
        Dialect::Mysql => catalog.database.clone(),
        Dialect::Sqlite => "main".into(),
    }
}

/// The index of the table `name` (as `allowed_tables` names tables), or what to write instead.
fn find_table(catalog: &Catalog, name: &str) -> Result<usize, String> {
    catalog
        .tables
        .iter()
        .position(|t| {
            t.name.eq_ignore_ascii_case(name) || t.qualified_name().eq_ignore_ascii_case(name)
        })
        .ok_or_else(|| {
            let names: Vec<&str> = catalog.tables.iter().map(|t| t.name.as_str()).collect();
            format!(
                "there is no table {name:?}; the tables are: {}",
                names.join(", ")
            )
        })
}

fn compile_role(
    name: &str,
    policy: &RolePolicy,
    catalog: &Catalog,
    dialect: Dialect,
    validator: &Validator,
    bad: &dyn Fn(String, String) -> Error,
) -> Result<Role> {
    let prefix = format!("access.roles.{name}");
    let tables = if policy.tables.iter().any(|t| t == "*") {
        None
    } else {
        let mut out = Vec::new();
        for (i, t) in policy.tables.iter().enumerate() {
            out.push(find_table(catalog, t).map_err(|m| bad(format!("{prefix}.tables[{i}]"), m))?);
        }
        Some(out)
    };
    let mut columns = HashMap::new();
    for (key, rule) in &policy.columns {
        let here = format!("{prefix}.columns.{key:?}");
        let rule = Rule::parse(rule).map_err(|m| bad(here.clone(), m))?;
        let Some((t, c)) = key.rsplit_once('.') else {
            return Err(bad(
                here,
                format!("{key:?} is not of the form \"Table.Column\""),
            ));
        };
        let ti = find_table(catalog, t).map_err(|m| bad(here.clone(), m))?;
        let table = &catalog.tables[ti];
        let Some(ci) = table
            .columns
            .iter()
            .position(|col| col.name.eq_ignore_ascii_case(c))
        else {
            return Err(bad(
                here,
                format!(
                    "table {} has no column {c:?}; its columns are: {}",
                    table.name,
                    table
                        .columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        columns.insert((ti, ci), rule);
    }
    let mut filters = HashMap::new();
    for (t, text) in &policy.row_filters {
        let here = format!("{prefix}.row_filters.{t}");
        let ti = find_table(catalog, t).map_err(|m| bad(here.clone(), m))?;
        let filter = compile_filter(text, catalog, ti, dialect, validator)
            .map_err(|m| bad(here.clone(), m))?;
        filters.insert(ti, filter);
    }
    Ok(Role {
        tables,
        filters,
        columns,
    })
}

/// Checks a row filter against the catalog and the validator, and writes it with every table
/// qualified and each placeholder as a marker literal.
fn compile_filter(
    text: &str,
    catalog: &Catalog,
    table: usize,
    dialect: Dialect,
    validator: &Validator,
) -> Result<Filter, String> {
    // Placeholders become marker literals.
    let mut placeholders = Vec::new();
    let mut marked = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('{') {
        marked.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(end) = after.find('}') else {
            return Err(
                "a `{` opens a placeholder that is not closed; write {user.<attribute>}".into(),
            );
        };
        let inner = &after[1..end];
        let Some(name) = inner.strip_prefix("user.") else {
            return Err(format!(
                "`{{{inner}}}` is not a placeholder; write {{user.id}}, {{user.tenant}} or {{user.<attribute>}}"
            ));
        };
        let placeholder = Placeholder::parse(name)?;
        marked.push_str(&quote::string_literal(dialect, &marker(placeholders.len())));
        placeholders.push(placeholder);
        rest = &after[end + 1..];
    }
    marked.push_str(rest);
    let own = &catalog.tables[table];
    let check = format!(
        "SELECT 1 FROM {} WHERE {marked}",
        qualified(dialect, catalog, own)
    );
    validator.validate(&check).map_err(|e| match e {
        Error::SqlRejected { reason, .. } => {
            format!("the row filter {text:?} is refused: {reason}")
        }
        other => format!("the row filter {text:?} is refused: {other}"),
    })?;
    let mut query = crate::sql::parse_query(dialect, &check)
        .map_err(|e| format!("the row filter {text:?} does not parse: {e}"))?;
    let SetExpr::Select(select) = query.body.as_mut() else {
        return Err(format!("the row filter {text:?} is not a predicate"));
    };
    let Some(mut predicate) = select.selection.take() else {
        return Err(format!("the row filter {text:?} is empty"));
    };
    if select.from.len() != 1 || !select.from[0].joins.is_empty() {
        return Err(format!(
            "the row filter {text:?} is not one predicate; write a condition over the table's columns"
        ));
    }
    // Every table a subquery of the filter reads is written qualified.
    let mut failure = None;
    let _ = predicate.visit(&mut Qualify {
        dialect,
        catalog,
        failure: &mut failure,
    });
    if let Some(f) = failure {
        return Err(format!("the row filter {text:?}: {f}"));
    }
    Ok(Filter {
        text: predicate.to_string(),
        placeholders,
    })
}

struct Qualify<'c> {
    dialect: Dialect,
    catalog: &'c Catalog,
    failure: &'c mut Option<String>,
}

impl sqlparser::ast::VisitorMut for Qualify<'_> {
    type Break = ();

    fn pre_visit_query(&mut self, query: &mut Query) -> std::ops::ControlFlow<()> {
        if query.with.is_some() {
            *self.failure = Some("a row filter cannot define CTEs; use subqueries".into());
            return std::ops::ControlFlow::Break(());
        }
        std::ops::ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &mut ObjectName) -> std::ops::ControlFlow<()> {
        let idents: Vec<&Ident> = relation
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(i) => Some(i),
                _ => None,
            })
            .collect();
        let Some(last) = idents.last() else {
            return std::ops::ControlFlow::Continue(());
        };
        let schema = (idents.len() >= 2).then(|| idents[idents.len() - 2].value.clone());
        let Some(table) =
            self.catalog
                .find_table(schema.as_deref(), &last.value, last.quote_style.is_some())
        else {
            *self.failure = Some(format!("there is no table {relation}"));
            return std::ops::ControlFlow::Break(());
        };
        let q = crate::sql::quote::identifier_quote(self.dialect);
        *relation = ObjectName(vec![
            ObjectNamePart::Identifier(Ident::with_quote(
                q,
                owner(self.dialect, self.catalog, table),
            )),
            ObjectNamePart::Identifier(Ident::with_quote(q, table.name.clone())),
        ]);
        std::ops::ControlFlow::Continue(())
    }
}

/// The policy of one principal on one catalog.
pub(crate) struct BoundPolicy {
    key: String,
    options: ValidatorOptions,
    visible: Arc<Catalog>,
    knowledge: Arc<Catalog>,
    /// By the address of the catalog table.
    derived: HashMap<usize, Arc<Derived>>,
    values: Arc<tokio::sync::OnceCell<Arc<ValueIndex>>>,
    /// The semantic model as this principal sees it (restricted on first use).
    semantic: std::sync::OnceLock<Option<crate::semantic::Semantic>>,
    /// Statements already rewritten under this policy: the checked text sent → the rewritten
    /// text (each was round-tripped when it was written).
    rewritten: Mutex<HashMap<String, Arc<str>>>,
}

/// Rewritten statements kept per policy, before the map starts over.
const MAX_REWRITTEN: usize = 1024;

impl std::fmt::Debug for BoundPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BoundPolicy")
            .field("allowed_tables", &self.options.allowed_tables)
            .field("denied_columns", &self.options.denied_columns)
            .field("rewritten_tables", &self.derived.len())
            .finish()
    }
}

impl BoundPolicy {
    /// What identifies this policy: the principal's data roles, identity and attributes.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The validator's options under this policy.
    pub(crate) fn options(&self) -> &ValidatorOptions {
        &self.options
    }

    /// Whether any table is read through a derived table.
    pub(crate) fn rewrites(&self) -> bool {
        !self.derived.is_empty()
    }

    /// The derived table that replaces `table`, when the policy filters or masks it.
    pub(crate) fn derived(&self, table: &Table) -> Option<&Derived> {
        self.derived
            .get(&(std::ptr::from_ref(table) as usize))
            .map(Arc::as_ref)
    }

    /// The schema the principal sees: tables in scope, denied columns left out.
    pub(crate) fn visible(&self) -> &Arc<Catalog> {
        &self.visible
    }

    /// The schema whose values may be learnt (for value hints and samples): the visible one
    /// without masked columns.
    pub(crate) fn knowledge(&self) -> &Arc<Catalog> {
        &self.knowledge
    }

    /// The source's semantic model restricted to what this principal sees.
    pub(crate) fn semantic(
        &self,
        full: Option<&crate::semantic::Semantic>,
    ) -> Option<&crate::semantic::Semantic> {
        self.semantic
            .get_or_init(|| full.map(|s| s.restrict(&self.visible)))
            .as_ref()
    }

    /// The rewrite of a statement checked under this policy, when it was rewritten before.
    pub(crate) fn rewritten(&self, checked: &str) -> Option<Arc<str>> {
        self.rewritten.lock().ok()?.get(checked).cloned()
    }

    /// Keeps the rewrite of `checked`.
    pub(crate) fn remember(&self, checked: String, rewritten: &str) {
        if let Ok(mut map) = self.rewritten.lock() {
            if map.len() >= MAX_REWRITTEN {
                map.clear();
            }
            map.insert(checked, Arc::from(rewritten));
        }
    }

    /// The known values of the rows this principal may see.
    pub(crate) fn values(&self) -> &Arc<tokio::sync::OnceCell<Arc<ValueIndex>>> {
        &self.values
    }
}

/// A table as one principal may read it: the derived table's text and its tree.
#[derive(Debug)]
pub(crate) struct Derived {
    pub(crate) text: String,
    pub(crate) tree: Box<Query>,
}
