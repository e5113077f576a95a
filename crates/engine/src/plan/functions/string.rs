//! String functions: `strcat`, `substring`, `indexof`, `replace_*`, `extract`, `trim`, `split`,
//! `countof`, `translate`, Unicode code points, `parse_command_line`, ...

use super::ScalarCall;
use crate::functions::dynamic::JsonOp;
use crate::functions::library::LibOp;
use crate::functions::regex::RegexOp;
use crate::plan::call::{binary, lib, regex_fn};
use crate::plan::expr::{constant_value, json};
use crate::plan::{PResult, Planner, df_err, err};
use crate::types::KqlType;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::functions::expr_fn as f;
use datafusion::logical_expr::{Expr, cast, lit, when};

/// `strcat`.
pub(crate) fn lower_strcat(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    if a.is_empty() {
        return Err(err(span, "strcat() needs at least one argument"));
    }
    let parts: Vec<Expr> = a.into_iter().map(|x| p.text(x)).collect();
    Ok(f::concat(parts))
}

/// `strcat_delim`.
pub(crate) fn lower_strcat_delim(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    if a.len() < 2 {
        return Err(err(span, "strcat_delim() takes a delimiter and values"));
    }
    let mut it = a.into_iter();
    let d = p.text(it.next().expect("len checked"));
    Ok(f::concat_ws(d, it.map(|x| p.text(x)).collect()))
}

/// `strlen`.
pub(crate) fn lower_strlen(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    Ok(f::character_length(
        p.text(
            a.into_iter()
                .next()
                .ok_or_else(|| err(span, "strlen() takes a string"))?,
        ),
    ))
}

/// `tolower`.
pub(crate) fn lower_tolower(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    Ok(f::lower(
        p.text(
            a.into_iter()
                .next()
                .ok_or_else(|| err(span, "tolower() takes a string"))?,
        ),
    ))
}

/// `toupper`.
pub(crate) fn lower_toupper(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { span, args: a, .. } = c;
    Ok(f::upper(
        p.text(
            a.into_iter()
                .next()
                .ok_or_else(|| err(span, "toupper() takes a string"))?,
        ),
    ))
}

/// `substring`.
pub(crate) fn lower_substring(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, args: a, span, ..
    } = c;
    // Kusto: a negative start counts from the end of the string (documented:
    // substring("123456", -2, 2) is "56"), clamped at the first character; a negative
    // length takes nothing. DataFusion's substr is 1-based and fails on a negative length,
    // which a filter evaluated over a whole batch would reach on rows it discards.
    use datafusion::logical_expr::Operator::Plus;
    Planner::arity(name, &a, 2, 3)?;
    let mut it = a.into_iter();
    let s = p.text(it.next().expect("arity"));
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
    Ok(match it.next() {
        Some(len) => {
            let len = cast(len.e, DataType::Int64);
            let len = when(len.clone().lt(lit(0i64)), lit(0i64))
                .otherwise(len)
                .map_err(|x| df_err(span, x))?;
            f::substring(s, one_based, len)
        }
        None => f::substr(s, one_based),
    })
}

/// `indexof`.
pub(crate) fn lower_indexof(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    // indexof(string, match[, start[, length[, occurrence]]]): defaults 0, -1, 1.
    let mut it = a.into_iter();
    let mut args = vec![p.text(it.next().expect("2")), p.text(it.next().expect("2"))];
    for x in it {
        args.push(Planner::long_arg(n, x)?);
    }
    for default in [0i64, -1, 1].into_iter().skip(args.len() - 2) {
        args.push(lit(default));
    }
    Ok(lib(n, LibOp::IndexOf, args))
}

/// `replace`, `replace_regex`, `replace_string`.
pub(crate) fn lower_replace(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, span, args: a, ..
    } = c;
    let n = name.name.as_str();
    let mut it = a.into_iter();
    let (x, y, z) = (it.next().expect("3"), it.next().expect("3"), it.next().expect("3"));
    Ok(match n {
        "replace_string" => f::replace(p.text(x), p.text(y), p.text(z)),
        // replace_regex(text, regex, rewrite); the obsolete replace(regex, rewrite, text).
        "replace_regex" => {
            let pat = Planner::const_text(&y, "the regular expression")?;
            let rw = Planner::const_text(&z, "the rewrite pattern")?;
            regex_fn(n, RegexOp::Replace(rw), &pat, vec![p.text(x)], span)?
        }
        _ => {
            let pat = Planner::const_text(&x, "the regular expression")?;
            let rw = Planner::const_text(&y, "the rewrite pattern")?;
            regex_fn(n, RegexOp::Replace(rw), &pat, vec![p.text(z)], span)?
        }
    })
}

