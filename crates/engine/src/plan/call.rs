//! Function calls: KQL's built-in scalar and aggregate functions lowered to DataFusion
//! expressions or our UDFs; user `let` functions expanded in place; anything else rejected by name.

use super::expr::{constant_value, json, udf};
use super::{Binding, PResult, Planner, df_err, err};
use crate::functions::aggregate::{Collect, CollectUdaf};
use crate::functions::arrays::SetOp;
use crate::functions::dynamic::{JsonOp, PathStep};
use crate::functions::dynregex::DynRegexMatch;
use crate::functions::formats::BitOp;
use crate::functions::library::{LibFn, LibOp, UnixUnit};
use crate::functions::percentile::PercentileUdaf;
use crate::functions::regex::{RegexFn, RegexOp};
use crate::functions::scalar::{KqlFn, Part, ScalarOp};
use crate::functions::timefmt::{DtPart, parse_format};
use crate::types::KqlType;
use crate::value::datetime_scalar;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchemaRef, ScalarValue};
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{AggregateUDF, Expr, LogicalPlanBuilder, SortExpr, cast, lit, when};
use datafusion::prelude::ident;
use kql::{Arg, Ident, Span};
use std::ops::Not;
use std::sync::Arc;

/// Built-in function names this engine runs (for "did you mean").
pub const FUNCTION_NAMES: &[&str] = &[
    "strcat_array",
    "tohex",
    "hash",
    "hash_xxhash64",
    "dynamic_to_json",
    "toboolean",
    "has_any_ipv4_prefix",
    "has_ipv4_prefix",
    "unicode_codepoints_to_string",
    "make_string",
    "unicode_codepoints_from_string",
    "to_utf8",
    "parse_command_line",
    "geo_info_from_ip_address",
    "ingestion_time",
    "extractjson",
    "arraylength",
    "pack_dictionary",
    "abs",
    "ago",
    "array_length",
    "avg",
    "avgif",
    "bag_pack",
    "bin",
    "case",
    "ceiling",
    "coalesce",
    "column_ifexists",
    "columnifexists",
    "count",
    "countif",
    "datetime_add",
    "datetime_diff",
    "dayofmonth",
    "dayofweek",
    "dcount",
    "dcountif",
    "endofday",
    "endofmonth",
    "endofweek",
    "endofyear",
    "exp",
    "extract",
    "floor",
    "getmonth",
    "getyear",
    "hourofday",
    "iif",
    "iff",
    "isempty",
    "isnotempty",
    "notempty",
    "notnull",
    "isnotnull",
    "isnull",
    "log",
    "log10",
    "make_bag",
    "make_list",
    "make_list_if",
    "make_set",
    "make_set_if",
    "makelist",
    "makeset",
    "max",
    "max_of",
    "maxif",
    "min",
    "min_of",
    "minif",
    "monthofyear",
    "not",
    "now",
    "pack",
    "pack_array",
    "parse_json",
    "parsejson",
    "pow",
    "replace",
    "replace_regex",
    "replace_string",
    "round",
    "set_has_element",
    "split",
    "sqrt",
    "startofday",
    "startofmonth",
    "startofweek",
    "startofyear",
    "stdev",
    "strcat",
    "strcat_delim",
    "strlen",
    "substring",
    "sum",
    "sumif",
    "take_any",
    "any",
    "tobool",
    "todatetime",
    "todouble",
    "todynamic",
    "toint",
    "tolong",
    "tolower",
    "toreal",
    "toscalar",
    "tostring",
    "totimespan",
    "toupper",
    "trim",
    "trim_end",
    "trim_start",
    "variance",
    "arg_max",
    "arg_min",
    "isascii",
    "indexof",
    "extract_all",
    "extractall",
    "ipv4_is_private",
    "ipv4_is_in_range",
    "ipv4_is_match",
    "parse_ipv4",
    "parse_url",
    "parse_urlquery",
    "base64_decode_tostring",
    "base64_encode_tostring",
    "format_datetime",
    "format_timespan",
    "countof",
    "reverse",
    "array_concat",
    "array_slice",
    "array_index_of",
    "array_sort_asc",
    "array_sort_desc",
    "bag_keys",
    "bag_merge",
    "bag_remove_keys",
    "range",
    "make_datetime",
    "make_timespan",
    "datetime_part",
    "unixtime_seconds_todatetime",
    "unixtime_milliseconds_todatetime",
    "gettype",
    "url_decode",
    "url_encode",
    "zip",
    "strrep",
    "string_size",
    "translate",
    "set_union",
    "set_intersect",
    "set_difference",
    "week_of_year",
    "dayofyear",
    "exp2",
    "exp10",
    "log2",
    "sign",
    "isfinite",
    "isnan",
    "isinf",
    "pi",
    "parseurl",
    "parseurlquery",
    "base64_decodestring",
    "datepart",
    "parse_xml",
    "parse_csv",
    "parse_path",
    "base64_decode_toarray",
    "base64_encode_fromarray",
    "binary_and",
    "binary_or",
    "binary_xor",
    "binary_not",
    "binary_shift_left",
    "binary_shift_right",
    "bitset_count_ones",
];

/// Aggregate function names (valid only in `summarize` and friends).
pub const AGGREGATE_NAMES: &[&str] = &[
    "argmax",
    "argmin",
    "count",
    "countif",
    "dcount",
    "dcountif",
    "sum",
    "sumif",
    "avg",
    "avgif",
    "min",
    "max",
    "minif",
    "maxif",
    "make_set",
    "make_list",
    "make_bag",
    "makeset",
    "makelist",
    "make_set_if",
    "make_list_if",
    "arg_max",
    "arg_min",
    "any",
    "take_any",
    "stdev",
    "variance",
    "percentile",
    "percentiles",
    "make_set_with_nulls",
    "make_list_with_nulls",
    "stdevp",
    "variancep",
    "count_distinct",
];

pub fn scalar_fn(name: &str, op: ScalarOp, args: Vec<Expr>) -> Expr {
    udf(KqlFn::new(name, op)).call(args)
}

pub(super) fn lib(name: &str, op: LibOp, args: Vec<Expr>) -> Expr {
    udf(LibFn::new(name, op)).call(args)
}

fn regex_fn(name: &str, op: RegexOp, pattern: &str, args: Vec<Expr>, span: Span) -> PResult<Expr> {
    let f = RegexFn::new(name, op, pattern).map_err(|m| err(span, m))?;
    Ok(udf(f).call(args))
}

/// `text matches regex pattern`: a constant pattern is compiled at plan time, any other at run
/// time (per distinct pattern).
pub fn regex_match(text: Expr, pattern: Expr, span: Span) -> PResult<Expr> {
    match constant_value(&pattern) {
        Some(ScalarValue::Utf8(Some(p))) => regex_fn("matches regex", RegexOp::IsMatch, &p, vec![text], span),
        _ => Ok(udf(DynRegexMatch::new()).call(vec![text, pattern])),
    }
}

/// One lowered argument with its type and place.
struct A {
    e: Expr,
    t: KqlType,
    span: Span,
}

