//! The planner: binds names (tables, `let`, parameters) and compiles a parsed query to a
//! DataFusion logical plan, rejecting by name whatever it cannot run with Kusto's semantics.

mod call;
pub(crate) mod datadep;
mod evaluate;
mod expr;
mod external;
mod functions;
mod mvapply;
mod ops;
mod partition;
mod range;
mod series;
mod seriesfn;
pub(crate) mod stages;
pub mod statics;
mod topnested;
mod window;

use crate::types::KqlType;
use crate::value::{NANOS_PER_TICK, literal_scalar};
use datafusion::catalog::TableProvider;
use datafusion::common::{DFSchemaRef, ScalarValue};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, lit};
use datafusion::prelude::ident;
use kql::{Diagnostic, Span};
use std::collections::HashMap;
use std::sync::Arc;

/// A planning result: the value, or the diagnostic that stopped planning.
pub type PResult<T> = Result<T, Diagnostic>;

/// Most operators one query may plan, counted over every tabular expression planned, so each
/// expansion of a `let` or a function counts again. DataFusion's optimiser passes grow faster
/// than linearly with the plan's depth (5,000 filters take seconds, 10,000 half a minute), and a
/// chain of `let`s that each reference the previous one twice would otherwise double the plan
/// per line; real queries plan tens.
pub const MAX_PIPELINE_OPERATORS: usize = 10_000;

/// Most nodes a finished plan may have, counting a plan that a `let` binds once for every use
/// (the optimiser walks it as a tree): forty `let`s that each union the previous one with
/// itself are forty lines, and 2^40 nodes.
pub const MAX_PLAN_NODES: usize = 4 * MAX_PIPELINE_OPERATORS;

/// Whether `plan`, walked as a tree, has more than `limit` nodes (stops counting there).
pub fn exceeds_nodes(plan: &LogicalPlan, limit: usize) -> bool {
    let mut stack = vec![plan];
    let mut seen = 0usize;
    while let Some(p) = stack.pop() {
        seen += 1;
        if seen > limit {
            return true;
        }
        stack.extend(p.inputs());
    }
    false
}

/// Builds a diagnostic located at `span`.
pub fn err(span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(message, span)
}

/// A DataFusion error during planning, reported at the construct being planned.
pub fn df_err(span: Span, e: datafusion::error::DataFusionError) -> Diagnostic {
    Diagnostic::new(e.strip_backtrace(), span)
}

/// What a name bound by `let` (or a function parameter) stands for.
#[derive(Clone)]
pub enum Binding {
    /// A scalar value.
    Scalar(Expr),
    /// A table (tabular expression).
    Tabular(LogicalPlan),
    /// A user-defined function.
    Function(Arc<kql::FunctionDef>),
}

/// Everything the planner needs from the engine.
pub struct PlanContext<'a> {
    /// The registered tables by name.
    pub tables: &'a HashMap<String, Arc<dyn TableProvider>>,
    /// The query's `now`, nanoseconds since the epoch.
    pub now: i64,
    /// The implicit time range: only rows from `now - lookback` to `now` (by the table's time column).
    pub lookback: Option<i64>,
    /// Which local files the query may read (`externaldata`).
    pub file_access: &'a crate::FileAccess,
    /// The columns of the data-dependent operators (`evaluate bag_unpack`, `pivot`) already read
    /// from the data, in the order the planner meets them (see [`datadep`]).
    pub data_columns: &'a [datadep::DataColumns],
    /// Plan-only checking: a data-dependent operator whose columns were not read has an open
    /// schema, where names it may have made are `dynamic` null columns.
    pub open_schemas: bool,
    /// The providers of the tables whose data does not change while the engine lives (see
    /// [`statics`]).
    pub statics: &'a [Arc<dyn TableProvider>],
    /// The stored results of static expressions.
    pub static_cache: &'a statics::StaticCache,
}

/// Compiles KQL syntax trees to DataFusion logical plans.
pub struct Planner<'a> {
    cx: PlanContext<'a>,
    scopes: Vec<HashMap<String, Binding>>,
    /// Names for unnamed columns (`Column1`, ...), per operator.
    column_counter: usize,
    /// How deep function expansion has gone (a recursive `let` function must not loop forever).
    call_depth: usize,
    /// While planning a `summarize` over serialized rows: the column holding each row's
    /// position, which order-sensitive aggregations (make_list, take_any, ...) follow.
    serial_ord: Option<String>,
    /// The name the previous operator of the pipeline gave with `as` (for union's withsource).
    as_name: Option<String>,
    /// How many data-dependent operators this planning has met.
    data_ops: usize,
    /// The data a data-dependent operator needs read before the query can be planned.
    data_request: Option<datadep::DataRequest>,
    /// What the data-dependent operators found (for the help of an unknown column).
    data_found: Vec<String>,
    /// Tabular operators planned so far, `let` and function expansions included (bounded by
    /// [`MAX_PIPELINE_OPERATORS`]).
    planned_operators: usize,
    /// Static expressions met that the cache does not hold (see [`statics`]).
    static_requests: Vec<statics::StaticRequest>,
}

