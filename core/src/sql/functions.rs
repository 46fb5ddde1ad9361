//! Per-dialect function allow-lists.
//!
//! Only functions without side effects, without access to files, the network, other sessions or
//! server state, and without unbounded cost by design may appear in generated SQL: aggregates,
//! window functions, string, math, date/time, conditional and conversion functions. Anything
//! else (`pg_sleep`, `dblink*`, `set_config`, `lo_*`, `pg_read_file`, `load_file`, `sleep`,
//! `benchmark`, `load_extension`, `readfile`, `get_lock`, `nextval`, ...) is refused because it
//! is not listed, which keeps unknown and future dangerous functions out as well.

use crate::dialect::Dialect;

/// Functions every dialect supports under the same name and meaning.
const COMMON: &[&str] = &[
    // aggregates
    "count", "sum", "avg", "min", "max",
    // window
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value",
    // conditional
    "coalesce", "nullif",
    // string
    "lower", "upper", "length", "trim", "ltrim", "rtrim", "replace", "substr", "instr",
    // math
    "abs", "round", "sign",
];

const SQLITE: &[&str] = &[
    "total", "group_concat", "string_agg", "median",
    "ifnull", "iif", "if", "nvl",
    "substring", "char", "unicode", "hex", "quote", "printf", "format", "like", "glob",
    "soundex", "concat", "concat_ws", "octet_length", "unhex", "trunc",
    "date", "time", "datetime", "julianday", "unixepoch", "strftime", "timediff", "current_date",
    "current_time", "current_timestamp",
    "typeof", "cast", "random",
    // math functions (SQLITE_ENABLE_MATH_FUNCTIONS)
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "ceil", "ceiling", "cos", "cosh",
    "degrees", "exp", "floor", "ln", "log", "log10", "log2", "mod", "pi", "pow", "power",
    "radians", "sin", "sinh", "sqrt", "tan", "tanh",
    // json (read-only)
    "json", "json_extract", "json_array_length", "json_type", "json_valid", "json_array",
    "json_object", "json_group_array", "json_group_object", "json_each", "json_tree",
    "json_quote",
];

const POSTGRES: &[&str] = &[
    // aggregates
    "string_agg", "array_agg", "bool_and", "bool_or", "every", "stddev", "stddev_pop",
    "stddev_samp", "variance", "var_pop", "var_samp", "corr", "covar_pop", "covar_samp",
    "regr_slope", "regr_intercept", "regr_r2", "regr_count", "percentile_cont", "percentile_disc",
    "mode", "json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
    // conditional / comparison
    "greatest", "least", "num_nulls", "num_nonnulls",
    // string
    "substring", "concat", "concat_ws", "initcap", "left", "right", "lpad", "rpad",
    "btrim", "position", "strpos", "split_part", "reverse", "char_length", "character_length",
    "octet_length", "bit_length", "translate", "overlay", "starts_with", "md5", "to_hex",
    "ascii", "chr", "format", "quote_ident", "quote_literal", "quote_nullable", "regexp_replace",
    "regexp_match", "regexp_matches", "regexp_split_to_array", "regexp_split_to_table", "regexp_like",
    "regexp_count", "regexp_substr", "regexp_instr", "string_to_array", "array_to_string",
    "unnest", "array_length", "cardinality", "array_position", "array_remove",
    // math
    "ceil", "ceiling", "floor", "trunc", "mod", "power", "pow", "sqrt", "cbrt", "exp", "ln",
    "log", "log10", "pi", "degrees", "radians", "sin", "cos", "tan", "asin", "acos", "atan",
    "atan2", "div", "gcd", "lcm", "scale", "width_bucket", "random",
    // date / time
    "now", "current_date", "current_time", "current_timestamp", "localtime", "localtimestamp",
    "date_trunc", "date_part", "extract", "age", "make_date", "make_time", "make_timestamp",
    "make_interval", "to_char", "to_date", "to_timestamp", "to_number", "justify_days",
    "justify_hours", "justify_interval", "isfinite", "date_bin", "generate_series",
    // json (read-only)
    "json_build_object", "jsonb_build_object", "json_build_array", "jsonb_build_array",
    "json_extract_path", "json_extract_path_text", "jsonb_extract_path", "jsonb_extract_path_text",
    "json_array_length", "jsonb_array_length", "json_typeof", "jsonb_typeof", "to_json", "to_jsonb",
    "json_array_elements", "jsonb_array_elements", "json_each", "jsonb_each",
    // casts written as functions
    "cast",
];