impl Planner<'_> {
    fn lower_args(&mut self, args: &[Arg], schema: &DFSchemaRef) -> PResult<Vec<A>> {
        args.iter()
            .map(|a| {
                let (x, span) = match a {
                    Arg::Positional(x) => (x, x.span()),
                    Arg::Named(n, _) => {
                        return Err(err(
                            n.span,
                            format!("named argument `{}` is not supported here", n.name),
                        ));
                    }
                };
                let e = self.scalar(x, schema)?;
                let t = self.type_of(&e, schema, span)?;
                Ok(A { e, t, span })
            })
            .collect()
    }

    /// A string argument (other types via `tostring`).
    fn text(&self, a: A) -> Expr {
        match a.t {
            KqlType::String | KqlType::Guid => a.e,
            KqlType::Dynamic => self.coerce(a.e, KqlType::Dynamic, KqlType::String),
            _ => scalar_fn("tostring", ScalarOp::ToString, vec![a.e]),
        }
    }

    /// A constant string argument (a part name, a pattern).
    fn const_text(a: &A, what: &str) -> PResult<String> {
        match constant_value(&a.e) {
            Some(ScalarValue::Utf8(Some(s))) => Ok(s),
            _ => Err(err(a.span, format!("{what} must be a constant string"))),
        }
    }

    fn arity(name: &Ident, args: &[A], min: usize, max: usize) -> PResult<()> {
        if args.len() < min || args.len() > max {
            let want = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(err(
                name.span,
                format!("{}() takes {want} arguments, {} given", name.name, args.len()),
            ));
        }
        Ok(())
    }

    /// A `long` argument (numbers are converted; dynamic values via `tolong`).
    fn long_arg(n: &str, a: A) -> PResult<Expr> {
        match a.t {
            t if t.is_numeric() => Ok(cast(a.e, DataType::Int64)),
            KqlType::Dynamic => Ok(json("tolong", JsonOp::ToLong, vec![a.e])),
            t => Err(err(a.span, format!("{n}() takes a whole number here, not {t}"))),
        }
    }

    /// A `real` argument.
    fn real_arg(n: &str, a: A) -> PResult<Expr> {
        match a.t {
            t if t.is_numeric() => Ok(cast(a.e, DataType::Float64)),
            KqlType::Dynamic => Ok(json("todouble", JsonOp::ToReal, vec![a.e])),
            t => Err(err(a.span, format!("{n}() takes a number here, not {t}"))),
        }
    }

    /// A `dynamic` argument (array or property bag).
    fn dynamic_arg(n: &str, a: A) -> PResult<Expr> {
        match a.t {
            KqlType::Dynamic => Ok(a.e),
            t => Err(err(a.span, format!("{n}() takes a dynamic value, not {t}"))),
        }
    }

    /// The column name `column_ifexists()` looks for: a constant string (a literal, a `let`
    /// value or a function parameter).
    pub(super) fn column_ifexists_name(&mut self, column: &kql::Expr) -> PResult<String> {
        let e = self.constant(column)?;
        match constant_value(&e) {
            Some(ScalarValue::Utf8(Some(v))) => Ok(v),
            _ => Err(err(
                column.span(),
                "column_ifexists() takes a constant string as the column name",
            )),
        }
    }

    /// A scalar function call.
    pub fn call(&mut self, name: &Ident, args: &[Arg], span: Span, schema: &DFSchemaRef) -> PResult<Expr> {
        if let Some(Binding::Function(func)) = self.lookup(&name.name).cloned() {
            return self.with_function_scope(&func, args, span, schema, |p| match func.body.last() {
                Some(kql::Statement::Expr(body)) => p.scalar(body, schema),
                _ => Err(err(func.span, "the function body has no result expression")),
            });
        }
        let n = name.name.as_str();
        if AGGREGATE_NAMES.contains(&n) {
            return Err(err(span, format!("`{n}()` is an aggregation: use it in summarize")));
        }
        // Functions whose arguments are not ordinary values.
        match n {
            "toscalar" => return self.toscalar(args, span),
            "column_ifexists" | "columnifexists" => {
                let [Arg::Positional(column), Arg::Positional(default)] = args else {
                    return Err(err(span, format!("{n}() takes a column name and a default value")));
                };
                let value = self.column_ifexists_name(column)?;
                if schema.field_with_unqualified_name(&value).is_ok() {
                    return Ok(ident(value));
                }
                return self.scalar(default, schema);
            }
            "materialize" | "table" | "view" => return Err(err(span, format!("{n}() gives a table, not a value"))),
            _ => {}
        }
        // A trailing `typeof(T)` argument (extract, extractjson) names the result type.
        let (args, result_type) = match args.split_last() {
            Some((
                Arg::Positional(kql::Expr::Call {
                    name: t,
                    args: targs,
                    span: tspan,
                    ..
                }),
                rest,
            )) if t.name == "typeof" => {
                let ty = match targs.as_slice() {
                    [Arg::Positional(kql::Expr::Name(tn))] => KqlType::from_name(&tn.name),
                    _ => None,
                };
                let ty =
                    ty.ok_or_else(|| err(*tspan, "typeof() takes a type name (typeof(long), typeof(string), ...)"))?;
                (rest, Some(ty))
            }
            _ => (args, None),
        };
        if result_type.is_some() && !matches!(n, "extract" | "extractjson" | "extract_json") {
            return Err(err(span, format!("{n}() does not take a result type")));
        }
        let a = self.lower_args(args, schema)?;
        let now = self.now();
        let one = |a: Vec<A>| {
            a.into_iter()
                .next()
                .map(|x| x.e)
                .unwrap_or_else(|| lit(ScalarValue::Null))
        };
        let e = match n {
            "ago" => {
                Self::arity(name, &a, 1, 1)?;
                match constant_value(&a[0].e) {
                    Some(ScalarValue::DurationNanosecond(Some(d))) => lit(datetime_scalar(Some(now - d))),
                    _ if a[0].t == KqlType::Timespan => binary(
                        lit(datetime_scalar(Some(now))),
                        datafusion::logical_expr::Operator::Minus,
                        one(a),
                    ),
                    _ => return Err(err(a[0].span, "ago() takes a timespan")),
                }
            }
            "now" => {
                Self::arity(name, &a, 0, 1)?;
                match a.first().map(|x| constant_value(&x.e)) {
                    None => lit(datetime_scalar(Some(now))),
                    Some(Some(ScalarValue::DurationNanosecond(Some(d)))) => lit(datetime_scalar(Some(now + d))),
                    _ => return Err(err(span, "now() takes a constant timespan offset")),
                }
            }
            "tostring" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a.into_iter().next().expect("arity checked");
                self.text(x)
            }
            "tolong" | "toint" | "todouble" | "toreal" | "tobool" | "toboolean" | "todatetime" | "totimespan"
            | "toguid" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a.into_iter().next().expect("arity checked");
                self.convert(n, x)?
            }
            "parse_json" | "parsejson" | "todynamic" | "toobject" | "toarray" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a.into_iter().next().expect("arity checked");
                match x.t {
                    KqlType::Dynamic => x.e,
                    KqlType::String => json("parse_json", JsonOp::Parse, vec![x.e]),
                    _ => json("pack_array", JsonOp::PackArray, vec![x.e])
                        .pipe(|e| json("get", JsonOp::Get(vec![PathStep::Index(0)]), vec![e])),
                }
            }
            // notempty() and notnull() are Kusto's deprecated aliases of isnotempty() and isnotnull().
            "isempty" | "isnotempty" | "notempty" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a.into_iter().next().expect("arity checked");
                let empty = match x.t {
                    KqlType::String | KqlType::Guid => x.e.clone().is_null().or(x.e.eq(lit(""))),
                    KqlType::Dynamic => {
                        let s = self.coerce(x.e.clone(), KqlType::Dynamic, KqlType::String);
                        x.e.is_null().or(s.eq(lit("")))
                    }
                    _ => x.e.is_null(),
                };
                if n == "isempty" { empty } else { empty.not() }
            }
            "isnull" => one(a).is_null(),
            "isnotnull" | "notnull" => one(a).is_not_null(),
            "not" => {
                Self::arity(name, &a, 1, 1)?;
                one(a).not()
            }
            "iff" | "iif" => {
                Self::arity(name, &a, 3, 3)?;
                let mut it = a.into_iter();
                let (c, t, e) = (it.next().expect("3"), it.next().expect("3"), it.next().expect("3"));
                let (t2, e2) = (self.coerce(t.e, t.t, e.t), self.coerce(e.e, e.t, t.t));
                when(c.e, t2).otherwise(e2).map_err(|x| df_err(span, x))?
            }
            "case" => {
                if a.len() < 3 || a.len() % 2 == 0 {
                    return Err(err(span, "case() takes condition/value pairs and a final else value"));
                }
                let mut it = a.into_iter();
                let mut pairs = Vec::new();
                let mut else_v = None;
                while let Some(c) = it.next() {
                    match it.next() {
                        Some(v) => pairs.push((c.e, v.e)),
                        None => else_v = Some(c.e),
                    }
                }
                let mut b = when(pairs[0].0.clone(), pairs[0].1.clone());
                for (c, v) in pairs.into_iter().skip(1) {
                    b = b.when(c, v);
                }
                b.otherwise(else_v.unwrap_or_else(|| lit(ScalarValue::Null)))
                    .map_err(|x| df_err(span, x))?
            }
            // The first non-null value, or for strings the first non-empty one.
            "coalesce" => {
                if a.is_empty() {
                    return Err(err(span, "coalesce() takes at least one value"));
                }
                let last = a.len() - 1;
                let xs = a
                    .into_iter()
                    .enumerate()
                    .map(|(i, x)| match x.t {
                        KqlType::String if i < last => f::nullif(x.e, lit("")),
                        _ => x.e,
                    })
                    .collect();
                f::coalesce(xs)
            }
            "strcat" => {
                if a.is_empty() {
                    return Err(err(span, "strcat() needs at least one argument"));
                }
                let parts: Vec<Expr> = a.into_iter().map(|x| self.text(x)).collect();
                f::concat(parts)
            }
            "strcat_delim" => {
                if a.len() < 2 {
                    return Err(err(span, "strcat_delim() takes a delimiter and values"));
                }
                let mut it = a.into_iter();
                let d = self.text(it.next().expect("len checked"));
                f::concat_ws(d, it.map(|x| self.text(x)).collect())
            }
            "strlen" => f::character_length(
                self.text(
                    a.into_iter()
                        .next()
                        .ok_or_else(|| err(span, "strlen() takes a string"))?,
                ),
            ),
            "tolower" => f::lower(
                self.text(
                    a.into_iter()
                        .next()
                        .ok_or_else(|| err(span, "tolower() takes a string"))?,
                ),
            ),
            "toupper" => f::upper(
                self.text(
                    a.into_iter()
                        .next()
                        .ok_or_else(|| err(span, "toupper() takes a string"))?,
                ),
            ),
            "substring" => {
                // Kusto: a negative start counts from the end of the string (documented:
                // substring("123456", -2, 2) is "56"), clamped at the first character; a negative
                // length takes nothing. DataFusion's substr is 1-based and fails on a negative length,
                // which a filter evaluated over a whole batch would reach on rows it discards.
                use datafusion::logical_expr::Operator::Plus;
                Self::arity(name, &a, 2, 3)?;
                let mut it = a.into_iter();
                let s = self.text(it.next().expect("arity"));
                let start = cast(it.next().expect("arity").e, DataType::Int64);
                let from_end = binary(
                    cast(f::character_length(s.clone()), DataType::Int64),
                    Plus,
                    start.clone(),
                );
                let clamped_end = when(from_end.clone().lt(lit(0i64)), lit(0i64))
                    .otherwise(from_end)
                    .map_err(|x| df_err(span, x))?;
                let zero_based = when(start.clone().lt(lit(0i64)), clamped_end)
                    .otherwise(start)
                    .map_err(|x| df_err(span, x))?;
                let one_based = binary(zero_based, Plus, lit(1i64));
                match it.next() {
                    Some(len) => {
                        let len = cast(len.e, DataType::Int64);
                        let len = when(len.clone().lt(lit(0i64)), lit(0i64))
                            .otherwise(len)
                            .map_err(|x| df_err(span, x))?;
                        f::substring(s, one_based, len)
                    }
                    None => f::substr(s, one_based),
                }
            }
            "indexof" => {
                // indexof(string, match[, start[, length[, occurrence]]]): defaults 0, -1, 1.
                Self::arity(name, &a, 2, 5)?;
                let mut it = a.into_iter();
                let mut args = vec![self.text(it.next().expect("2")), self.text(it.next().expect("2"))];
                for x in it {
                    args.push(Self::long_arg(n, x)?);
                }
                for default in [0i64, -1, 1].into_iter().skip(args.len() - 2) {
                    args.push(lit(default));
                }
                lib(n, LibOp::IndexOf, args)
            }
            "replace_string" | "replace_regex" | "replace" => {
                Self::arity(name, &a, 3, 3)?;
                let mut it = a.into_iter();
                let (x, y, z) = (it.next().expect("3"), it.next().expect("3"), it.next().expect("3"));
                match n {
                    "replace_string" => f::replace(self.text(x), self.text(y), self.text(z)),
                    // replace_regex(text, regex, rewrite); the obsolete replace(regex, rewrite, text).
                    "replace_regex" => {
                        let pat = Self::const_text(&y, "the regular expression")?;
                        let rw = Self::const_text(&z, "the rewrite pattern")?;
                        regex_fn(n, RegexOp::Replace(rw), &pat, vec![self.text(x)], span)?
                    }
                    _ => {
                        let pat = Self::const_text(&x, "the regular expression")?;
                        let rw = Self::const_text(&y, "the rewrite pattern")?;
                        regex_fn(n, RegexOp::Replace(rw), &pat, vec![self.text(z)], span)?
                    }
                }
            }
            "extract" => {
                Self::arity(name, &a, 3, 4)?;
                let pat = Self::const_text(&a[0], "the regular expression")?;
                let group = match constant_value(&a[1].e) {
                    Some(ScalarValue::Int64(Some(g))) if g >= 0 => g as usize,
                    _ => {
                        return Err(err(
                            a[1].span,
                            "the capture group must be a constant non-negative number",
                        ));
                    }
                };
                let text = self.text(a.into_iter().nth(2).expect("arity"));
                let found = regex_fn(n, RegexOp::Extract(group), &pat, vec![text], span)?;
                match result_type {
                    None | Some(KqlType::String) => found,
                    Some(t) => self.convert_text(found, t, span)?,
                }
            }
            "geo_info_from_ip_address" => {
                Self::arity(name, &a, 1, 1)?;
                scalar_fn(
                    n,
                    ScalarOp::Unavailable(
                        "needs Microsoft's IP geolocation data, which is not available offline".into(),
                    ),
                    vec![one(a)],
                )
            }
            // Tables here have no ingestion-time policy, and then Kusto's ingestion_time() is null.
            "ingestion_time" => {
                Self::arity(name, &a, 0, 0)?;
                lit(datetime_scalar(None))
            }
            "extractjson" | "extract_json" => {
                Self::arity(name, &a, 2, 2)?;
                let path_text = Self::const_text(&a[0], "the JSON path")?;
                let path = json_path(&path_text).ok_or_else(|| {
                    err(
                        a[0].span,
                        format!("unsupported JSON path `{path_text}` (use $.a.b, $['a'], $.a[0])"),
                    )
                })?;
                let mut it = a.into_iter().skip(1);
                let doc = it.next().expect("arity");
                let doc = match doc.t {
                    KqlType::Dynamic => doc.e,
                    _ => json("parse_json", JsonOp::Parse, vec![self.text(doc)]),
                };
                let value = json("get", JsonOp::Get(path), vec![doc]);
                match result_type.unwrap_or(KqlType::String) {
                    KqlType::Dynamic => value,
                    t => self.coerce(value, KqlType::Dynamic, t),
                }
            }
            "arraylength" => {
                Self::arity(name, &a, 1, 1)?;
                json(n, JsonOp::ArrayLength, vec![one(a)])
            }
            "pack_dictionary" => json(n, JsonOp::BagPack, a.into_iter().map(|x| x.e).collect()),
            "extract_all" | "extractall" => {
                // extract_all(regex, [captureGroups,] source)
                Self::arity(name, &a, 2, 3)?;
                let pat = Self::const_text(&a[0], "the regular expression")?;
                let mut groups = Vec::new();
                if a.len() == 3 {
                    let bad = || {
                        err(
                            a[1].span,
                            "the capture groups must be a constant array of indexes or names",
                        )
                    };
                    let Some(ScalarValue::LargeUtf8(Some(j))) = constant_value(&a[1].e) else {
                        return Err(bad());
                    };
                    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&j) else {
                        return Err(bad());
                    };
                    for item in items {
                        match item {
                            serde_json::Value::Number(k) if k.as_u64().is_some() => groups.push(k.to_string()),
                            serde_json::Value::String(name) => groups.push(name),
                            _ => return Err(bad()),
                        }
                    }
                }
                let text = self.text(a.into_iter().last().expect("arity"));
                regex_fn(n, RegexOp::ExtractAll(groups), &pat, vec![text], span)?
            }
            "trim" | "trim_start" | "trim_end" => {
                Self::arity(name, &a, 2, 2)?;
                let pat = Self::const_text(&a[0], "the regular expression")?;
                let text = self.text(a.into_iter().nth(1).expect("arity"));
                let op = match n {
                    "trim" => RegexOp::Trim(true, true),
                    "trim_start" => RegexOp::Trim(true, false),
                    _ => RegexOp::Trim(false, true),
                };
                regex_fn(n, op, &pat, vec![text], span)?
            }
            "split" => {
                Self::arity(name, &a, 2, 3)?;
                let mut it = a.into_iter();
                let (s, d) = (
                    self.text(it.next().expect("arity")),
                    self.text(it.next().expect("arity")),
                );
                let mut args = vec![s, d];
                if let Some(i) = it.next() {
                    args.push(Self::long_arg(n, i)?);
                }
                json("split", JsonOp::Split, args)
            }
            "array_length" => {
                Self::arity(name, &a, 1, 1)?;
                json(n, JsonOp::ArrayLength, vec![one(a)])
            }
            "pack_array" => json(n, JsonOp::PackArray, a.into_iter().map(|x| x.e).collect()),
            "pack" | "bag_pack" => json(n, JsonOp::BagPack, a.into_iter().map(|x| x.e).collect()),
            "set_has_element" => {
                Self::arity(name, &a, 2, 2)?;
                json(n, JsonOp::SetHasElement, a.into_iter().map(|x| x.e).collect())
            }
            "bin" | "floor" if a.len() == 2 => {
                let mut it = a.into_iter();
                let (v, size) = (it.next().expect("2"), it.next().expect("2"));
                let ok = match v.t {
                    KqlType::Datetime | KqlType::Timespan => size.t == KqlType::Timespan,
                    t if t.is_numeric() => size.t.is_numeric(),
                    _ => false,
                };
                if !ok {
                    return Err(err(
                        span,
                        format!(
                            "{n}() rounds a number, datetime or timespan by a size of the same kind, not {} by {}",
                            v.t, size.t
                        ),
                    ));
                }
                let v = if v.t == KqlType::Int {
                    cast(v.e, DataType::Int64)
                } else {
                    v.e
                };
                scalar_fn(n, ScalarOp::Bin, vec![v, size.e])
            }
            "floor" | "ceiling" | "abs" | "sqrt" | "exp" | "log" | "log10" | "round" | "pow" => {
                self.math(n, a, span)?
            }
            "min_of" | "max_of" => {
                if a.len() < 2 {
                    return Err(err(span, format!("{n}() takes two or more values")));
                }
                let xs = a.into_iter().map(|x| x.e).collect();
                if n == "min_of" { f::least(xs) } else { f::greatest(xs) }
            }
            "startofday" | "startofweek" | "startofmonth" | "startofyear" | "endofday" | "endofweek" | "endofmonth"
            | "endofyear" => {
                Self::arity(name, &a, 1, 2)?;
                if a[0].t != KqlType::Datetime {
                    return Err(err(a[0].span, format!("{n}() takes a datetime")));
                }
                let part = match &n[n.len() - 3..] {
                    "day" => Part::Day,
                    "eek" => Part::Week,
                    "nth" => Part::Month,
                    _ => Part::Year,
                };
                let op = if n.starts_with("start") {
                    ScalarOp::StartOf(part)
                } else {
                    ScalarOp::EndOf(part)
                };
                let mut it = a.into_iter();
                let mut args = vec![it.next().expect("arity checked").e];
                if let Some(offset) = it.next() {
                    args.push(Self::long_arg(n, offset)?);
                }
                scalar_fn(n, op, args)
            }
            "dayofweek" => scalar_fn(n, ScalarOp::DayOfWeek, vec![one(a)]),
            "hourofday" | "getyear" | "getmonth" | "monthofyear" | "dayofmonth" => {
                let part = match n {
                    "hourofday" => Part::Hour,
                    "getyear" => Part::Year,
                    "dayofmonth" => Part::Day,
                    _ => Part::Month,
                };
                scalar_fn(n, ScalarOp::DatePart(part), vec![one(a)])
            }
            "datetime_diff" | "datetime_add" => {
                Self::arity(name, &a, 3, 3)?;
                let part_name = Self::const_text(&a[0], "the date part")?;
                let part = Part::parse(&part_name)
                    .ok_or_else(|| err(a[0].span, format!("unknown date part `{part_name}`")))?;
                let mut it = a.into_iter().skip(1);
                let (x, y) = (it.next().expect("3").e, it.next().expect("3").e);
                let op = if n == "datetime_diff" {
                    ScalarOp::DatetimeDiff(part)
                } else {
                    ScalarOp::DatetimeAdd(part)
                };
                scalar_fn(n, op, vec![x, y])
            }
            "parse_ipv4"
            | "ipv4_is_private"
            | "parse_url"
            | "parseurl"
            | "parse_urlquery"
            | "parseurlquery"
            | "url_encode"
            | "url_decode"
            | "base64_encode_tostring"
            | "base64_decode_tostring"
            | "base64_decodestring"
            | "reverse"
            | "string_size"
            | "parse_xml"
            | "parse_csv"
            | "parse_path"
            | "base64_decode_toarray" => {
                Self::arity(name, &a, 1, 1)?;
                let op = match n {
                    "parse_xml" => LibOp::ParseXml,
                    "parse_csv" => LibOp::ParseCsv,
                    "parse_path" => LibOp::ParsePath,
                    "base64_decode_toarray" => LibOp::Base64DecodeToArray,
                    "parse_ipv4" => LibOp::ParseIpv4,
                    "ipv4_is_private" => LibOp::Ipv4IsPrivate,
                    "parse_url" | "parseurl" => LibOp::ParseUrl,
                    "parse_urlquery" | "parseurlquery" => LibOp::ParseUrlQuery,
                    "url_encode" => LibOp::UrlEncode,
                    "url_decode" => LibOp::UrlDecode,
                    "base64_encode_tostring" => LibOp::Base64Encode,
                    "base64_decode_tostring" | "base64_decodestring" => LibOp::Base64Decode,
                    "reverse" => LibOp::Reverse,
                    _ => LibOp::StringSize,
                };
                let x = self.text(a.into_iter().next().expect("arity checked"));
                lib(n, op, vec![x])
            }
            "base64_encode_fromarray" => {
                Self::arity(name, &a, 1, 1)?;
                let x = Self::dynamic_arg(n, a.into_iter().next().expect("arity checked"))?;
                lib(n, LibOp::Base64EncodeFromArray, vec![x])
            }
            "binary_and" | "binary_or" | "binary_xor" | "binary_shift_left" | "binary_shift_right" | "binary_not"
            | "bitset_count_ones" => {
                let (op, k) = match n {
                    "binary_and" => (BitOp::And, 2),
                    "binary_or" => (BitOp::Or, 2),
                    "binary_xor" => (BitOp::Xor, 2),
                    "binary_shift_left" => (BitOp::ShiftLeft, 2),
                    "binary_shift_right" => (BitOp::ShiftRight, 2),
                    "binary_not" => (BitOp::Not, 1),
                    _ => (BitOp::CountOnes, 1),
                };
                Self::arity(name, &a, k, k)?;
                let args = a
                    .into_iter()
                    .map(|x| Self::long_arg(n, x))
                    .collect::<PResult<Vec<_>>>()?;
                lib(n, LibOp::Bits(op), args)
            }
            "strcat_array" => {
                Self::arity(name, &a, 2, 2)?;
                let mut it = a.into_iter();
                let (arr, d) = (it.next().expect("2"), it.next().expect("2"));
                if arr.t != KqlType::Dynamic {
                    return Err(err(arr.span, "strcat_array() takes a dynamic array"));
                }
                let d = self.text(d);
                json(n, JsonOp::StrcatArray, vec![arr.e, d])
            }
            "dynamic_to_json" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a.into_iter().next().expect("arity checked");
                match x.t {
                    KqlType::Dynamic => json(n, JsonOp::ToCanonicalJson, vec![x.e]),
                    _ => self.text(x),
                }
            }
            "unicode_codepoints_to_string" | "make_string" => {
                Self::arity(name, &a, 1, 64)?;
                let mut args = Vec::new();
                for x in a {
                    args.push(match x.t {
                        KqlType::Dynamic => x.e,
                        _ => Self::long_arg(n, x)?,
                    });
                }
                lib(n, LibOp::CodepointsToString, args)
            }
            "unicode_codepoints_from_string" | "to_utf8" => {
                Self::arity(name, &a, 1, 1)?;
                let x = self.text(a.into_iter().next().expect("arity checked"));
                lib(n, LibOp::CodepointsFromString, vec![x])
            }
            "has_any_ipv4_prefix" | "has_ipv4_prefix" => {
                Self::arity(name, &a, 2, if n == "has_ipv4_prefix" { 2 } else { usize::MAX })?;
                let mut it = a.into_iter();
                let x = self.text(it.next().expect("arity checked"));
                let mut prefixes = Vec::new();
                for p in it {
                    match constant_value(&p.e) {
                        Some(ScalarValue::Utf8(Some(t))) => prefixes.push(t),
                        Some(ScalarValue::LargeUtf8(Some(t))) if p.t == KqlType::Dynamic => {
                            let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(&t)
                            else {
                                return Err(err(p.span, format!("{n}() takes an array of strings here")));
                            };
                            prefixes.extend(items.iter().filter_map(|v| v.as_str().map(str::to_string)));
                        }
                        _ => return Err(err(p.span, format!("{n}() takes constant prefixes"))),
                    }
                }
                // Invalid prefixes never match.
                prefixes.retain(|p| crate::functions::net::valid_ipv4_prefix(p));
                lib(n, LibOp::HasIpv4Prefix(prefixes), vec![x])
            }
            "hash" | "hash_xxhash64" => {
                Self::arity(name, &a, 1, 2)?;
                // The documented byte layouts: UTF-8 text, and a datetime's .NET ticks.
                if !matches!(a[0].t, KqlType::String | KqlType::Datetime) {
                    return Err(err(
                        a[0].span,
                        format!("{n}() of a {} is not supported yet (strings and datetimes are)", a[0].t),
                    ));
                }
                let mut it = a.into_iter();
                let x = it.next().expect("arity checked");
                let mut args = vec![x.e];
                if let Some(m) = it.next() {
                    args.push(Self::long_arg(n, m)?);
                }
                lib(n, LibOp::Hash, args)
            }
            "tohex" => {
                Self::arity(name, &a, 1, 2)?;
                if !matches!(a[0].t, KqlType::Long | KqlType::Int) {
                    return Err(err(a[0].span, format!("tohex() takes an integer, not {}", a[0].t)));
                }
                scalar_fn(n, ScalarOp::ToHex, a.into_iter().map(|x| x.e).collect())
            }
            "parse_command_line" => {
                Self::arity(name, &a, 2, 2)?;
                match constant_value(&a[1].e) {
                    Some(ScalarValue::Utf8(Some(p))) if p.eq_ignore_ascii_case("windows") => {}
                    _ => {
                        return Err(err(
                            a[1].span,
                            "parse_command_line() supports the \"windows\" parser only",
                        ));
                    }
                }
                let x = self.text(a.into_iter().next().expect("arity checked"));
                lib(n, LibOp::ParseCommandLine, vec![x])
            }
            "ipv4_is_in_range" | "ipv4_is_match" => {
                if n == "ipv4_is_in_range" {
                    Self::arity(name, &a, 2, 2)?;
                } else {
                    Self::arity(name, &a, 2, 3)?;
                }
                let mut it = a.into_iter();
                let mut args = vec![
                    self.text(it.next().expect("arity")),
                    self.text(it.next().expect("arity")),
                ];
                if let Some(p) = it.next() {
                    args.push(Self::long_arg(n, p)?);
                }
                let op = if n == "ipv4_is_in_range" {
                    LibOp::Ipv4IsInRange
                } else {
                    LibOp::Ipv4IsMatch
                };
                lib(n, op, args)
            }
            "countof" => {
                Self::arity(name, &a, 2, 3)?;
                let kind = match a.get(2) {
                    Some(k) => Self::const_text(k, "countof()'s kind")?,
                    None => "normal".to_string(),
                };
                let mut it = a.into_iter();
                let source = self.text(it.next().expect("arity"));
                let search = it.next().expect("arity");
                match kind.as_str() {
                    "normal" => lib(n, LibOp::CountOf, vec![source, self.text(search)]),
                    "regex" => {
                        let pat = Self::const_text(&search, "countof()'s regular expression")?;
                        regex_fn(n, RegexOp::Count, &pat, vec![source], span)?
                    }
                    other => {
                        return Err(err(
                            span,
                            format!("countof()'s kind must be \"normal\" or \"regex\", not \"{other}\""),
                        ));
                    }
                }
            }
            "strrep" => {
                Self::arity(name, &a, 2, 3)?;
                let mut it = a.into_iter();
                let v = self.text(it.next().expect("arity"));
                let times = Self::long_arg(n, it.next().expect("arity"))?;
                let delim = it.next().map_or_else(|| lit(""), |d| self.text(d));
                lib(n, LibOp::StrRep, vec![v, times, delim])
            }
            "translate" => {
                Self::arity(name, &a, 3, 3)?;
                let args = a.into_iter().map(|x| self.text(x)).collect();
                lib(n, LibOp::Translate, args)
            }
            "format_datetime" | "format_timespan" => {
                Self::arity(name, &a, 2, 2)?;
                let timespan = n == "format_timespan";
                let want = if timespan { KqlType::Timespan } else { KqlType::Datetime };
                if a[0].t != want {
                    return Err(err(a[0].span, format!("{n}() takes a {want}, not {}", a[0].t)));
                }
                let fmt = Self::const_text(&a[1], "the format")?;
                let items = parse_format(&fmt, timespan).map_err(|m| err(a[1].span, m))?;
                let op = if timespan {
                    LibOp::FormatTimespan(items)
                } else {
                    LibOp::FormatDatetime(items)
                };
                lib(n, op, vec![one(a)])
            }
            "make_datetime" => {
                if !matches!(a.len(), 3 | 5 | 6) {
                    return Err(err(
                        name.span,
                        "make_datetime() takes (year, month, day), (year, month, day, hour, minute) or (year, month, day, hour, minute, second)",
                    ));
                }
                let k = a.len();
                let mut args = Vec::new();
                for (i, x) in a.into_iter().enumerate() {
                    args.push(if i == 5 {
                        Self::real_arg(n, x)?
                    } else {
                        Self::long_arg(n, x)?
                    });
                }
                if k == 3 {
                    args.extend([lit(0i64), lit(0i64)]);
                }
                if k < 6 {
                    args.push(lit(0.0f64));
                }
                lib(n, LibOp::MakeDatetime, args)
            }
            "make_timespan" => {
                Self::arity(name, &a, 2, 4)?;
                let k = a.len();
                let mut args = Vec::new();
                for (i, x) in a.into_iter().enumerate() {
                    // The last argument of the 3- and 4-argument forms is the (real) seconds.
                    args.push(if k > 2 && i == k - 1 {
                        Self::real_arg(n, x)?
                    } else {
                        Self::long_arg(n, x)?
                    });
                }
                // (hour, minute) / (hour, minute, second) / (day, hour, minute, second)
                if k < 4 {
                    args.insert(0, lit(0i64));
                }
                if k == 2 {
                    args.push(lit(0.0f64));
                }
                lib(n, LibOp::MakeTimespan, args)
            }
            "datetime_part" | "datepart" => {
                Self::arity(name, &a, 2, 2)?;
                let part_name = Self::const_text(&a[0], "the date part")?;
                let part = DtPart::parse(&part_name).ok_or_else(|| {
                    err(
                        a[0].span,
                        format!("unknown or unsupported date part `{part_name}` (year, quarter, month, week_of_year, day, dayofyear, hour, minute, second, millisecond, microsecond, nanosecond)"),
                    )
                })?;
                if a[1].t != KqlType::Datetime {
                    return Err(err(a[1].span, format!("{n}() takes a datetime, not {}", a[1].t)));
                }
                lib(
                    n,
                    LibOp::DatetimePart(part),
                    vec![a.into_iter().nth(1).expect("arity").e],
                )
            }
            "dayofyear" | "week_of_year" => {
                Self::arity(name, &a, 1, 1)?;
                if a[0].t != KqlType::Datetime {
                    return Err(err(a[0].span, format!("{n}() takes a datetime, not {}", a[0].t)));
                }
                let part = if n == "dayofyear" {
                    DtPart::DayOfYear
                } else {
                    DtPart::WeekOfYear
                };
                lib(n, LibOp::DatetimePart(part), vec![one(a)])
            }
            "unixtime_seconds_todatetime" | "unixtime_milliseconds_todatetime" => {
                Self::arity(name, &a, 1, 1)?;
                let unit = if n.contains("milli") {
                    UnixUnit::Milliseconds
                } else {
                    UnixUnit::Seconds
                };
                let x = Self::real_arg(n, a.into_iter().next().expect("arity"))?;
                lib(n, LibOp::UnixTime(unit), vec![x])
            }
            "array_concat" | "bag_merge" | "set_union" | "set_intersect" | "set_difference" | "zip" => {
                let (min, max) = match n {
                    "array_concat" => (1, usize::MAX),
                    "bag_merge" => (2, 64),
                    "zip" => (2, 16),
                    _ => (2, usize::MAX),
                };
                Self::arity(name, &a, min, max)?;
                let op = match n {
                    "array_concat" => LibOp::ArrayConcat,
                    "bag_merge" => LibOp::BagMerge,
                    "set_union" => LibOp::Set(SetOp::Union),
                    "set_intersect" => LibOp::Set(SetOp::Intersect),
                    "set_difference" => LibOp::Set(SetOp::Difference),
                    _ => LibOp::Zip,
                };
                let args = a.into_iter().map(|x| Self::dynamic_arg(n, x)).collect::<PResult<_>>()?;
                lib(n, op, args)
            }
            "array_slice" => {
                Self::arity(name, &a, 3, 3)?;
                let mut it = a.into_iter();
                let arr = Self::dynamic_arg(n, it.next().expect("arity"))?;
                let s = Self::long_arg(n, it.next().expect("arity"))?;
                let e = Self::long_arg(n, it.next().expect("arity"))?;
                lib(n, LibOp::ArraySlice, vec![arr, s, e])
            }
            "array_index_of" => {
                Self::arity(name, &a, 2, 5)?;
                let mut it = a.into_iter();
                let arr = Self::dynamic_arg(n, it.next().expect("arity"))?;
                let value = it.next().expect("arity").e;
                let mut args = vec![arr, value];
                for x in it {
                    args.push(Self::long_arg(n, x)?);
                }
                for default in [0i64, -1, 1].into_iter().skip(args.len() - 2) {
                    args.push(lit(default));
                }
                lib(n, LibOp::ArrayIndexOf, args)
            }
            "bag_keys" => {
                Self::arity(name, &a, 1, 1)?;
                let x = Self::dynamic_arg(n, a.into_iter().next().expect("arity"))?;
                lib(n, LibOp::BagKeys, vec![x])
            }
            "bag_remove_keys" => {
                Self::arity(name, &a, 2, 2)?;
                let args = a.into_iter().map(|x| Self::dynamic_arg(n, x)).collect::<PResult<_>>()?;
                lib(n, LibOp::BagRemoveKeys, args)
            }
            "array_sort_asc" | "array_sort_desc" => {
                if a.is_empty() {
                    return Err(err(name.span, format!("{n}() takes an array to sort")));
                }
                if a.len() > 2 || a.get(1).is_some_and(|x| x.t != KqlType::Bool) {
                    return Err(err(
                        name.span,
                        format!(
                            "{n}() with several arrays (one result column per array) is not supported yet; sort one array, with an optional nulls_last flag"
                        ),
                    ));
                }
                let mut it = a.into_iter();
                let arr = Self::dynamic_arg(n, it.next().expect("checked"))?;
                let nulls_last = it.next().map_or_else(|| lit(true), |x| x.e);
                lib(n, LibOp::ArraySort(n == "array_sort_asc"), vec![arr, nulls_last])
            }
            "range" => {
                Self::arity(name, &a, 2, 3)?;
                let t0 = a[0].t;
                let (op, default_step) = match t0 {
                    KqlType::Datetime => (LibOp::RangeDatetime, Self::timespan_lit(36_000_000_000)),
                    KqlType::Timespan => (LibOp::RangeTimespan, Self::timespan_lit(36_000_000_000)),
                    t if t.is_numeric() => {
                        if a.iter().any(|x| x.t == KqlType::Real) {
                            (LibOp::RangeReal, lit(1.0f64))
                        } else {
                            (LibOp::RangeLong, lit(1i64))
                        }
                    }
                    other => {
                        return Err(err(
                            a[0].span,
                            format!("range() takes numbers, datetimes or timespans, not {other}"),
                        ));
                    }
                };
                let step_ok = |t: KqlType| match op {
                    LibOp::RangeDatetime | LibOp::RangeTimespan => t == KqlType::Timespan,
                    _ => t.is_numeric(),
                };
                if a[1].t != t0 && !(t0.is_numeric() && a[1].t.is_numeric()) {
                    return Err(err(a[1].span, format!("range()'s stop must be a {t0} like its start")));
                }
                if let Some(s) = a.get(2).filter(|s| !step_ok(s.t)) {
                    return Err(err(s.span, format!("range()'s step cannot be a {}", s.t)));
                }
                let mut args: Vec<Expr> = a.into_iter().map(|x| x.e).collect();
                if args.len() == 2 {
                    args.push(default_step);
                }
                if op == LibOp::RangeReal {
                    args = args.into_iter().map(|e| cast(e, DataType::Float64)).collect();
                } else if op == LibOp::RangeLong {
                    args = args.into_iter().map(|e| cast(e, DataType::Int64)).collect();
                }
                lib(n, op, args)
            }
            "gettype" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a.into_iter().next().expect("arity");
                match x.t {
                    KqlType::Dynamic => lib(n, LibOp::GetType, vec![x.e]),
                    t => lit(t.name()),
                }
            }
            "isnan" | "isinf" | "isfinite" | "sign" | "log2" | "exp2" | "exp10" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a.into_iter().next().expect("arity");
                if !x.t.is_numeric() {
                    return Err(err(x.span, format!("{n}() takes a number, not {}", x.t)));
                }
                let real = cast(x.e, DataType::Float64);
                let inf = |r: Expr| r.clone().eq(lit(f64::INFINITY)).or(r.eq(lit(f64::NEG_INFINITY)));
                match n {
                    "isnan" => f::isnan(real),
                    "isinf" => inf(real),
                    "isfinite" => f::isnan(real.clone()).not().and(inf(real).not()),
                    "sign" => f::signum(real),
                    "log2" => when(real.clone().lt(lit(0.0f64)), lit(ScalarValue::Float64(None)))
                        .otherwise(f::log2(real))
                        .map_err(|e| df_err(span, e))?,
                    "exp2" => f::power(lit(2.0f64), real),
                    _ => f::power(lit(10.0f64), real),
                }
            }
            "pi" => {
                Self::arity(name, &a, 0, 0)?;
                lit(std::f64::consts::PI)
            }
            "series_fit_line" | "series_fit_2lines" | "series_decompose" | "series_decompose_anomalies"
                if self.lookup(n).is_none() =>
            {
                return Err(err(
                    name.span,
                    format!(
                        "`{n}` returns several values: use it in extend, as `extend (a, b, ...) = {n}(...)` or `extend x = {n}(...)`"
                    ),
                ));
            }
            "row_number" | "prev" | "next" | "row_window_session" => {
                // Lowered by the operators that allow them (extend, project, where, serialize).
                return Err(err(
                    name.span,
                    format!("the window function `{n}` can be used in extend, project, where and serialize only"),
                ));
            }
            _ => {
                let kql_names = crate::plan::call::KNOWN_UNSUPPORTED;
                if kql_names.contains(&n) {
                    return Err(err(name.span, format!("the function `{n}` is not supported yet")));
                }
                return Err(self.unknown_function(name, false));
            }
        };
        Ok(e)
    }

    /// Converts extracted text to `t` (`extract(..., typeof(long))`).
    fn convert_text(&self, text: Expr, t: KqlType, span: Span) -> PResult<Expr> {
        let name = match t {
            KqlType::Long => "tolong",
            KqlType::Int => "toint",
            KqlType::Real => "toreal",
            KqlType::Bool => "tobool",
            KqlType::Datetime => "todatetime",
            KqlType::Timespan => "totimespan",
            KqlType::Guid => "toguid",
            KqlType::Dynamic => return Ok(json("parse_json", JsonOp::Parse, vec![text])),
            KqlType::String => return Ok(text),
            KqlType::Decimal => return Err(err(span, "the decimal type is not supported")),
        };
        self.convert(
            name,
            A {
                e: text,
                t: KqlType::String,
                span,
            },
        )
    }

    fn convert(&self, n: &str, x: A) -> PResult<Expr> {
        let target = match n {
            "tolong" => KqlType::Long,
            "toint" => KqlType::Int,
            "todouble" | "toreal" => KqlType::Real,
            "tobool" | "toboolean" => KqlType::Bool,
            "todatetime" => KqlType::Datetime,
            "totimespan" => KqlType::Timespan,
            _ => KqlType::Guid,
        };
        if x.t == target {
            return Ok(x.e);
        }
        Ok(match (x.t, target) {
            (KqlType::Dynamic, _) => self.coerce(x.e, KqlType::Dynamic, target),
            (KqlType::String | KqlType::Guid, KqlType::Long) => scalar_fn(n, ScalarOp::ParseLong, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Int) => scalar_fn(n, ScalarOp::ParseInt, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Real) => scalar_fn(n, ScalarOp::ParseReal, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Bool) => scalar_fn(n, ScalarOp::ParseBool, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Datetime) => scalar_fn(n, ScalarOp::ParseDatetime, vec![x.e]),
            (KqlType::String | KqlType::Guid, KqlType::Timespan) => scalar_fn(n, ScalarOp::ParseTimespan, vec![x.e]),
            (KqlType::String, KqlType::Guid) => scalar_fn(n, ScalarOp::ParseGuid, vec![x.e]),
            (a, b) if a.is_numeric() && b.is_numeric() => {
                cast(x.e, b.arrow().expect("numeric types have an Arrow type"))
            }
            (KqlType::Bool, b) if b.is_numeric() => cast(x.e, b.arrow().expect("numeric types have an Arrow type")),
            (a, KqlType::Bool) if a.is_numeric() => x.e.not_eq(lit(0i64)),
            (KqlType::Timespan, KqlType::Long) => binary(
                cast(x.e, DataType::Int64),
                datafusion::logical_expr::Operator::Divide,
                lit(100i64),
            ),
            (KqlType::Datetime, KqlType::Long) => binary(
                cast(x.e, DataType::Int64),
                datafusion::logical_expr::Operator::Divide,
                lit(100i64),
            ),
            (a, b) => return Err(err(x.span, format!("{n}() cannot convert {a} to {b}"))),
        })
    }

    fn math(&self, n: &str, a: Vec<A>, span: Span) -> PResult<Expr> {
        let mut it = a.into_iter();
        let Some(x) = it.next() else {
            return Err(err(span, format!("{n}() needs a number")));
        };
        let abs_of_timespan = n == "abs" && x.t == KqlType::Timespan;
        if !(x.t.is_numeric() || abs_of_timespan) {
            return Err(err(x.span, format!("{n}() takes a number, not {}", x.t)));
        }
        let real = cast(x.e.clone(), DataType::Float64);
        Ok(match n {
            "abs" if x.t == KqlType::Timespan => when(
                x.e.clone().lt(lit(crate::value::timespan_scalar(Some(0)))),
                binary(
                    lit(crate::value::timespan_scalar(Some(0))),
                    datafusion::logical_expr::Operator::Minus,
                    x.e.clone(),
                ),
            )
            .otherwise(x.e)
            .map_err(|e| df_err(span, e))?,
            "abs" => f::abs(x.e),
            "floor" => f::floor(real),
            "ceiling" => f::ceil(real),
            // sqrt, log and log10 of a negative number are null (their documentation pages).
            "sqrt" | "log" | "log10" => {
                let v = match n {
                    "sqrt" => f::sqrt(real.clone()),
                    "log" => f::ln(real.clone()),
                    _ => f::log10(real.clone()),
                };
                when(real.lt(lit(0.0f64)), lit(ScalarValue::Float64(None)))
                    .otherwise(v)
                    .map_err(|e| df_err(span, e))?
            }
            "exp" => f::exp(real),
            "pow" => f::power(
                real,
                cast(
                    it.next().ok_or_else(|| err(span, "pow() takes two numbers"))?.e,
                    DataType::Float64,
                ),
            ),
            _ => match it.next() {
                Some(p) => f::round(vec![real, cast(p.e, DataType::Int64)]),
                None => f::round(vec![real]),
            },
        })
    }

    fn toscalar(&mut self, args: &[Arg], span: Span) -> PResult<Expr> {
        let [Arg::Positional(q)] = args else {
            return Err(err(span, "toscalar() takes one tabular expression"));
        };
        let plan = self.tabular(q)?;
        let first = plan.schema().field(0).name().clone();
        let sub = LogicalPlanBuilder::from(plan)
            .limit(0, Some(1))
            .and_then(|b| b.project(vec![ident(first)]))
            .and_then(|b| b.build())
            .map_err(|e| df_err(span, e))?;
        Ok(Expr::ScalarSubquery(datafusion::logical_expr::Subquery {
            subquery: Arc::new(sub),
            outer_ref_columns: vec![],
            spans: Default::default(),
        }))
    }

    /// An aggregation in `summarize`: the expression and Kusto's default column name.
    pub fn aggregate(
        &mut self,
        e: &kql::Expr,
        schema: &DFSchemaRef,
        group_names: &[String],
    ) -> PResult<Vec<(Expr, String)>> {
        let kql::Expr::Call {
            receiver: None,
            name,
            args,
            span,
        } = e
        else {
            // A scalar expression over aggregates, e.g. `summarize x = count() * 2`, is not supported.
            return Err(err(
                e.span(),
                "summarize takes aggregation functions (count(), sum(x), make_set(x), ...)",
            ));
        };
        let n = name.name.as_str();
        // `make_list(tostring(x))` is `list_x`: the argument's implicit column name.
        let col_name = super::ops::implicit_name;
        let first_name = args.first().and_then(|a| col_name(a.expr()));
        let default = |prefix: &str| match &first_name {
            Some(c) => format!("{prefix}_{c}"),
            None => format!("{prefix}_"),
        };
        // argmax/argmin are the obsolete spellings.
        if matches!(n, "arg_max" | "arg_min" | "argmax" | "argmin") {
            return self.arg_max(matches!(n, "arg_max" | "argmax"), args, schema, group_names, *span);
        }
        if matches!(n, "any" | "take_any") && args.iter().any(|a| matches!(a.expr(), kql::Expr::Star(_))) {
            let cols: Vec<String> = schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .filter(|c| !group_names.contains(c))
                .collect();
            let order = self.serial_order_by();
            return Ok(cols
                .into_iter()
                .filter(|c| self.serial_ord.as_ref() != Some(c))
                .map(|c| (agg::first_value(ident(&c), order.clone()), c))
                .collect());
        }
        let a = self.lower_args(args, schema)?;
        // Over serialized rows, the collecting aggregations get each row's position too.
        let ord_arg = self.serial_ord.as_ref().map(|o| cast(ident(o), DataType::Int64));
        let udaf = |u: CollectUdaf, x: Expr| {
            let mut call_args = vec![x];
            call_args.extend(ord_arg.clone());
            Arc::new(AggregateUDF::new_from_impl(u)).call(call_args)
        };
        let max_of = |a: &[A], i: usize| -> PResult<usize> {
            match a.get(i).map(|x| constant_value(&x.e)) {
                None => Ok(1_048_576),
                Some(Some(ScalarValue::Int64(Some(m)))) if m > 0 => Ok(m as usize),
                _ => Err(err(*span, "the size limit must be a positive constant")),
            }
        };
        let cond = |a: &A| -> PResult<Expr> {
            if a.t != KqlType::Bool {
                return Err(err(a.span, "the condition must be bool"));
            }
            Ok(a.e.clone())
        };
        let only_if = |c: Expr, x: Expr| when(c, x).end();
        // Kusto's default value over no (non-null) input: 0 for sums, variances and standard
        // deviations (summarize operator page, "Default values of aggregations").
        let zero_default = |e: Expr, t: KqlType| -> Expr {
            let zero = match t {
                KqlType::Timespan => crate::value::timespan_scalar(Some(0)),
                KqlType::Real | KqlType::Decimal => ScalarValue::Float64(Some(0.0)),
                _ => ScalarValue::Int64(Some(0)),
            };
            f::coalesce(vec![e, lit(zero)])
        };
        // avg over no (non-null) values divides 0 by 0: NaN (summarize operator page, default
        // values example; its table says null, the example wins).
        let nan_default = |e: Expr| f::coalesce(vec![e, lit(f64::NAN)]);
        let (expr, name_) = match n {
            "count" if a.len() == 1 && a[0].t == KqlType::Bool => {
                // count(predicate) counts the rows where it holds, like countif.
                let c = cond(&a[0])?;
                (
                    agg::count(only_if(c, lit(1i64)).map_err(|x| df_err(*span, x))?),
                    "count_".to_string(),
                )
            }
            "count" => {
                // count(x) counts every row, nulls included (summarize operator page: "The
                // standard count function includes null values in its count").
                if a.len() > 1 {
                    return Err(err(
                        *span,
                        "count() takes no arguments or one (use countif(predicate) or dcount(column))",
                    ));
                }
                let name = if a.is_empty() {
                    "count_".to_string()
                } else {
                    default("count")
                };
                (agg::count(lit(1i64)), name)
            }
            "countif" => {
                Self::arity(name, &a, 1, 1)?;
                let c = cond(&a[0])?;
                (
                    agg::count(only_if(c, lit(1i64)).map_err(|x| df_err(*span, x))?),
                    "countif_".to_string(),
                )
            }
            "dcount" => {
                Self::arity(name, &a, 1, 2)?;
                (agg::count_distinct(a[0].e.clone()), default("dcount"))
            }
            "dcountif" => {
                Self::arity(name, &a, 2, 3)?;
                let c = cond(&a[1])?;
                (
                    agg::count_distinct(only_if(c, a[0].e.clone()).map_err(|x| df_err(*span, x))?),
                    default("dcountif"),
                )
            }
            "sum" | "avg" | "min" | "max" | "stdev" | "variance" => {
                Self::arity(name, &a, 1, 1)?;
                let x = a[0].e.clone();
                if matches!(n, "sum" | "avg" | "stdev" | "variance")
                    && !(a[0].t.is_numeric() || (n == "sum" && a[0].t == KqlType::Timespan))
                {
                    return Err(err(a[0].span, format!("{n}() takes numbers, not {}", a[0].t)));
                }
                let e = match n {
                    "sum" => zero_default(agg::sum(x), a[0].t),
                    "avg" => nan_default(agg::avg(x)),
                    "min" => agg::min(x),
                    "max" => agg::max(x),
                    "stdev" => zero_default(agg::stddev(x), KqlType::Real),
                    _ => zero_default(agg::var_sample(x), KqlType::Real),
                };
                (e, default(n))
            }
            "sumif" | "avgif" | "minif" | "maxif" => {
                Self::arity(name, &a, 2, 2)?;
                let c = cond(&a[1])?;
                let x = only_if(c, a[0].e.clone()).map_err(|x| df_err(*span, x))?;
                let e = match n {
                    "sumif" => zero_default(agg::sum(x), a[0].t),
                    "avgif" => nan_default(agg::avg(x)),
                    "minif" => agg::min(x),
                    _ => agg::max(x),
                };
                (e, default(n))
            }
            "make_set" | "makeset" | "make_list" | "makelist" => {
                Self::arity(name, &a, 1, 2)?;
                let set = n.contains("set");
                let m = max_of(&a, 1)?;
                let u = CollectUdaf::new(n, if set { Collect::Set } else { Collect::List }, m);
                (udaf(u, a[0].e.clone()), default(if set { "set" } else { "list" }))
            }
            "make_set_if" | "make_list_if" => {
                Self::arity(name, &a, 2, 3)?;
                let set = n.contains("set");
                let c = cond(&a[1])?;
                let m = max_of(&a, 2)?;
                let u = CollectUdaf::new(n, if set { Collect::Set } else { Collect::List }, m);
                (
                    udaf(u, only_if(c, a[0].e.clone()).map_err(|x| df_err(*span, x))?),
                    default(if set { "set" } else { "list" }),
                )
            }
            "make_bag" => {
                Self::arity(name, &a, 1, 2)?;
                if a[0].t != KqlType::Dynamic {
                    return Err(err(a[0].span, "make_bag() takes dynamic property bags"));
                }
                (
                    udaf(CollectUdaf::new(n, Collect::Bag, max_of(&a, 1)?), a[0].e.clone()),
                    default("bag"),
                )
            }
            "any" | "take_any" => {
                Self::arity(name, &a, 1, usize::MAX)?;
                let order = self.serial_order_by();
                // take_any(x) is named x, the deprecated any(x) any_x (take_any page).
                let name_of = |x: &kql::Expr| match (n, col_name(x)) {
                    ("take_any", Some(c)) => c,
                    (_, Some(c)) => format!("any_{c}"),
                    (_, None) => "any_".to_string(),
                };
                if a.len() == 1 {
                    // One column: a non-null, non-empty value when the group has one (take_any
                    // page, remarks).
                    let x = a[0].e.clone();
                    let present = if a[0].t == KqlType::String {
                        x.clone().is_not_null().and(x.clone().not_eq(lit("")))
                    } else {
                        x.clone().is_not_null()
                    };
                    // (The builder sets ORDER BY and FILTER together: built alone, FILTER drops
                    // the ordering.)
                    let mut b = datafusion::logical_expr::ExprFunctionExt::filter(agg::first_value(x, vec![]), present);
                    if !order.is_empty() {
                        b = datafusion::logical_expr::ExprFunctionExt::order_by(b, order);
                    }
                    let e = b.build().map_err(|e| df_err(*span, e))?;
                    (e, name_of(args[0].expr()))
                } else {
                    // Several expressions: all from one record.
                    return Ok(a
                        .iter()
                        .zip(args)
                        .map(|(x, arg)| (agg::first_value(x.e.clone(), order.clone()), name_of(arg.expr())))
                        .collect());
                }
            }
            "stdevp" | "variancep" => {
                Self::arity(name, &a, 1, 1)?;
                if !a[0].t.is_numeric() {
                    return Err(err(a[0].span, format!("{n}() takes numbers, not {}", a[0].t)));
                }
                let x = a[0].e.clone();
                let e = zero_default(
                    if n == "stdevp" {
                        agg::stddev_pop(x)
                    } else {
                        agg::var_pop(x)
                    },
                    KqlType::Real,
                );
                (e, default(n))
            }
            "count_distinct" => {
                Self::arity(name, &a, 1, 1)?;
                (agg::count_distinct(a[0].e.clone()), default(n))
            }
            "make_list_with_nulls" | "make_set_with_nulls" => {
                Self::arity(name, &a, 1, 2)?;
                let set = n.contains("set");
                let m = max_of(&a, 1)?;
                let kind = if set {
                    Collect::SetWithNulls
                } else {
                    Collect::ListWithNulls
                };
                (
                    udaf(CollectUdaf::new(n, kind, m), a[0].e.clone()),
                    default(if set { "set" } else { "list" }),
                )
            }
            "percentile" | "percentiles" => {
                if n == "percentile" {
                    Self::arity(name, &a, 2, 2)?;
                } else {
                    Self::arity(name, &a, 2, usize::MAX)?;
                }
                let x = &a[0];
                let real = match x.t {
                    KqlType::Real => true,
                    KqlType::Int | KqlType::Long | KqlType::Datetime | KqlType::Timespan => false,
                    t => {
                        return Err(err(
                            x.span,
                            format!("{n}() takes numbers, datetimes or timespans, not {t}"),
                        ));
                    }
                };
                let arrow = x.t.arrow().expect("the types above have an Arrow type");
                let input = cast(x.e.clone(), if real { DataType::Float64 } else { DataType::Int64 });
                let mut out = Vec::new();
                for p in &a[1..] {
                    let pv = match constant_value(&p.e) {
                        Some(ScalarValue::Int64(Some(v))) => v as f64,
                        Some(ScalarValue::Int32(Some(v))) => f64::from(v),
                        Some(ScalarValue::Float64(Some(v))) => v,
                        _ => return Err(err(p.span, format!("{n}()'s percentile must be a constant number"))),
                    };
                    if !(0.0..=100.0).contains(&pv) {
                        return Err(err(p.span, "a percentile must be between 0 and 100"));
                    }
                    let label = crate::functions::scalar::format_real(pv).replace(['.', '-'], "_");
                    // One UDAF name per percentile, so `percentiles(x, 5, 50)` has distinct aggregates.
                    let udaf_name = format!("percentile_{label}");
                    let u = Arc::new(AggregateUDF::new_from_impl(PercentileUdaf::new(&udaf_name, pv, real)));
                    out.push((
                        cast(u.call(vec![input.clone()]), arrow.clone()),
                        format!("{}_{label}", default("percentile")),
                    ));
                }
                return Ok(out);
            }
            _ => {
                if KNOWN_UNSUPPORTED_AGGREGATES.contains(&n) {
                    return Err(err(name.span, format!("the aggregation `{n}` is not supported yet")));
                }
                if FUNCTION_NAMES.contains(&n) || self.lookup(n).is_some() {
                    return Err(err(name.span, format!("`{n}` is not an aggregation function")));
                }
                return Err(self.unknown_function(name, false));
            }
        };
        Ok(vec![(expr, name_)])
    }

    /// The ordering that follows the input's serialized order (none when it has no order).
    fn serial_order_by(&self) -> Vec<SortExpr> {
        self.serial_ord
            .iter()
            .map(|o| SortExpr::new(ident(o), true, false))
            .collect()
    }

    /// `arg_max(by, col, ...)` / `arg_max(by, *)`: the row where `by` is largest, per group.
    fn arg_max(
        &mut self,
        max: bool,
        args: &[Arg],
        schema: &DFSchemaRef,
        group_names: &[String],
        span: Span,
    ) -> PResult<Vec<(Expr, String)>> {
        let Some(Arg::Positional(by)) = args.first() else {
            return Err(err(span, "arg_max/arg_min take an expression to maximize and columns"));
        };
        let by_e = self.scalar(by, schema)?;
        let by_name = match by {
            kql::Expr::Name(i) => i.name.clone(),
            _ => format!("{}_", if max { "max" } else { "min" }),
        };
        // Ties go to the first row in serialized order, when the rows have one.
        let mut order = vec![SortExpr::new(by_e.clone(), !max, false)];
        order.extend(self.serial_order_by());
        let mut out = vec![(
            if max {
                agg::max(by_e.clone())
            } else {
                agg::min(by_e.clone())
            },
            by_name.clone(),
        )];
        for a in &args[1..] {
            match a.expr() {
                kql::Expr::Star(_) => {
                    for fld in schema.fields() {
                        let c = fld.name();
                        if c == &by_name
                            || group_names.contains(c)
                            || out.iter().any(|(_, n)| n == c)
                            || self.serial_ord.as_ref() == Some(c)
                        {
                            continue;
                        }
                        out.push((agg::first_value(ident(c), order.clone()), c.clone()));
                    }
                }
                kql::Expr::Name(i) => out.push((
                    agg::first_value(self.scalar(a.expr(), schema)?, order.clone()),
                    i.name.clone(),
                )),
                other => {
                    let e = self.scalar(other, schema)?;
                    let nm = self.next_column_name(&|_| false);
                    out.push((agg::first_value(e, order.clone()), nm));
                }
            }
        }
        Ok(out)
    }
}