/// The time column the implicit time range applies to, by table convention.
const TIME_COLUMNS: &[&str] = &["Timestamp", "TimeGenerated"];

impl<'a> Planner<'a> {
    /// A planner over the tables and settings of `cx`.
    pub fn new(cx: PlanContext<'a>) -> Self {
        Planner {
            cx,
            scopes: vec![HashMap::new()],
            column_counter: 0,
            call_depth: 0,
            serial_ord: None,
            as_name: None,
            data_ops: 0,
            data_request: None,
            data_found: Vec::new(),
            planned_operators: 0,
            static_requests: Vec::new(),
        }
    }

    /// Counts `n` more tabular operators against the query's budget.
    fn spend_operators(&mut self, n: usize, span: Span) -> PResult<()> {
        self.planned_operators = self.planned_operators.saturating_add(n);
        if self.planned_operators > MAX_PIPELINE_OPERATORS {
            return Err(err(
                span,
                format!(
                    "the query plans more than {MAX_PIPELINE_OPERATORS} operators (`let` and function expansions count each time they are used): planning and optimising it would take too long"
                ),
            ));
        }
        Ok(())
    }

    /// The data a failed planning needs read first: a data-dependent operator's input (see
    /// [`datadep`]).
    pub fn take_data_request(&mut self) -> Option<datadep::DataRequest> {
        self.data_request.take()
    }

    /// The static expressions planning met that the cache does not hold: run them, store them
    /// and plan again to use them (see [`statics`]).
    pub fn take_static_requests(&mut self) -> Vec<statics::StaticRequest> {
        std::mem::take(&mut self.static_requests)
    }

    /// A `let` table: the stored result's scan when it is static and stored.
    fn static_table(&mut self, plan: LogicalPlan) -> LogicalPlan {
        if !statics::is_static(&plan, self.cx.statics, self.cx.static_cache) {
            return plan;
        }
        match self.cx.static_cache.lookup(&plan, statics::StaticKind::Table) {
            statics::Lookup::HitTable(p) => p,
            statics::Lookup::Miss(r) => {
                self.static_requests.push(r);
                plan
            }
            _ => plan,
        }
    }

    /// A `toscalar()` subquery: the stored value when it is static and stored.
    fn static_scalar(&mut self, plan: &LogicalPlan) -> Option<Expr> {
        if !statics::is_static(plan, self.cx.statics, self.cx.static_cache) {
            return None;
        }
        match self.cx.static_cache.lookup(plan, statics::StaticKind::Scalar) {
            statics::Lookup::Hit(e) => Some(e),
            statics::Lookup::Miss(r) => {
                self.static_requests.push(r);
                None
            }
            _ => None,
        }
    }

    /// The query's `now`, nanoseconds since the epoch.
    pub fn now(&self) -> i64 {
        self.cx.now
    }

    /// Plans a whole query: `let`/`set`/`declare` statements, then one tabular result.
    pub fn plan_query(&mut self, query: &kql::Query) -> PResult<LogicalPlan> {
        let mut result = None;
        for (i, st) in query.statements.iter().enumerate() {
            let last = i + 1 == query.statements.len();
            match st {
                kql::Statement::Expr(e) if last => result = Some(self.tabular(e)?),
                kql::Statement::Expr(e) => {
                    return Err(
                        err(e.span(), "only the last statement of a query can be a query expression")
                            .help("end the other statements with `;` only after `let`, `set` or `declare`"),
                    );
                }
                other => self.statement(other)?,
            }
        }
        result.ok_or_else(|| err(Span::default(), "the query has no tabular expression to run"))
    }

    fn statement(&mut self, st: &kql::Statement) -> PResult<()> {
        self.statement_in(st, &Arc::new(datafusion::common::DFSchema::empty()))
    }