const MYSQL: &[&str] = &[
    // aggregates
    "group_concat", "std", "stddev", "stddev_pop", "stddev_samp", "variance", "var_pop",
    "var_samp", "bit_and", "bit_or", "bit_xor", "json_arrayagg", "json_objectagg",
    // conditional
    "if", "ifnull", "isnull", "greatest", "least", "nvl", "nvl2", "decode_oracle",
    // string
    "substring", "mid", "concat", "concat_ws", "left", "right", "lpad", "rpad", "locate",
    "position", "char_length", "character_length", "octet_length", "bit_length", "reverse",
    "ascii", "char", "ord", "field", "find_in_set", "elt", "format", "hex", "unhex", "lcase",
    "ucase", "substring_index", "strcmp", "soundex", "insert", "md5", "sha1", "sha2", "crc32",
    "regexp_replace", "regexp_substr", "regexp_instr", "regexp_like", "quote", "to_base64",
    "from_base64", "weight_string", "convert",
    // math
    "ceil", "ceiling", "floor", "truncate", "mod", "power", "pow", "sqrt", "exp", "ln", "log",
    "log2", "log10", "pi", "degrees", "radians", "sin", "cos", "tan", "asin", "acos", "atan",
    "atan2", "cot", "conv", "rand", "div",
    // date / time
    "now", "curdate", "curtime", "current_date", "current_time", "current_timestamp",
    "localtime", "localtimestamp", "sysdate", "utc_date", "utc_time", "utc_timestamp",
    "date", "time", "timestamp", "year", "quarter", "month", "monthname", "week", "weekday",
    "weekofyear", "yearweek", "day", "dayofmonth", "dayofweek", "dayofyear", "dayname", "hour",
    "minute", "second", "microsecond", "last_day", "makedate", "maketime", "extract",
    "date_format", "time_format", "str_to_date", "date_add", "date_sub", "adddate", "subdate",
    "addtime", "subtime", "datediff", "timediff", "timestampdiff", "timestampadd", "period_add",
    "period_diff", "to_days", "to_seconds", "from_days", "unix_timestamp", "from_unixtime",
    "sec_to_time", "time_to_sec", "convert_tz", "get_format",
    // json (read-only)
    "json_extract", "json_unquote", "json_value", "json_contains", "json_contains_path",
    "json_keys", "json_length", "json_type", "json_valid", "json_array", "json_object",
    "json_quote", "json_search", "json_depth",
    // casts written as functions
    "cast", "binary",
];

/// Functions whose numeric argument sets the size of the value they build; a literal size above
/// [`MAX_BUILT_VALUE_LEN`] is refused so that a query cannot exhaust the server's memory.
pub const SIZE_ARGUMENT_FUNCTIONS: &[(&str, usize)] =
    &[("lpad", 1), ("rpad", 1), ("repeat", 1), ("space", 0), ("randomblob", 0), ("zeroblob", 0)];

/// The largest value a size argument of [`SIZE_ARGUMENT_FUNCTIONS`] may ask for.
pub const MAX_BUILT_VALUE_LEN: i64 = 10_000;

/// Whether `name` is on the dialect's function allow-list (case-insensitive).
pub fn is_function_allowed(dialect: Dialect, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let name = name.as_str();
    let list = match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
        Dialect::Mysql => MYSQL,
    };
    COMMON.contains(&name) || list.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_are_allowed_everywhere() {
        for d in [Dialect::Sqlite, Dialect::Postgres, Dialect::Mysql] {
            for f in ["COUNT", "sum", "Avg", "min", "max", "row_number", "coalesce"] {
                assert!(is_function_allowed(d, f), "{f} on {d}");
            }
        }
    }

    #[test]
    fn side_effect_functions_are_refused() {
        let denied = [
            (Dialect::Postgres, &["pg_sleep", "dblink", "dblink_exec", "dblink_connect", "set_config", "lo_import",
                "lo_export", "pg_read_file", "pg_advisory_lock", "nextval", "setval", "pg_notify",
                "pg_terminate_backend", "current_setting", "pg_cancel_backend", "repeat", "query_to_xml"][..]),
            (Dialect::Mysql, &["sleep", "benchmark", "load_file", "get_lock", "release_lock", "sys_exec",
                "current_user", "user", "database", "version", "connection_id", "last_insert_id", "repeat", "space"][..]),
            (Dialect::Sqlite, &["load_extension", "readfile", "writefile", "randomblob", "zeroblob",
                "last_insert_rowid", "changes", "total_changes", "sqlite_version", "sqlite_offset",
                "edit", "fts3_tokenizer"][..]),
        ];
        for (d, names) in denied {
            for f in names {
                assert!(!is_function_allowed(d, f), "{f} must be refused on {d}");
            }
        }
    }
}
