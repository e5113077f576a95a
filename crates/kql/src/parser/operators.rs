//! Pipelines and tabular operators: `| where`, `extend`, `summarize`, `join`, `make-series`,
//! `scan`, ... and the source operators that start a pipeline (`print`, `union`, `datatable`).

use super::{PResult, Parser};
use crate::ast::*;
use crate::diag::{Diagnostic, closest};
use crate::lexer::Tok;
use crate::span::Span;

/// Every tabular operator name the parser knows, for "did you mean" and error messages.
pub const OPERATOR_NAMES: &[&str] = &[
    "as",
    "assert-schema",
    "consume",
    "count",
    "distinct",
    "evaluate",
    "extend",
    "externaldata",
    "facet",
    "filter",
    "find",
    "fork",
    "getschema",
    "invoke",
    "join",
    "limit",
    "lookup",
    "make-series",
    "mv-apply",
    "mv-expand",
    "mvapply",
    "mvexpand",
    "order",
    "parse",
    "parse-kv",
    "parse-where",
    "partition",
    "print",
    "project",
    "project-away",
    "project-keep",
    "project-rename",
    "project-reorder",
    "project-smart",
    "range",
    "reduce",
    "render",
    "sample",
    "sample-distinct",
    "scan",
    "search",
    "serialize",
    "sort",
    "summarize",
    "take",
    "top",
    "top-hitters",
    "top-nested",
    "union",
    "where",
];

impl Parser {
    /// An expression optionally followed by `| operator ...`.
    pub(super) fn pipe_expr(&mut self) -> PResult<Expr> {
        self.nested(|p| {
            let start = p.span();
            let source = match p.source_operator()? {
                Some(op) => Expr::Source(Box::new(op)),
                None => p.expr()?,
            };
            if !p.at(&Tok::Pipe) {
                return Ok(source);
            }
            let ops = p.pipe_ops()?;
            Ok(Expr::Pipeline {
                source: Box::new(source),
                ops,
                span: start.to(p.prev_span()),
            })
        })
    }

    /// `| op | op ...` — recovers from a bad operator at the next `|`.
    fn pipe_ops(&mut self) -> PResult<Vec<Operator>> {
        let mut ops = Vec::new();
        while self.eat(&Tok::Pipe) {
            match self.operator() {
                Ok(op) => {
                    ops.push(op);
                    if !self.at_operator_end() {
                        let d = self.unexpected(&["`|`", "`;`", "end of query"]);
                        self.report(d);
                        self.recover(true);
                    }
                }
                Err(d) => {
                    self.report(d);
                    self.recover(true);
                }
            }
        }
        Ok(ops)
    }

    /// Operators that can start a pipeline: `print`, `range`, `union`, `datatable`, ...
    fn source_operator(&mut self) -> PResult<Option<Operator>> {
        let Tok::Ident(word) = self.peek() else {
            return Ok(None);
        };
        let is_source = match word.as_str() {
            "print" | "union" => true,
            "datatable" | "externaldata" | "external_data" => {
                matches!(self.peek_at(1), Tok::LParen | Tok::Ident(_))
            }
            "range" => matches!(self.peek_at(1), Tok::Ident(_) | Tok::BracketName(_)) && self.at_kw_n(2, "from"),
            "search" | "find" => !matches!(
                self.peek_at(1),
                Tok::EqEq
                    | Tok::NotEq
                    | Tok::Dot
                    | Tok::LBracket
                    | Tok::Assign
                    | Tok::Pipe
                    | Tok::Comma
                    | Tok::RParen
                    | Tok::Semi
            ),
            "evaluate" => matches!(self.peek_at(1), Tok::Ident(_)),
            _ => false,
        };
        if !is_source {
            return Ok(None);
        }
        Ok(Some(self.operator()?))
    }