    /// A statement whose scalar `let`s are evaluated on rows of `schema` (inside a function
    /// called per row, parameters may stand for the caller's columns).
    fn statement_in(&mut self, st: &kql::Statement, schema: &DFSchemaRef) -> PResult<()> {
        match st {
            kql::Statement::Let { name, value, .. } => {
                let binding = match value {
                    kql::LetValue::Function(f) => Binding::Function(Arc::new(f.clone())),
                    kql::LetValue::Expr(e) if self.is_tabular(e) => {
                        let plan = self.tabular(e)?;
                        // Every use of the name copies this plan into the tree the planner and
                        // the optimiser walk: bound it here, before a later line doubles it.
                        if exceeds_nodes(&plan, MAX_PLAN_NODES) {
                            return Err(err(
                                e.span(),
                                format!(
                                    "the query's plan has more than {MAX_PLAN_NODES} operators once its `let`s are expanded: optimising it would take too long"
                                ),
                            ));
                        }
                        Binding::Tabular(self.static_table(plan))
                    }
                    kql::LetValue::Expr(e) => Binding::Scalar(self.scalar(e, schema)?),
                };
                self.bind(&name.name, binding);
                Ok(())
            }
            kql::Statement::Set { name, value, span } => match (name.name.as_str(), value) {
                ("query_now", Some(v)) => {
                    let e = self.constant(v)?;
                    match e {
                        Expr::Literal(ScalarValue::TimestampNanosecond(Some(t), _), _) => {
                            self.cx.now = t;
                            Ok(())
                        }
                        _ => Err(err(*span, "`set query_now` takes a datetime literal")),
                    }
                }
                (other, _) => Err(err(*span, format!("the `set {other}` option is not supported"))),
            },
            kql::Statement::DeclareQueryParameters { params, .. } => {
                for p in params {
                    let Some(default) = &p.default else {
                        return Err(err(
                            p.name.span,
                            format!("query parameter `{}` has no value (give it a default)", p.name.name),
                        ));
                    };
                    let e = self.constant(default)?;
                    self.bind(&p.name.name, Binding::Scalar(e));
                }
                Ok(())
            }
            kql::Statement::Alias { span, .. } => Err(err(
                *span,
                "`alias database` is not supported (there are no clusters here)",
            )),
            kql::Statement::RestrictAccess { span, .. } => Err(err(*span, "`restrict access` is not supported")),
            kql::Statement::Expr(e) => Err(err(e.span(), "unexpected expression statement")),
        }
    }

    /// Whether an expression denotes a table (rather than a scalar).
    pub fn is_tabular(&self, e: &kql::Expr) -> bool {
        match e {
            kql::Expr::Pipeline { .. } | kql::Expr::Source(_) => true,
            kql::Expr::Paren(inner, _) => self.is_tabular(inner),
            kql::Expr::Name(n) => {
                matches!(self.lookup(&n.name), Some(Binding::Tabular(_)))
                    || (self.lookup(&n.name).is_none() && self.cx.tables.contains_key(&n.name))
            }
            kql::Expr::Call {
                name,
                receiver: None,
                args,
                ..
            } => match name.name.as_str() {
                "materialize" | "table" | "view" => true,
                "toscalar" => false,
                _ => match self.lookup(&name.name) {
                    Some(Binding::Function(f)) => f.body.last().is_some_and(|s| match s {
                        kql::Statement::Expr(e) => self.function_body_is_tabular(e, f, args.len()),
                        _ => false,
                    }),
                    _ => false,
                },
            },
            _ => false,
        }
    }

    fn function_body_is_tabular(&self, body: &kql::Expr, f: &kql::FunctionDef, _nargs: usize) -> bool {
        // A parameter of tabular type makes a body that names it tabular.
        let tab_params: Vec<&str> = f
            .params
            .iter()
            .filter(|p| matches!(p.ty, kql::ParamType::Tabular { .. }))
            .map(|p| p.name.name.as_str())
            .collect();
        fn root(e: &kql::Expr) -> Option<&str> {
            match e {
                kql::Expr::Pipeline { source, .. } => root(source),
                kql::Expr::Name(n) => Some(&n.name),
                kql::Expr::Paren(i, _) => root(i),
                _ => None,
            }
        }
        if let Some(r) = root(body)
            && tab_params.contains(&r)
        {
            return true;
        }
        self.is_tabular(body)
    }

