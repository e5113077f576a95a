//! Static results: a `let` table or a `toscalar()` that reads only static tables (registered
//! with [`crate::Engine::register_static_table`]: data that does not change while the engine
//! lives, like the remote-access-tool catalog) is run once per engine, and later queries read the
//! stored result instead of planning and running it again.
//!
//! Planning records what it found uncached as [`StaticRequest`]s; the engine runs them, stores
//! the results in the [`StaticCache`] and plans again, which then binds a scan of the stored
//! table (or a literal). The cache key is the plan's full text, subqueries included, so two
//! expressions share a result only when their plans are the same.
//!
//! Invariants:
//! - only plans whose every table scan is of a static table, with no volatile function
//!   (`rand()`), are stored; the result is what running the plan gives;
//! - a stored table has the plan's schema, qualifiers included, so the plan around it is unchanged;
//! - results are bounded ([`MAX_ENTRY_BYTES`], [`MAX_CACHE_BYTES`]); past the bound, or when
//!   running fails, the expression is marked not storable and planned as before;
//! - registering any table empties the cache.

use std::collections::{HashMap, HashSet};
use std::fmt::Write;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Column, ScalarValue, TableReference};
use datafusion::datasource::{MemTable, provider_as_source, source_as_provider};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use futures::TryStreamExt;

/// Most bytes one stored result may take.
pub const MAX_ENTRY_BYTES: usize = 32 << 20;
/// Most bytes all stored results together may take.
pub const MAX_CACHE_BYTES: usize = 128 << 20;

/// What a static expression stands for once run.
#[derive(Debug, Clone)]
enum Stored {
    /// A `let` table's rows, and the number that names its scan.
    Table(usize, Arc<MemTable>),
    /// A `toscalar()`'s value.
    Scalar(ScalarValue),
    /// Not storable (too large, or running failed): planned as written.
    No,
}

/// The results of static expressions, by plan text.
#[derive(Debug, Default)]
pub struct StaticCache {
    entries: HashMap<String, Stored>,
    bytes: usize,
    /// Tables stored so far (numbers their scans).
    tables: usize,
    /// The key each stored table was stored under, by number: a plan that reads a stored table
    /// has the key it had before the table was stored, so one planning finds every level of a
    /// chain of `let`s.
    table_keys: HashMap<usize, String>,
}

/// Whether a request is for a table or a scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaticKind {
    /// A `let` table.
    Table,
    /// A `toscalar()` (its plan yields one column, at most one row).
    Scalar,
}

/// A static expression planning met that the cache does not hold yet.
#[derive(Debug, Clone)]
pub struct StaticRequest {
    key: String,
    plan: LogicalPlan,
    kind: StaticKind,
}

impl StaticCache {
    /// Forgets every stored result.
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
        self.table_keys.clear();
    }

    /// Whether `table` is the scan of a stored result.
    fn is_stored_scan(&self, table: &str) -> bool {
        self.stored_key(table).is_some()
    }

    /// The key of the stored table `table` names, if it names one.
    fn stored_key(&self, table: &str) -> Option<&str> {
        let n = table.strip_prefix(SCAN_PREFIX)?.parse::<usize>().ok()?;
        self.table_keys.get(&n).map(String::as_str)
    }

    /// How many results are stored (tables and scalars).
    pub fn len(&self) -> usize {
        self.entries.values().filter(|s| !matches!(s, Stored::No)).count()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Runs `requests` and stores their results (or marks them not storable).
    pub async fn fill(&mut self, ctx: &SessionContext, requests: Vec<StaticRequest>) {
        for r in requests {
            if self.entries.contains_key(&r.key) {
                continue;
            }
            let stored = match run(
                ctx,
                &r.plan,
                MAX_ENTRY_BYTES.min(MAX_CACHE_BYTES.saturating_sub(self.bytes)),
            )
            .await
            {
                Some((batches, bytes)) => match store(&r, batches, self.tables) {
                    Some(s) => {
                        self.bytes += bytes;
                        if matches!(s, Stored::Table(..)) {
                            self.table_keys.insert(self.tables, r.key.clone());
                            self.tables += 1;
                        }
                        s
                    }
                    None => Stored::No,
                },
                None => Stored::No,
            };
            self.entries.insert(r.key, stored);
        }
    }
}

/// Runs a plan, collecting at most `limit` bytes; `None` past it or on failure.
async fn run(ctx: &SessionContext, plan: &LogicalPlan, limit: usize) -> Option<(Vec<RecordBatch>, usize)> {
    let df = ctx.execute_logical_plan(plan.clone()).await.ok()?;
    let mut stream = df.execute_stream().await.ok()?;
    let mut batches = Vec::new();
    let mut bytes = 0usize;
    while let Some(b) = stream.try_next().await.ok()? {
        bytes += b.get_array_memory_size();
        if bytes > limit {
            return None;
        }
        batches.push(b);
    }
    Some((batches, bytes))
}

fn store(r: &StaticRequest, batches: Vec<RecordBatch>, id: usize) -> Option<Stored> {
    let schema = Arc::new(r.plan.schema().as_arrow().clone());
    match r.kind {
        StaticKind::Scalar => {
            let field = schema.fields().first()?;
            let value = batches
                .iter()
                .find(|b| b.num_rows() > 0)
                .map(|b| ScalarValue::try_from_array(b.column(0), 0))
                .unwrap_or_else(|| ScalarValue::try_from(field.data_type()))
                .ok()?;
            (value.data_type() == *field.data_type()).then_some(Stored::Scalar(value))
        }
        StaticKind::Table => {
            // A scan's fields have one qualifier: repeated names cannot be restored.
            let mut names = HashSet::new();
            if !schema.fields().iter().all(|f| names.insert(f.name().clone())) {
                return None;
            }
            let batches: Vec<RecordBatch> = batches
                .into_iter()
                .map(|b| RecordBatch::try_new(Arc::clone(&schema), b.columns().to_vec()))
                .collect::<Result<_, _>>()
                .ok()?;
            MemTable::try_new(schema, vec![batches])
                .ok()
                .map(|t| Stored::Table(id, Arc::new(t)))
        }
    }
}