/// `extract`.
pub(crate) fn lower_extract(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name,
        span,
        args: a,
        result_type,
        ..
    } = c;
    let n = name.name.as_str();
    let pat = Planner::const_text(&a[0], "the regular expression")?;
    let group = match constant_value(&a[1].e) {
        Some(ScalarValue::Int64(Some(g))) if g >= 0 => g as usize,
        _ => {
            return Err(err(
                a[1].span,
                "the capture group must be a constant non-negative number",
            ));
        }
    };
    let text = p.text(a.into_iter().nth(2).expect("arity"));
    let found = regex_fn(n, RegexOp::Extract(group), &pat, vec![text], span)?;
    Ok(match result_type {
        None | Some(KqlType::String) => found,
        Some(t) => p.convert_text(found, t, span)?,
    })
}

/// `extract_all`, `extractall`.
pub(crate) fn lower_extract_all(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, args: a, span, ..
    } = c;
    let n = name.name.as_str();
    // extract_all(regex, [captureGroups,] source)
    let pat = Planner::const_text(&a[0], "the regular expression")?;
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
    let text = p.text(a.into_iter().last().expect("arity"));
    regex_fn(n, RegexOp::ExtractAll(groups), &pat, vec![text], span)
}

/// `trim`, `trim_end`, `trim_start`.
pub(crate) fn lower_trim(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, span, args: a, ..
    } = c;
    let n = name.name.as_str();
    let pat = Planner::const_text(&a[0], "the regular expression")?;
    let text = p.text(a.into_iter().nth(1).expect("arity"));
    let op = match n {
        "trim" => RegexOp::Trim(true, true),
        "trim_start" => RegexOp::Trim(true, false),
        _ => RegexOp::Trim(false, true),
    };
    regex_fn(n, op, &pat, vec![text], span)
}

/// `split`.
pub(crate) fn lower_split(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let mut it = a.into_iter();
    let (s, d) = (p.text(it.next().expect("arity")), p.text(it.next().expect("arity")));
    let mut args = vec![s, d];
    if let Some(i) = it.next() {
        args.push(Planner::long_arg(n, i)?);
    }
    Ok(json("split", JsonOp::Split, args))
}

/// `strcat_array`.
pub(crate) fn lower_strcat_array(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let mut it = a.into_iter();
    let (arr, d) = (it.next().expect("2"), it.next().expect("2"));
    if arr.t != KqlType::Dynamic {
        return Err(err(arr.span, "strcat_array() takes a dynamic array"));
    }
    let d = p.text(d);
    Ok(json(n, JsonOp::StrcatArray, vec![arr.e, d]))
}

/// `unicode_codepoints_to_string`, `make_string`.
pub(crate) fn lower_codepoints_to_string(_p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let mut args = Vec::new();
    for x in a {
        args.push(match x.t {
            KqlType::Dynamic => x.e,
            _ => Planner::long_arg(n, x)?,
        });
    }
    Ok(lib(n, LibOp::CodepointsToString, args))
}

/// `unicode_codepoints_from_string`, `to_utf8`.
pub(crate) fn lower_codepoints_from_string(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let x = p.text(a.into_iter().next().expect("arity checked"));
    Ok(lib(n, LibOp::CodepointsFromString, vec![x]))
}

/// `parse_command_line`.
pub(crate) fn lower_parse_command_line(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    match constant_value(&a[1].e) {
        Some(ScalarValue::Utf8(Some(p))) if p.eq_ignore_ascii_case("windows") => {}
        _ => {
            return Err(err(
                a[1].span,
                "parse_command_line() supports the \"windows\" parser only",
            ));
        }
    }
    let x = p.text(a.into_iter().next().expect("arity checked"));
    Ok(lib(n, LibOp::ParseCommandLine, vec![x]))
}

/// `countof`.
pub(crate) fn lower_countof(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall {
        name, span, args: a, ..
    } = c;
    let n = name.name.as_str();
    let kind = match a.get(2) {
        Some(k) => Planner::const_text(k, "countof()'s kind")?,
        None => "normal".to_string(),
    };
    let mut it = a.into_iter();
    let source = p.text(it.next().expect("arity"));
    let search = it.next().expect("arity");
    Ok(match kind.as_str() {
        "normal" => lib(n, LibOp::CountOf, vec![source, p.text(search)]),
        "regex" => {
            let pat = Planner::const_text(&search, "countof()'s regular expression")?;
            regex_fn(n, RegexOp::Count, &pat, vec![source], span)?
        }
        other => {
            return Err(err(
                span,
                format!("countof()'s kind must be \"normal\" or \"regex\", not \"{other}\""),
            ));
        }
    })
}

/// `strrep`.
pub(crate) fn lower_strrep(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let mut it = a.into_iter();
    let v = p.text(it.next().expect("arity"));
    let times = Planner::long_arg(n, it.next().expect("arity"))?;
    let delim = it.next().map_or_else(|| lit(""), |d| p.text(d));
    Ok(lib(n, LibOp::StrRep, vec![v, times, delim]))
}

/// `translate`.
pub(crate) fn lower_translate(p: &mut Planner<'_>, c: ScalarCall<'_>) -> PResult<Expr> {
    let ScalarCall { name, args: a, .. } = c;
    let n = name.name.as_str();
    let args = a.into_iter().map(|x| p.text(x)).collect();
    Ok(lib(n, LibOp::Translate, args))
}