    /// Binds `name` in the innermost scope.
    pub fn bind(&mut self, name: &str, b: Binding) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), b);
        }
    }

    /// What `name` is bound to, innermost scope first.
    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// A scalar expression that needs no row: folded where DataFusion can.
    pub fn constant(&mut self, e: &kql::Expr) -> PResult<Expr> {
        let empty = Arc::new(datafusion::common::DFSchema::empty());
        self.scalar(e, &empty)
    }

    /// A plan for a tabular expression.
    pub fn tabular(&mut self, e: &kql::Expr) -> PResult<LogicalPlan> {
        self.spend_operators(1, e.span())?;
        match e {
            kql::Expr::Paren(inner, _) => self.tabular(inner),
            kql::Expr::Name(n) => self.table_by_name(n),
            kql::Expr::Pipeline { source, ops, span } => {
                if ops.len() > MAX_PIPELINE_OPERATORS {
                    return Err(err(
                        *span,
                        format!(
                            "a pipeline of {} operators is longer than {MAX_PIPELINE_OPERATORS}: planning and optimising it would take too long",
                            ops.len()
                        ),
                    ));
                }
                self.spend_operators(ops.len(), *span)?;
                let mut plan = self.tabular(source)?;
                for op in ops {
                    plan = self.operator(plan, op)?;
                }
                Ok(plan)
            }
            kql::Expr::Source(op) => self.source_operator(op),
            kql::Expr::Call {
                receiver: None,
                name,
                args,
                span,
            } => match name.name.as_str() {
                "materialize" => match args.as_slice() {
                    [kql::Arg::Positional(inner)] => self.tabular(inner),
                    _ => Err(err(*span, "materialize() takes one tabular expression")),
                },
                "table" => match args.first().map(kql::Arg::expr) {
                    Some(kql::Expr::Literal(kql::Literal::String { value, .. }, s)) => {
                        self.table_by_name(&kql::Ident::new(value.clone(), *s))
                    }
                    _ => Err(err(*span, "table() takes a table name as a string literal")),
                },
                _ => match self.lookup(&name.name).cloned() {
                    Some(Binding::Function(f)) => self.expand_tabular_function(&f, args, *span),
                    _ => Err(self.unknown_function(name, true)),
                },
            },
            kql::Expr::Call { span, .. } => Err(err(
                *span,
                "cross-cluster and cross-database references are not supported",
            )),
            other => Err(err(
                other.span(),
                "expected a tabular expression (a table, a `let` name or a query)",
            )),
        }
    }

    /// The "unknown function" diagnostic for `name`, with the closest known name as help.
    pub fn unknown_function(&self, name: &kql::Ident, tabular: bool) -> Diagnostic {
        let kind = if tabular { "tabular function" } else { "function" };
        let mut d = err(name.span, format!("unknown {kind} `{}`", name.name));
        let lets: Vec<&str> = self.scopes.iter().flat_map(|s| s.keys().map(String::as_str)).collect();
        let known = lets.iter().copied().chain(functions::registry::function_names());
        if let Some(s) = kql::diag::closest(&name.name, known) {
            d = d.help(format!("did you mean `{s}`?"));
        }
        d
    }

    /// A table from the catalog or a `let`, with Kusto's null-free strings and the implicit time range.
    fn table_by_name(&mut self, n: &kql::Ident) -> PResult<LogicalPlan> {
        match self.lookup(&n.name) {
            Some(Binding::Tabular(p)) => return Ok(p.clone()),
            Some(Binding::Scalar(_)) => {
                return Err(err(n.span, format!("`{}` is a scalar value, not a table", n.name)));
            }
            Some(Binding::Function(f)) if f.params.is_empty() => {
                let f = f.clone();
                return self.expand_tabular_function(&f, &[], n.span);
            }
            Some(Binding::Function(_)) => {
                return Err(err(
                    n.span,
                    format!("`{}` is a function: call it with arguments", n.name),
                ));
            }
            None => {}
        }
        let Some(provider) = self.cx.tables.get(&n.name).cloned() else {
            let mut d = err(n.span, format!("unknown table `{}`", n.name));
            let mut names: Vec<&str> = self.cx.tables.keys().map(String::as_str).collect();
            names.sort();
            if let Some(s) = kql::diag::closest(&n.name, names.iter().copied()) {
                d = d.help(format!("did you mean `{s}`?"));
            } else if !names.is_empty() {
                d = d.help(format!("known tables: {}", names.join(", ")));
            } else {
                d = d.help("no tables are loaded: give evidence files or --table NAME=PATH");
            }
            return Err(d);
        };
        let schema = provider.schema();
        let scan = LogicalPlanBuilder::scan(n.name.clone(), provider_as_source(provider), None)
            .map_err(|e| df_err(n.span, e))?;
        // Strings are never null in Kusto: a missing string is the empty string.
        let cols: Vec<Expr> = schema
            .fields()
            .iter()
            .map(|f| {
                let c = ident(f.name());
                match KqlType::of_arrow(f.data_type()) {
                    Some(KqlType::String) => datafusion::functions::expr_fn::coalesce(vec![c, lit("")]).alias(f.name()),
                    _ => c,
                }
            })
            .collect();
        let mut b = scan;
        if let Some(lookback) = self.cx.lookback
            && let Some(tc) = TIME_COLUMNS.iter().find(|c| {
                schema
                    .field_with_name(c)
                    .is_ok_and(|f| KqlType::of_arrow(f.data_type()) == Some(KqlType::Datetime))
            })
        {
            // Like Sentinel's query period: rows from `now - lookback` up to `now`.
            let from = crate::value::datetime_scalar(Some(self.cx.now - lookback));
            let to = crate::value::datetime_scalar(Some(self.cx.now));
            b = b
                .filter(ident(*tc).gt_eq(lit(from)).and(ident(*tc).lt_eq(lit(to))))
                .map_err(|e| df_err(n.span, e))?;
        }
        b.project(cols).and_then(|b| b.build()).map_err(|e| df_err(n.span, e))
    }

    /// Calls a `let` function whose body is tabular: parameters bound in a new scope.
    fn expand_tabular_function(&mut self, f: &kql::FunctionDef, args: &[kql::Arg], span: Span) -> PResult<LogicalPlan> {
        self.with_function_scope(
            f,
            args,
            span,
            &Arc::new(datafusion::common::DFSchema::empty()),
            |p| match f.body.last() {
                Some(kql::Statement::Expr(e)) => p.tabular(e),
                _ => Err(err(f.span, "the function body has no result expression")),
            },
        )
    }

    /// Runs `body` in a scope where the function's parameters are bound to the call's arguments
    /// (scalar arguments are lowered against `schema`, the caller's row).
    pub fn with_function_scope<T>(
        &mut self,
        f: &kql::FunctionDef,
        args: &[kql::Arg],
        span: Span,
        schema: &DFSchemaRef,
        body: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        if self.call_depth > 32 {
            return Err(err(
                span,
                "functions call each other too deeply (recursion is not supported)",
            ));
        }
        if args.len() > f.params.len() {
            return Err(err(
                span,
                format!("the function takes {} arguments, {} given", f.params.len(), args.len()),
            ));
        }
        let mut scope = HashMap::new();
        for (i, p) in f.params.iter().enumerate() {
            let arg = args.get(i).map(kql::Arg::expr);
            let binding = match (&p.ty, arg, &p.default) {
                (kql::ParamType::Tabular { .. }, Some(a), _) => Binding::Tabular(self.tabular(a)?),
                (kql::ParamType::Tabular { .. }, None, _) => {
                    return Err(err(span, format!("missing tabular argument `{}`", p.name.name)));
                }
                (kql::ParamType::Scalar(_), Some(a), _) => Binding::Scalar(self.scalar(a, schema)?),
                (kql::ParamType::Scalar(_), None, Some(d)) => Binding::Scalar(self.constant(d)?),
                (kql::ParamType::Scalar(_), None, None) => {
                    return Err(err(span, format!("missing argument `{}`", p.name.name)));
                }
            };
            scope.insert(p.name.name.clone(), binding);
        }
        self.scopes.push(scope);
        self.call_depth += 1;
        let mut result = Ok(());
        for st in &f.body[..f.body.len().saturating_sub(1)] {
            result = self.statement_in(st, schema);
            if result.is_err() {
                break;
            }
        }
        let out = result.and_then(|()| body(self));
        self.call_depth -= 1;
        self.scopes.pop();
        out
    }

    /// The next `ColumnN` name for an unnamed expression.
    pub fn next_column_name(&mut self, taken: &dyn Fn(&str) -> bool) -> String {
        loop {
            self.column_counter += 1;
            let name = format!("Column{}", self.column_counter);
            if !taken(&name) {
                return name;
            }
        }
    }

    /// A literal value for the tick count of a timespan literal.
    pub fn timespan_lit(ticks: i64) -> Expr {
        lit(crate::value::timespan_scalar(Some(ticks * NANOS_PER_TICK)))
    }

    /// A KQL literal as a DataFusion literal.
    pub fn literal(&self, l: &kql::Literal, span: Span) -> PResult<Expr> {
        literal_scalar(l).map(lit).map_err(|m| err(span, m))
    }
}