fn binary(l: Expr, op: datafusion::logical_expr::Operator, r: Expr) -> Expr {
    datafusion::logical_expr::binary_expr(l, op, r)
}

trait Pipe: Sized {
    fn pipe<T>(self, f: impl FnOnce(Self) -> T) -> T {
        f(self)
    }
}
impl Pipe for Expr {}

/// Functions of Kusto's library that queries use but this engine does not run yet: named in the
/// error so the user knows it is a gap, not a typo.
pub const KNOWN_UNSUPPORTED: &[&str] = &[
    "parse_ipv4_mask",
    "ipv6_is_match",
    "parse_user_agent",
    "hash_md5",
    "hash_sha256",
    "hash_sha1",
    "series_stats",
    "todecimal",
    "isascii",
    "isutf8",
    "current_cluster_endpoint",
    "cursor_after",
    "rand",
    "new_guid",
    "toscalar_with_ttl",
    "has_any_index",
    "weekofyear",
];

const KNOWN_UNSUPPORTED_AGGREGATES: &[&str] = &[
    "percentilew",
    "percentiles_array",
    "tdigest",
    "hll",
    "hll_merge",
    "dcount_hll",
    "binary_all_and",
    "binary_all_or",
    "buildschema",
    "count_distinctif",
    "avg_if",
];

/// A JSONPath of the simple forms Kusto's extractjson documents: `$.a.b`, `$['a']`, `$.a[0]`.
fn json_path(text: &str) -> Option<Vec<PathStep>> {
    let mut rest = text.trim().strip_prefix('$')?;
    let mut path = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            path.push(PathStep::Key(r[..end].to_string()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let close = r.find(']')?;
            let inner = r[..close].trim();
            if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|i| i.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|i| i.strip_suffix('"')))
            {
                path.push(PathStep::Key(q.to_string()));
            } else {
                path.push(PathStep::Index(inner.parse().ok()?));
            }
            rest = &r[close + 1..];
        } else {
            return None;
        }
    }
    Some(path)
}
