//! A plain-English account of a query, built from its representation.

use super::{
    compile::number,
    ir::{
        Agg, CmpOp, ColumnRef, Dimension, Filter, Literal, Measure, MeasureArg, OrderKey, QueryIr,
        TimeBucket,
    },
};

pub(super) fn words(ident: &str) -> String {
    crate::text::identifier_words(ident).join(" ")
}

/// "invoice line" → "invoice lines"; names already plural stay as they are.
fn plural(phrase: &str) -> String {
    let (head, last) = phrase
        .rsplit_once(' ')
        .map_or(("", phrase), |(h, l)| (h, l));
    let last = if crate::text::singular(last) != last {
        last.to_string()
    } else if let Some(stem) = last
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'o', 'u']))
    {
        format!("{stem}ies")
    } else if last.ends_with(['s', 'x']) || last.ends_with("ch") || last.ends_with("sh") {
        format!("{last}es")
    } else {
        format!("{last}s")
    };
    if head.is_empty() {
        last
    } else {
        format!("{head} {last}")
    }
}

pub(super) fn col(c: &ColumnRef) -> String {
    let t = words(&c.table);
    let w = words(&c.column);
    if w.starts_with(&t) {
        w
    } else {
        format!("{t} {w}")
    }
}

pub(super) fn measure(m: &Measure) -> String {
    if let MeasureArg::Model { name, .. } = &m.arg {
        // The business's own word; the SQL beside the explanation shows its formula.
        return format!("the {name}");
    }
    let arg = match &m.arg {
        MeasureArg::Model { name, .. } => name.clone(),
        MeasureArg::Rows { table } => plural(&words(table)),
        MeasureArg::Column { column } => col(column),
        MeasureArg::Product { left, right } => format!("{} × {}", col(left), words(&right.column)),
    };
    match m.agg {
        Agg::Count => format!("the number of {arg}"),
        Agg::CountDistinct => format!("the number of distinct {arg} values"),
        Agg::Sum => format!("the total of {arg}"),
        Agg::Avg => format!("the average {arg}"),
        Agg::Min => format!("the smallest {arg}"),
        Agg::Max => format!("the largest {arg}"),
    }
}

pub(super) fn op(o: CmpOp) -> &'static str {
    match o {
        CmpOp::Eq => "is",
        CmpOp::Ne => "is not",
        CmpOp::Gt => "is more than",
        CmpOp::Ge => "is at least",
        CmpOp::Lt => "is less than",
        CmpOp::Le => "is at most",
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Number(n) => number(*n),
        Literal::Text(s) => format!("\"{s}\""),
    }
}

pub(super) fn filter(f: &Filter) -> String {
    match f {
        Filter::Model { name, .. } => format!("only {name}"),
        Filter::Compare {
            column,
            op: o,
            value,
        } => {
            format!("{} {} {}", col(column), op(*o), literal(value))
        }
        Filter::AnyOf { column, values } => {
            let v: Vec<String> = values.iter().map(literal).collect();
            format!("{} is one of {}", col(column), v.join(", "))
        }
        Filter::Between { column, low, high } => format!(
            "{} is between {} and {}",
            col(column),
            literal(low),
            literal(high)
        ),
        Filter::Period {
            column,
            year,
            month: None,
        } => format!("{} is in {year}", col(column)),
        Filter::Period {
            column,
            year,
            month: Some(m),
        } => format!("{} is in {year}-{m:02}", col(column)),
        Filter::VsAggregate {
            column,
            op: o,
            agg,
            factor,
        } => {
            let times = if *factor == 1.0 {
                String::new()
            } else {
                format!("{} times ", number(*factor))
            };
            let of = measure(&super::ir::Measure {
                agg: *agg,
                arg: super::ir::MeasureArg::Column {
                    column: column.clone(),
                },
            });
            format!(
                "{} {} {times}{of} of all {}",
                col(column),
                op(*o),
                plural(&words(&column.table))
            )
        }
        Filter::GroupExtreme { column, group, max } => format!(
            "{} is the {} among the {} with the same {}",
            col(column),
            if *max { "largest" } else { "smallest" },
            plural(&words(&column.table)),
            words(&group.column)
        ),
        Filter::Date {
            column,
            op: o,
            date,
        } => {
            let w = match o {
                CmpOp::Lt => "is before",
                CmpOp::Ge => "is on or after",
                other => op(*other),
            };
            format!("{} {w} {date}", col(column))
        }
        Filter::Like {
            column,
            position,
            text,
            negated,
        } => {
            let w = match (position, negated) {
                (super::ir::LikeKind::Contains, false) => "contains",
                (super::ir::LikeKind::Contains, true) => "does not contain",
                (super::ir::LikeKind::StartsWith, false) => "starts with",
                (super::ir::LikeKind::StartsWith, true) => "does not start with",
                (super::ir::LikeKind::EndsWith, false) => "ends with",
                (super::ir::LikeKind::EndsWith, true) => "does not end with",
            };
            format!("{} {w} \"{text}\" (ignoring case)", col(column))
        }
        Filter::NoneOf { column, values } => {
            let v: Vec<String> = values.iter().map(literal).collect();
            format!("{} is none of {}", col(column), v.join(", "))
        }
        Filter::Either { filters, .. } => {
            let any: Vec<String> = filters.iter().map(filter).collect();
            any.join(" or ")
        }
        Filter::Exists {
            column,
            table,
            filters,
            negated,
        } => {
            let which: Vec<String> = filters.iter().map(filter).collect();
            let with = if which.is_empty() {
                String::new()
            } else {
                format!(" where {}", which.join(" and "))
            };
            let has = if *negated { "has no" } else { "has" };
            format!("the {} {has} related {table} rows{with}", column.table)
        }
    }
}