/// The name of a stored table's scan: a space makes it no KQL table name.
const SCAN_PREFIX: &str = "static result ";

/// Whether every table `plan` scans (subqueries included) is one of the `statics` (the providers
/// registered as static, compared by identity: a scan's name is not the table's, it is
/// normalised) or a stored result, it scans at least one, and no expression is volatile.
pub fn is_static(plan: &LogicalPlan, statics: &[Arc<dyn TableProvider>], cache: &StaticCache) -> bool {
    if statics.is_empty() {
        return false;
    }
    let is_static_source = |s: &datafusion::logical_expr::TableScan| {
        source_as_provider(&s.source).is_ok_and(|p| statics.iter().any(|t| Arc::ptr_eq(t, &p)))
    };
    let mut scans = 0usize;
    let mut ok = true;
    let _ = plan.apply_with_subqueries(|p| {
        if let LogicalPlan::TableScan(s) = p {
            let name = s.table_name.table();
            if is_static_source(s) || cache.is_stored_scan(name) {
                scans += 1;
            } else {
                ok = false;
                return Ok(TreeNodeRecursion::Stop);
            }
        }
        if matches!(p, LogicalPlan::Extension(_)) {
            // Nodes of our own (and DataFusion's) whose inputs and expressions the walk may
            // not fully see: not stored.
            ok = false;
            return Ok(TreeNodeRecursion::Stop);
        }
        p.apply_expressions(|e| {
            if e.is_volatile() {
                ok = false;
                return Ok(TreeNodeRecursion::Stop);
            }
            Ok(TreeNodeRecursion::Continue)
        })
    });
    ok && scans > 0
}

/// The plan's full text: every node with its depth, subqueries included (a node's own text shows
/// a subquery only as `<subquery>`). The scan of a stored table (and the projection over it that
/// restores its schema) is written as the key of the plan it stands for.
fn key(plan: &LogicalPlan, cache: &StaticCache) -> String {
    fn stored<'a>(p: &LogicalPlan, cache: &'a StaticCache) -> Option<&'a str> {
        let LogicalPlan::Projection(proj) = p else {
            return None;
        };
        let LogicalPlan::TableScan(scan) = proj.input.as_ref() else {
            return None;
        };
        cache.stored_key(scan.table_name.table())
    }
    fn walk(p: &LogicalPlan, depth: usize, cache: &StaticCache, out: &mut String) {
        if let Some(k) = stored(p, cache) {
            for line in k.lines() {
                // The stored plan's lines, shifted to this depth.
                let (d, rest) = line.split_once(' ').unwrap_or(("0", line));
                let _ = writeln!(out, "{} {rest}", depth + d.parse::<usize>().unwrap_or(0));
            }
            return;
        }
        let _ = writeln!(out, "{depth} {} :: {}", p.display(), p.schema());
        let _ = p.apply_subqueries(|sub| {
            let _ = writeln!(out, "{depth} subquery");
            walk(sub, depth + 1, cache, out);
            Ok(TreeNodeRecursion::Continue)
        });
        for input in p.inputs() {
            walk(input, depth + 1, cache, out);
        }
    }
    let mut out = String::new();
    walk(plan, 0, cache, &mut out);
    out
}

/// What the cache holds for a static plan: a plan reading the stored table, a literal, or
/// nothing (with the request to make when the plan was never run).
pub enum Lookup {
    /// Stored: the replacement.
    Hit(Expr),
    /// Stored table: the replacement plan.
    HitTable(LogicalPlan),
    /// Not stored: plan as written; run this to store it.
    Miss(StaticRequest),
    /// Marked not storable: plan as written.
    Skip,
}

impl StaticCache {
    /// Looks up a static plan of `kind` (the caller checked [`is_static`]).
    pub fn lookup(&self, plan: &LogicalPlan, kind: StaticKind) -> Lookup {
        let key = key(plan, self);
        match self.entries.get(&key) {
            None => Lookup::Miss(StaticRequest {
                key,
                plan: plan.clone(),
                kind,
            }),
            Some(Stored::No) => Lookup::Skip,
            Some(Stored::Scalar(v)) if kind == StaticKind::Scalar => Lookup::Hit(Expr::Literal(v.clone(), None)),
            Some(Stored::Table(id, t)) if kind == StaticKind::Table => match table_plan(plan, *id, t) {
                Some(p) => Lookup::HitTable(p),
                None => Lookup::Skip,
            },
            Some(_) => Lookup::Skip,
        }
    }
}

/// A scan of the stored table, projected back to the original plan's qualified schema.
fn table_plan(original: &LogicalPlan, id: usize, table: &Arc<MemTable>) -> Option<LogicalPlan> {
    let name = TableReference::bare(format!("{SCAN_PREFIX}{id}"));
    let scan = LogicalPlanBuilder::scan(name.clone(), provider_as_source(Arc::clone(table) as _), None).ok()?;
    let cols: Vec<Expr> = original
        .schema()
        .iter()
        .map(|(q, f)| Expr::Column(Column::new(Some(name.clone()), f.name())).alias_qualified(q.cloned(), f.name()))
        .collect();
    let plan = scan.project(cols).ok()?.build().ok()?;
    plan.schema().iter().eq(original.schema().iter()).then_some(plan)
}