    /// The operator name at the cursor, joining hyphenated names (`project-away`).
    fn operator_name(&mut self) -> PResult<(String, Span)> {
        let Tok::Ident(first) = self.peek().clone() else {
            return Err(self.unexpected(&["a tabular operator"]));
        };
        let mut span = self.bump().span;
        let mut name = first;
        while self.at(&Tok::Minus) && self.adjacent(0) && self.adjacent(1) && matches!(self.peek_at(1), Tok::Ident(_)) {
            let joined = match self.peek_at(1) {
                Tok::Ident(next) => format!("{name}-{next}"),
                _ => unreachable!(),
            };
            self.bump();
            span = span.to(self.bump().span);
            name = joined;
        }
        Ok((name, span))
    }

    pub(super) fn operator(&mut self) -> PResult<Operator> {
        let (name, start) = self.operator_name()?;
        let kind = self.operator_body(&name, start)?;
        Ok(Operator {
            kind,
            span: start.to(self.prev_span()),
        })
    }

    fn operator_body(&mut self, name: &str, name_span: Span) -> PResult<OperatorKind> {
        use OperatorKind as K;
        Ok(match name {
            "where" | "filter" => {
                if let Some(name) = self.assigned_name("a column name")? {
                    let value = self.expr()?;
                    let span = name.span.to(value.span());
                    K::Where(Expr::Assign {
                        name,
                        value: Box::new(value),
                        span,
                    })
                } else {
                    K::Where(self.expr()?)
                }
            }
            "extend" => K::Extend(self.named_exprs()?),
            "project" => K::Project(self.named_exprs()?),
            "project-away" => K::ProjectAway(self.column_patterns()?),
            "project-keep" => K::ProjectKeep(self.column_patterns()?),
            "project-rename" => K::ProjectRename(self.comma_list(&Tok::Eof, |p| {
                let new = p.ident("a new column name")?;
                p.expect(&Tok::Assign)?;
                let old = p.expr()?;
                Ok((new, old))
            })?),
            "project-reorder" => K::ProjectReorder(self.comma_list(&Tok::Eof, |p| {
                let col = p.column_pattern()?;
                let dir = p.sort_dir_word();
                Ok((col, dir))
            })?),
            "project-smart" => K::ProjectSmart,
            "summarize" => {
                let params = self.op_params()?;
                let aggregates = if self.at_kw("by") && !matches!(self.peek_at(1), Tok::Assign) {
                    Vec::new()
                } else {
                    self.named_exprs()?
                };
                let by = if self.eat_kw("by") {
                    self.named_exprs()?
                } else {
                    Vec::new()
                };
                K::Summarize { params, aggregates, by }
            }
            "sort" | "order" => {
                let params = self.op_params()?;
                self.expect_kw("by")?;
                K::Sort {
                    params,
                    keys: self.comma_list(&Tok::Eof, |p| p.sort_key())?,
                }
            }
            "top" => {
                let count = self.expr()?;
                self.expect_kw("by")?;
                K::Top {
                    count,
                    key: self.sort_key()?,
                }
            }
            "top-nested" => {
                // Each level after the first repeats the keyword: `top-nested 3 of a by x, top-nested ...`.
                let mut levels = vec![self.top_nested_level()?];
                while self.eat(&Tok::Comma) {
                    let (kw, span) = self.operator_name()?;
                    if kw != "top-nested" {
                        return Err(Diagnostic::new(format!("unexpected `{kw}`"), span).expected(["`top-nested`"]));
                    }
                    levels.push(self.top_nested_level()?);
                }
                K::TopNested(levels)
            }
            "top-hitters" => {
                let count = self.expr()?;
                self.expect_kw("of")?;
                let of = self.expr()?;
                let by = if self.eat_kw("by") { Some(self.expr()?) } else { None };
                K::TopHitters { count, of, by }
            }
            "take" | "limit" => K::Take(self.expr()?),
            "distinct" => {
                let params = self.op_params()?;
                K::Distinct {
                    params,
                    columns: self.comma_list(&Tok::Eof, |p| p.expr())?,
                }
            }
            "count" => K::Count {
                as_name: if self.eat_kw("as") {
                    Some(self.ident("a column name")?)
                } else {
                    None
                },
            },
            "join" | "lookup" => {
                let params = self.op_params()?;
                let right = self.join_right()?;
                let on = if self.eat_kw("on") {
                    self.comma_list(&Tok::Eof, |p| p.expr())?
                } else if name == "join" && self.eat_kw("where") {
                    vec![self.expr()?]
                } else {
                    return Err(self.unexpected(&["`on`"]));
                };
                if name == "join" {
                    K::Join { params, right, on }
                } else {
                    K::Lookup { params, right, on }
                }
            }
            "union" => {
                let params = self.op_params()?;
                let tables = self.comma_list(&Tok::Eof, |p| p.union_item())?;
                if tables.is_empty() {
                    return Err(self.unexpected(&["a table"]));
                }
                K::Union { params, tables }
            }
            "mv-expand" | "mvexpand" => {
                let params = self.op_params()?;
                let items = self.comma_list(&Tok::Eof, |p| p.expand_item())?;
                let limit = if self.eat_kw("limit") { Some(self.expr()?) } else { None };
                K::MvExpand { params, items, limit }
            }
            "mv-apply" | "mvapply" => {
                let params = self.op_params()?;
                let items = self.comma_list(&Tok::Eof, |p| p.expand_item())?;
                let limit = if self.eat_kw("limit") { Some(self.expr()?) } else { None };
                let id = if self.at_kw("id") && matches!(self.peek_at(1), Tok::Assign) {
                    self.bump();
                    self.bump();
                    Some(self.ident("a name")?)
                } else {
                    None
                };
                self.expect_kw("on")?;
                let on = self.paren_sub_pipeline()?;
                K::MvApply {
                    params,
                    items,
                    limit,
                    id,
                    on,
                }
            }
            "parse" | "parse-where" => {
                let params = self.op_params()?;
                let expr = self.expr()?;
                self.expect_kw("with")?;
                let pattern = self.parse_pattern()?;
                let kind = if name == "parse" {
                    ParseKind::Parse
                } else {
                    ParseKind::ParseWhere
                };
                K::Parse {
                    kind,
                    params,
                    expr,
                    pattern,
                }
            }
            "parse-kv" => {
                let expr = self.expr()?;
                self.expect_kw("as")?;
                self.expect(&Tok::LParen)?;
                let columns = self.comma_list(&Tok::RParen, |p| p.column_decl())?;
                self.expect(&Tok::RParen)?;
                let with = if self.eat_kw("with") {
                    self.paren_params()?
                } else {
                    Vec::new()
                };
                K::ParseKv { expr, columns, with }
            }
            "make-series" => self.make_series()?,
            "evaluate" => {
                let params = self.op_params()?;
                let call = self.postfix()?;
                let schema = if self.eat(&Tok::Colon) {
                    Some(self.param_type()?)
                } else {
                    None
                };
                K::Evaluate { params, call, schema }
            }
            "render" => {
                let chart = self.ident("a chart type")?;
                let mut with = Vec::new();
                if self.eat_kw("with") {
                    with = self.paren_params()?;
                } else {
                    // The older form: `render timechart title="x" ...`.
                    while matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Assign) {
                        with.push(self.op_param()?);
                    }
                }
                K::Render { chart, with }
            }
            "invoke" => K::Invoke(self.postfix()?),
            "as" => {
                let params = self.op_params()?;
                K::As {
                    params,
                    name: self.ident("a name")?,
                }
            }
            "serialize" => {
                let cols = if self.at_operator_end() {
                    Vec::new()
                } else {
                    self.named_exprs()?
                };
                K::Serialize(cols)
            }
            "search" => {
                let params = self.op_params()?;
                let tables = self.in_tables()?;
                self.in_search = true;
                let predicate = self.expr();
                self.in_search = false;
                K::Search {
                    params,
                    tables,
                    predicate: predicate?,
                }
            }
            "find" => {
                let params = self.op_params()?;
                let tables = self.in_tables()?;
                self.expect_kw("where")?;
                let predicate = self.expr()?;
                let project = if self.at_kw("project-smart") || (self.at_kw("project") && self.at(&Tok::Minus)) {
                    None
                } else if self.at_kw("project") && self.peek_at(1) == &Tok::Minus && self.at_kw_n(2, "smart") {
                    self.bump();
                    self.bump();
                    self.bump();
                    None
                } else if self.eat_kw("project") {
                    Some(self.comma_list(&Tok::Eof, |p| p.expr())?)
                } else {
                    None
                };
                K::Find {
                    params,
                    tables,
                    predicate,
                    project,
                }
            }
            "print" => K::Print(if self.at_operator_end() {
                Vec::new()
            } else {
                self.named_exprs()?
            }),
            "datatable" => {
                let _params = self.op_params()?;
                self.expect(&Tok::LParen)?;
                let schema = self.column_decls()?;
                self.expect(&Tok::RParen)?;
                let values = self.bracket_values()?;
                K::Datatable { schema, values }
            }
            "externaldata" | "external_data" => {
                let _params = self.op_params()?;
                self.expect(&Tok::LParen)?;
                let schema = self.column_decls()?;
                self.expect(&Tok::RParen)?;
                let uris = self.bracket_values()?;
                let with = if self.eat_kw("with") {
                    self.paren_params()?
                } else {
                    Vec::new()
                };
                K::ExternalData { schema, uris, with }
            }
            "range" => {
                let column = self.ident("a column name")?;
                self.expect_kw("from")?;
                let from = self.expr()?;
                self.expect_kw("to")?;
                let to = self.expr()?;
                self.expect_kw("step")?;
                K::Range {
                    column,
                    from,
                    to,
                    step: self.expr()?,
                }
            }
            "getschema" => K::Getschema,
            "sample" => K::Sample(self.expr()?),
            "sample-distinct" => {
                let count = self.expr()?;
                self.expect_kw("of")?;
                K::SampleDistinct {
                    count,
                    of: self.expr()?,
                }
            }
            "scan" => self.scan()?,
            "partition" => {
                let params = self.op_params()?;
                self.expect_kw("by")?;
                let by = Expr::Name(self.ident("a column name")?);
                let _more = self.op_params()?;
                let body = if self.at(&Tok::LBrace) {
                    self.bump();
                    let inner = self.nested(|p| p.pipe_expr())?;
                    self.expect(&Tok::RBrace)?;
                    SubQuery::Braced(Box::new(inner))
                } else {
                    SubQuery::Ops(self.paren_sub_pipeline()?)
                };
                K::Partition { params, by, body }
            }
            "facet" => {
                self.expect_kw("by")?;
                let by = self.comma_list(&Tok::Eof, |p| p.column_pattern())?;
                let with = if self.eat_kw("with") {
                    self.paren_sub_pipeline()?
                } else {
                    Vec::new()
                };
                K::Facet { by, with }
            }
            "fork" => {
                let mut branches = Vec::new();
                loop {
                    let name = if matches!(self.peek(), Tok::Ident(_)) && matches!(self.peek_at(1), Tok::Assign) {
                        let n = self.ident("a name")?;
                        self.bump();
                        Some(n)
                    } else {
                        None
                    };
                    if !self.at(&Tok::LParen) {
                        if name.is_some() || branches.is_empty() {
                            return Err(self.unexpected(&["`(`"]));
                        }
                        break;
                    }
                    branches.push((name, self.paren_sub_pipeline()?));
                }
                K::Fork(branches)
            }
            "consume" => K::Consume(self.op_params()?),
            "reduce" => {
                let params = self.op_params()?;
                self.expect_kw("by")?;
                let by = self.expr()?;
                let with = if self.eat_kw("with") {
                    self.comma_list(&Tok::Eof, |p| p.op_param())?
                } else {
                    Vec::new()
                };
                K::Reduce { params, by, with }
            }
            "assert-schema" => K::AssertSchema(self.param_type()?),
            "make-graph"
            | "graph-match"
            | "graph-merge"
            | "graph-to-table"
            | "graph-shortest-paths"
            | "graph-mark-components" => {
                return Err(Diagnostic::new(
                    format!("the graph operator `{name}` is not supported"),
                    name_span,
                ));
            }
            _ => {
                let mut d = Diagnostic::new(format!("unknown tabular operator `{name}`"), name_span)
                    .expected(["a tabular operator"]);
                if let Some(s) = closest(name, OPERATOR_NAMES.iter().copied()) {
                    d = d.help(format!("did you mean `{s}`?"));
                }
                return Err(d);
            }
        })
    }

    fn at_operator_end(&self) -> bool {
        matches!(
            self.peek(),
            Tok::Pipe | Tok::Semi | Tok::Eof | Tok::RParen | Tok::RBrace | Tok::RBracket
        )
    }

    fn make_series(&mut self) -> PResult<OperatorKind> {
        let params = self.op_params()?;
        let aggregates = self.comma_list(&Tok::Eof, |p| {
            let name = p.assigned_name("a column name")?;
            let expr = p.expr()?;
            let default = if p.at_kw("default") && matches!(p.peek_at(1), Tok::Assign) {
                p.bump();
                p.bump();
                Some(p.expr()?)
            } else {
                None
            };
            Ok(SeriesAgg { name, expr, default })
        })?;
        self.expect_kw("on")?;
        // Not a full expression: `on T in range(...)` must not read `in` as the list operator.
        let on = self.additive()?;
        let range = if self.eat_kw_pair("in", "range") {
            self.expect(&Tok::LParen)?;
            let start = self.expr()?;
            self.expect(&Tok::Comma)?;
            let stop = self.expr()?;
            self.expect(&Tok::Comma)?;
            let step = self.expr()?;
            self.expect(&Tok::RParen)?;
            SeriesRange::In { start, stop, step }
        } else {
            let from = if self.eat_kw("from") { Some(self.expr()?) } else { None };
            let to = if self.eat_kw("to") { Some(self.expr()?) } else { None };
            self.expect_kw("step")?;
            SeriesRange::FromTo {
                from,
                to,
                step: self.expr()?,
            }
        };
        let by = if self.eat_kw("by") {
            self.named_exprs()?
        } else {
            Vec::new()
        };
        Ok(OperatorKind::MakeSeries {
            params,
            aggregates,
            on,
            range,
            by,
        })
    }

    fn scan(&mut self) -> PResult<OperatorKind> {
        let params = self.op_params()?;
        let mut order_by = Vec::new();
        let mut partition_by = Vec::new();
        loop {
            if self.eat_kw_pair("order", "by") {
                order_by = self.comma_list(&Tok::Eof, |p| p.sort_key())?;
            } else if self.eat_kw_pair("partition", "by") {
                partition_by = self.comma_list(&Tok::Eof, |p| p.expr())?;
            } else {
                break;
            }
        }
        let declare = if self.eat_kw("declare") {
            self.param_list()?
        } else {
            Vec::new()
        };
        self.expect_kw("with")?;
        self.expect(&Tok::LParen)?;
        let mut steps = Vec::new();
        while self.eat_kw("step") {
            let name = self.ident("a step name")?;
            let output = if self.at_kw("output") && matches!(self.peek_at(1), Tok::Assign) {
                self.bump();
                self.bump();
                Some(self.ident("`all`, `last` or `none`")?)
            } else {
                None
            };
            self.expect(&Tok::Colon)?;
            let condition = self.expr()?;
            let assignments = if self.eat(&Tok::FatArrow) {
                self.named_exprs()?
            } else {
                Vec::new()
            };
            self.expect(&Tok::Semi)?;
            steps.push(ScanStep {
                name,
                output,
                condition,
                assignments,
            });
        }
        if steps.is_empty() {
            return Err(self.unexpected(&["`step`"]));
        }
        self.expect(&Tok::RParen)?;
        Ok(OperatorKind::Scan {
            params,
            order_by,
            partition_by,
            declare,
            steps,
        })
    }
}