pub(super) fn dimension(d: &Dimension) -> String {
    match d {
        Dimension::Model { name, .. } => name.clone(),
        Dimension::Column { column } => col(column),
        Dimension::Entity { table, labels, .. } => {
            let shown: Vec<String> = labels.iter().map(|l| words(l)).collect();
            format!("{} (shown by {})", words(table), shown.join(" and "))
        }
        Dimension::Time { column, bucket } => {
            let b = match bucket {
                TimeBucket::Year => "year",
                TimeBucket::YearMonth => "month",
                TimeBucket::Month => "month of the year",
                TimeBucket::Day => "day",
            };
            format!("{b} of {}", col(column))
        }
    }
}

/// The percentage a query computes, when it computes one.
fn share(ir: &QueryIr) -> Option<String> {
    let m = ir.measure.as_ref()?;
    Some(match ir.share.as_ref()? {
        super::ir::Share::Rows { conditions } => {
            let f: Vec<String> = conditions.iter().map(filter).collect();
            format!(
                "the percentage of {} where {}",
                measure(m).trim_start_matches("the number of "),
                f.join(" and ")
            )
        }
        super::ir::Share::OfTotal => format!("{} as a percentage of the whole", measure(m)),
    })
}

/// Describes `ir` in one or two plain sentences.
pub fn explain(ir: &QueryIr) -> String {
    let mut s = match &ir.measure {
        Some(m) => {
            let mut s = format!("Computes {}", share(ir).unwrap_or_else(|| measure(m)));
            for m in &ir.also {
                s.push_str(&format!(" and {}", measure(m)));
            }
            if !ir.group_by.is_empty() {
                let g: Vec<String> = ir.group_by.iter().map(dimension).collect();
                s.push_str(&format!(" for each {}", g.join(" and ")));
            }
            s
        }
        None => {
            let c: Vec<String> = ir.columns.iter().map(col).collect();
            format!(
                "Lists the {}{} of {}",
                if ir.distinct { "distinct " } else { "" },
                c.join(", "),
                plural(&words(&ir.subject))
            )
        }
    };
    if ir.measure.is_some() && !ir.columns.is_empty() && !ir.group_by.is_empty() {
        let c: Vec<String> = ir.columns.iter().map(col).collect();
        s.push_str(&format!(", also showing {}", c.join(", ")));
    }
    if !ir.filters.is_empty() {
        let f: Vec<String> = ir.filters.iter().map(filter).collect();
        s.push_str(&format!(", where {}", f.join(" and ")));
    }
    if !ir.having.is_empty() {
        let h: Vec<String> = ir
            .having
            .iter()
            .map(|h| format!("{} {} {}", measure(&h.measure), op(h.op), number(h.value)))
            .collect();
        s.push_str(&format!(", keeping only groups where {}", h.join(" and ")));
    }
    if let Some(o) = &ir.order {
        let key = match &o.key {
            OrderKey::Measure => ir.measure.as_ref().map(measure).unwrap_or_default(),
            OrderKey::Column { column } => col(column),
        };
        s.push_str(&format!(", sorted by {key} ({})", o.direction()));
    }
    if let Some(n) = ir.limit {
        s.push_str(&format!(", keeping the first {n}"));
    }
    s.push('.');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explanation_names_measure_groups_filters_and_limit() {
        let mut ir = QueryIr::new("Track");
        ir.measure = Some(Measure {
            agg: Agg::Count,
            arg: MeasureArg::Rows {
                table: "Track".into(),
            },
        });
        ir.group_by.push(Dimension::Entity {
            table: "Genre".into(),
            key: vec!["GenreId".into()],
            labels: vec!["Name".into()],
        });
        ir.filters.push(Filter::Period {
            column: ColumnRef::new("Invoice", "InvoiceDate"),
            year: 2023,
            month: None,
        });
        ir.limit = Some(5);
        assert_eq!(
            explain(&ir),
            "Computes the number of tracks for each genre (shown by name), where invoice date is in 2023, keeping the first 5."
        );
    }
}
