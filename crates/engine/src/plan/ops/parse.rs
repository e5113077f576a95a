//! `parse` and `parse-where`: columns extracted from a string by a pattern.

use super::{build, names_of, project};
use crate::functions::dynamic::JsonOp;
use crate::functions::regex::{RegexFn, RegexOp};
use crate::functions::scalar::ScalarOp;
use crate::plan::call::scalar_fn;
use crate::plan::expr::udf;
use crate::plan::{PResult, Planner, err};
use crate::types::KqlType;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::ident;
use kql::Span;

impl Planner<'_> {
    pub(super) fn parse_op(
        &mut self,
        plan: LogicalPlan,
        kind: kql::ParseKind,
        params: &[kql::OpParam],
        expr: &kql::Expr,
        pattern: &[kql::ParsePart],
        span: Span,
    ) -> PResult<LogicalPlan> {
        let mut regex_mode = false;
        // kind=relaxed: typed columns take any text between the delimiters and are null when it
        // doesn't convert (parse operator page, "Relaxed mode").
        let mut relaxed = false;
        let mut flags = String::new();
        for p in params {
            match (p.name.name.as_str(), &p.value) {
                ("kind", kql::Expr::Name(v)) if v.name == "simple" => {}
                ("kind", kql::Expr::Name(v)) if v.name == "regex" => regex_mode = true,
                ("kind", kql::Expr::Name(v)) if v.name == "relaxed" => relaxed = true,
                ("kind", kql::Expr::Name(v)) => {
                    return Err(err(v.span, format!("parse kind={} is not supported yet", v.name)));
                }
                ("flags", kql::Expr::Name(v)) => flags = v.name.clone(),
                (n, _) => return Err(err(p.name.span, format!("unknown parse parameter `{n}`"))),
            }
        }
        let schema = plan.schema().clone();
        let source = self.scalar(expr, &schema)?;
        let st = self.type_of(&source, &schema, expr.span())?;
        let source = match st {
            KqlType::String => source,
            KqlType::Dynamic => self.coerce(source, st, KqlType::String),
            _ => scalar_fn("tostring", ScalarOp::ToString, vec![source]),
        };
        let mut re = String::from("^");
        // (name, type, capture group number): a regex-mode delimiter may hold groups of its own.
        let mut cols: Vec<(String, KqlType, usize)> = Vec::new();
        let mut groups = 0usize;
        for (i, part) in pattern.iter().enumerate() {
            let last = i + 1 == pattern.len();
            match part {
                kql::ParsePart::Literal(s, _) => re.push_str(&if regex_mode {
                    groups += regex::Regex::new(s).map_or(0, |r| r.captures_len().saturating_sub(1));
                    format!("(?:{s})")
                } else {
                    regex::escape(s)
                }),
                kql::ParsePart::Star(_) => re.push_str(if last { ".*" } else { ".*?" }),
                kql::ParsePart::Column { name, ty } => {
                    let t = match ty {
                        Some(t) => KqlType::from_name(&t.name)
                            .ok_or_else(|| err(t.span, format!("unknown type `{}`", t.name)))?,
                        None => KqlType::String,
                    };
                    // In regex mode a string (or other non-numeric) column is greedy: the page's
                    // "Regex mode with regex flags" example captures up to the last delimiter
                    // unless `flags=U`, though its text says `string` becomes `.*?`.
                    let group = match (t, regex_mode) {
                        (KqlType::String, true) => ".*",
                        (KqlType::Long | KqlType::Int, true) => r"\-?\d+",
                        (KqlType::Real, true) => r"\-?\d+(?:\.\d+)?(?:[eE][\-+]?\d+)?",
                        (_, true) => ".*",
                        // Relaxed: the typed text when it is there, else whatever text (null).
                        (KqlType::Long | KqlType::Int, _) if relaxed => r"\-?\d+|.*?",
                        (KqlType::Real, _) if relaxed => r"\-?\d+(?:\.\d+)?(?:[eE][\-+]?\d+)?|.*?",
                        _ if relaxed && last => ".*",
                        _ if relaxed => ".*?",
                        (KqlType::Long | KqlType::Int, _) => r"\-?\d+",
                        (KqlType::Real, _) => r"\-?\d+(?:\.\d+)?(?:[eE][\-+]?\d+)?",
                        _ if last => ".*",
                        _ => ".*?",
                    };
                    re.push_str(&format!("({group})"));
                    groups += 1;
                    cols.push((name.name.clone(), t, groups));
                }
            }
        }
        if matches!(pattern.last(), Some(kql::ParsePart::Column { .. })) && !regex_mode {
            re.push('$');
        }
        let full = if flags.is_empty() {
            re.clone()
        } else {
            format!("(?{})({re})", flags.to_ascii_lowercase().replace('u', "U"))
        };
        let offset = usize::from(!flags.is_empty());
        let mut plan = plan;
        if kind == kql::ParseKind::ParseWhere {
            let f = RegexFn::new("parse-where", RegexOp::IsMatch, &full).map_err(|m| err(span, m))?;
            plan = build(
                LogicalPlanBuilder::from(plan).filter(udf(f).call(vec![source.clone()])),
                span,
            )?;
        }
        let names = names_of(&plan);
        let mut out: Vec<Expr> = names
            .iter()
            .filter(|n| !cols.iter().any(|(c, _, _)| c == *n))
            .map(ident)
            .collect();
        for (name, t, group) in cols.iter() {
            let f = RegexFn::new("parse", RegexOp::Extract(group + offset), &full).map_err(|m| err(span, m))?;
            let text = udf(f).call(vec![source.clone()]);
            let typed = match t {
                KqlType::String => text,
                KqlType::Long => scalar_fn("tolong", ScalarOp::ParseLong, vec![text]),
                KqlType::Int => scalar_fn("toint", ScalarOp::ParseInt, vec![text]),
                KqlType::Real => scalar_fn("toreal", ScalarOp::ParseReal, vec![text]),
                KqlType::Bool => scalar_fn("tobool", ScalarOp::ParseBool, vec![text]),
                KqlType::Datetime => scalar_fn("todatetime", ScalarOp::ParseDatetime, vec![text]),
                KqlType::Timespan => scalar_fn("totimespan", ScalarOp::ParseTimespan, vec![text]),
                KqlType::Dynamic => crate::plan::expr::json("parse_json", JsonOp::Parse, vec![text]),
                other => return Err(err(span, format!("parse into {other} is not supported"))),
            };
            out.push(typed.alias(name));
        }
        project(plan, out, span)
    }
}
