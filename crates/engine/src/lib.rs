//! KQL engine: compiles parsed KQL to Apache DataFusion plans with Kusto's semantics, runs them
//! over registered tables, and renders results the way Kusto does.

#![warn(missing_docs)]

pub mod format;
pub(crate) mod functions;
pub mod load;
pub mod plan;
pub(crate) mod types;
pub mod value;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::TryStreamExt;
use kql::Diagnostic;
use parking_lot::{Mutex, MutexGuard};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use types::KqlType;

/// Why a query did not run.
#[derive(Debug)]
pub enum QueryError {
    /// The text is not valid KQL (every syntax error found).
    Syntax(Vec<Diagnostic>),
    /// Valid KQL that cannot be planned: an unknown name, a type error, an unsupported feature.
    Plan(Diagnostic),
    /// A failure while running (reading input, memory limit, ...).
    Execution(String),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::Syntax(d) => write!(f, "syntax error: {}", d.first().map_or("", |d| d.message.as_str())),
            QueryError::Plan(d) => f.write_str(&d.message),
            QueryError::Execution(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for QueryError {}

/// How queries run.
#[derive(Clone, Debug, Default)]
pub struct EngineOptions {
    /// The query's `now` in nanoseconds since the epoch; the wall clock when `None`.
    pub now: Option<i64>,
    /// Implicit time range: only rows newer than `now - lookback` (nanoseconds) by the table's
    /// `Timestamp` / `TimeGenerated` column, like Sentinel's query period.
    pub lookback: Option<i64>,
    /// Memory limit in bytes for query execution (operators spill to disk where they can).
    pub memory_limit: Option<usize>,
    /// Parallelism; the number of cores when `None`.
    pub target_partitions: Option<usize>,
    /// Which local files queries may read (`externaldata`); none by default.
    pub file_access: FileAccess,
    /// Time limit of one [`Engine::query`] (planning, running and collecting); none by default.
    pub query_timeout: Option<std::time::Duration>,
    /// Plan-only checking ([`Engine::plan`] without data): operators whose columns depend on
    /// the data (`evaluate bag_unpack`, `pivot`) get an open schema, where a name that is not a
    /// known column is a `dynamic` null column instead of an error, as Kusto's analyzer treats
    /// them. Off by default: [`Engine::plan`] then rejects such queries, and
    /// [`Engine::plan_with_data`] / [`Engine::query`] read the columns from the data.
    pub open_schemas: bool,
}

/// The memory limit used when none is given: half the machine's physical memory (4 GiB where
/// it cannot be read).
pub fn default_memory_limit() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|text| {
        text.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kib| kib.saturating_mul(1024))
    });
    total.map_or(4 << 30, |t| t / 2)
}

/// Which local files a query may read (externaldata, and any other file access from KQL).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum FileAccess {
    /// No file may be read (the default: queries and rules are untrusted).
    #[default]
    None,
    /// Files under these folders only (after resolving symlinks and `..`).
    Under(Vec<std::path::PathBuf>),
    /// Any file (trusted queries only).
    Any,
}

impl FileAccess {
    /// Whether a query may read `path`: its canonical form (symlinks and `..` resolved, see
    /// [`std::fs::canonicalize`]) when it is a file under one of the allowed folders (compared
    /// component by component, with the folders canonicalized too; a folder that does not
    /// exist allows nothing), else why not. Open the returned path, not `path`, so that what is
    /// read is what was checked.
    pub fn check(&self, path: &Path) -> Result<PathBuf, String> {
        let outside = || {
            format!(
                "externaldata: {} is outside the folders rules may read (the evidence and --allow-read folders)",
                path.display()
            )
        };
        let roots: Vec<PathBuf> = match self {
            FileAccess::None => return Err(outside()),
            FileAccess::Any => Vec::new(),
            FileAccess::Under(roots) => roots.iter().filter_map(|r| std::fs::canonicalize(r).ok()).collect(),
        };
        let under = |p: &Path| matches!(self, FileAccess::Any) || roots.iter().any(|r| p.starts_with(r));
        match std::fs::canonicalize(path) {
            Ok(canonical) if under(&canonical) => Ok(canonical),
            Ok(_) => Err(outside()),
            // A missing file: say so only when it would have been allowed, so that a query
            // cannot probe which files exist elsewhere.
            Err(e) => match canonical_parent(path) {
                Some(p) if under(&p) => Err(format!("externaldata: {}: {e}", path.display())),
                _ => Err(outside()),
            },
        }
    }
}

/// Where a path that does not exist would be: the canonical form of its nearest existing
/// ancestor (after resolving `.` and `..` by name) joined with the rest.
fn canonical_parent(path: &Path) -> Option<PathBuf> {
    let mut normal = PathBuf::new();
    for c in std::path::absolute(path).ok()?.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
        .ancestors()
        .find_map(|a| Some(std::fs::canonicalize(a).ok()?.join(normal.strip_prefix(a).ok()?)))
}

/// A planning pass's plan, and the static expressions it met that are not stored yet.
type Planned = (LogicalPlan, Vec<plan::statics::StaticRequest>);

/// Most rounds of storing static results one planning makes (see [`plan::statics`]).
const MAX_STATIC_ROUNDS: usize = 4;

/// Tables plus a DataFusion session: plans and runs KQL.
pub struct Engine {
    ctx: SessionContext,
    tables: HashMap<String, Arc<dyn TableProvider>>,
    now: i64,
    lookback: Option<i64>,
    file_access: FileAccess,
    memory_limit: Option<usize>,
    query_timeout: Option<std::time::Duration>,
    open_schemas: bool,
    /// Tables whose data does not change while the engine lives (the catalog).
    statics: HashSet<String>,
    /// Results of expressions over static tables only, run once (see [`plan::statics`]).
    static_cache: Mutex<plan::statics::StaticCache>,
}

fn wall_clock_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i64)
}

impl Engine {
    /// An engine with no tables, configured by `options`.
    pub fn new(options: EngineOptions) -> Result<Engine, QueryError> {
        let mut config = SessionConfig::new().with_information_schema(false);
        if let Some(n) = options.target_partitions {
            config = config.with_target_partitions(n.max(1));
        }
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = options.memory_limit {
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        let runtime = runtime.build_arc().map_err(|e| QueryError::Execution(e.to_string()))?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        // DataFusion's projection optimiser drops a projection that repeats the one under it,
        // which `extend x = x + 1 | extend x = x + 1` does; the replacement merges such pairs first.
        ctx.remove_optimizer_rule("optimize_projections");
        ctx.add_optimizer_rule(Arc::new(plan::stages::StagedProjections::default()));
        Ok(Engine {
            ctx,
            tables: HashMap::new(),
            now: options.now.unwrap_or_else(wall_clock_nanos),
            lookback: options.lookback,
            file_access: options.file_access,
            memory_limit: options.memory_limit,
            query_timeout: options.query_timeout,
            open_schemas: options.open_schemas,
            statics: HashSet::new(),
            static_cache: Mutex::new(plan::statics::StaticCache::default()),
        })
    }

    /// The `now` every `ago()` / `now()` of a query sees.
    pub fn now(&self) -> i64 {
        self.now
    }

    /// Sets the queries' `now` (nanoseconds since the epoch).
    pub fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    /// The implicit time range (nanoseconds before `now`), if any.
    pub fn lookback(&self) -> Option<i64> {
        self.lookback
    }

    /// Sets (or removes) the implicit time range for queries planned from now on.
    pub fn set_lookback(&mut self, lookback: Option<i64>) {
        self.lookback = lookback;
    }

    /// Which local files queries may read.
    pub fn file_access(&self) -> &FileAccess {
        &self.file_access
    }

    /// Sets which local files queries planned from now on may read.
    pub fn set_file_access(&mut self, access: FileAccess) {
        self.file_access = access;
    }

    /// The DataFusion session the queries run in.
    pub fn session(&self) -> &SessionContext {
        &self.ctx
    }

    /// Makes a table available to queries under `name`.
    pub fn register_table(&mut self, name: &str, table: Arc<dyn TableProvider>) {
        self.statics.remove(name);
        self.tables.insert(name.to_string(), table);
        self.cache().clear();
    }

    /// Makes a table whose data will not change available under `name`: a `let` table or a
    /// `toscalar()` that reads only such tables runs once, and later queries reuse its result
    /// (see [`plan::statics`]). Registering any table under the name again ends that.
    pub fn register_static_table(&mut self, name: &str, table: Arc<dyn TableProvider>) {
        self.register_table(name, table);
        self.statics.insert(name.to_string());
    }

    /// Registers in-memory batches as a static table ([`Engine::register_static_table`]).
    pub fn register_static_batches(
        &mut self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<(), QueryError> {
        self.register_batches(name, schema, batches)?;
        self.statics.insert(name.to_string());
        Ok(())
    }

    /// How many results of static expressions the engine holds.
    pub fn static_results(&self) -> usize {
        self.cache().len()
    }

    fn cache(&self) -> MutexGuard<'_, plan::statics::StaticCache> {
        self.static_cache.lock()
    }

    /// Registers in-memory batches as a table.
    pub fn register_batches(
        &mut self,
        name: &str,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> Result<(), QueryError> {
        let t = MemTable::try_new(schema, vec![batches]).map_err(|e| QueryError::Execution(e.to_string()))?;
        self.register_table(name, Arc::new(t));
        Ok(())
    }

    /// Takes into the engine the named tables registered directly on its DataFusion session
    /// (as the telemetry readers do); names the session does not have are skipped.
    pub async fn import_session_tables(&mut self, names: &[&str]) -> Result<(), QueryError> {
        for name in names {
            if let Ok(provider) = self
                .ctx
                .table_provider(datafusion::common::TableReference::bare(*name))
                .await
            {
                if self.statics.remove(*name) {
                    self.cache().clear();
                }
                self.tables.insert((*name).to_string(), provider);
            }
        }
        Ok(())
    }

    /// The registered table names, sorted.
    pub fn table_names(&self) -> Vec<String> {
        let mut n: Vec<String> = self.tables.keys().cloned().collect();
        n.sort();
        n
    }

    /// The table registered as `name`.
    pub fn table(&self, name: &str) -> Option<&Arc<dyn TableProvider>> {
        self.tables.get(name)
    }

    /// Parses and plans a query without running it.
    pub fn plan(&self, text: &str) -> Result<LogicalPlan, QueryError> {
        let parsed = kql::parse(text);
        if !parsed.is_ok() {
            return Err(QueryError::Syntax(parsed.diagnostics));
        }
        self.plan_query(&parsed.query)
    }

    /// Plans an already parsed query, without reading data: a query with operators whose
    /// columns depend on the data (`evaluate bag_unpack`, `pivot`) is rejected unless
    /// [`EngineOptions::open_schemas`] is set; [`Engine::plan_query_with_data`] plans it.
    pub fn plan_query(&self, query: &kql::Query) -> Result<LogicalPlan, QueryError> {
        self.plan_pass(query, &[], self.open_schemas)
            .map(|(p, _)| p)
            .map_err(|(d, _)| QueryError::Plan(d))
    }

    /// Parses and plans a query, reading from the data the columns of the operators whose
    /// columns depend on it (`evaluate bag_unpack`, `pivot`): one pass over each one's input.
    pub async fn plan_with_data(&self, text: &str) -> Result<LogicalPlan, QueryError> {
        let parsed = kql::parse(text);
        if !parsed.is_ok() {
            return Err(QueryError::Syntax(parsed.diagnostics));
        }
        self.plan_query_with_data(&parsed.query).await
    }

    /// Plans an already parsed query, reading the data where its columns depend on it.
    pub async fn plan_query_with_data(&self, query: &kql::Query) -> Result<LogicalPlan, QueryError> {
        let mut found: Vec<plan::datadep::DataColumns> = Vec::new();
        // Rounds of storing static results (one is enough for a chain of `let`s: their keys do
        // not change when an inner one is stored; the bound is for safety).
        let mut rounds = 0;
        loop {
            match self.plan_pass(query, &found, false) {
                Ok((p, requests)) if requests.is_empty() || rounds == MAX_STATIC_ROUNDS => return Ok(p),
                Ok((_, requests)) => {
                    // Static expressions met for the first time: run and store them, then plan
                    // again to read the stored results (what could not be stored is marked so,
                    // and planned as written).
                    let mut cache = std::mem::take(&mut *self.cache());
                    cache.fill(&self.ctx, requests).await;
                    *self.cache() = cache;
                    rounds += 1;
                }
                Err((_, Some(request))) if request.index == found.len() => {
                    let columns = plan::datadep::probe(&self.ctx, *request)
                        .await
                        .map_err(QueryError::Execution)?;
                    found.push(columns);
                }
                Err((d, _)) => return Err(QueryError::Plan(d)),
            }
        }
    }

    /// One planning pass with the data-dependent columns found so far; on failure, the data a
    /// data-dependent operator needs read, if that is why.
    fn plan_pass(
        &self,
        query: &kql::Query,
        found: &[plan::datadep::DataColumns],
        open_schemas: bool,
    ) -> Result<Planned, (Diagnostic, Option<Box<plan::datadep::DataRequest>>)> {
        let cache = self.cache();
        let mut statics: Vec<&String> = self.statics.iter().collect();
        statics.sort();
        let statics: Vec<Arc<dyn TableProvider>> = statics
            .into_iter()
            .filter_map(|n| self.tables.get(n).cloned())
            .collect();
        let cx = plan::PlanContext {
            tables: &self.tables,
            now: self.now,
            lookback: self.lookback,
            file_access: &self.file_access,
            data_columns: found,
            open_schemas,
            statics: &statics,
            static_cache: &cache,
        };
        let mut planner = plan::Planner::new(cx);
        let planned = match planner.plan_query(query) {
            Ok(p) => p,
            Err(d) => return Err((d, planner.take_data_request().map(Box::new))),
        };
        let requests = planner.take_static_requests();
        if plan::exceeds_nodes(&planned, plan::MAX_PLAN_NODES) {
            let span = match query.statements.last() {
                Some(kql::Statement::Expr(e)) => e.span(),
                _ => kql::Span::new(0, 0),
            };
            let message = format!(
                "the query's plan has more than {} operators once its `let`s are expanded: optimising it would take too long",
                plan::MAX_PLAN_NODES
            );
            return Err((Diagnostic::new(message, span), None));
        }
        plan::stages::merge_repeated_projections(planned)
            .map(|p| (p, requests))
            .map_err(|e| (Diagnostic::new(e.strip_backtrace(), kql::Span::new(0, 0)), None))
    }

    /// Runs a plan, streaming its batches.
    pub async fn execute(&self, plan: LogicalPlan) -> Result<SendableRecordBatchStream, QueryError> {
        let df = self
            .ctx
            .execute_logical_plan(plan)
            .await
            .map_err(|e| QueryError::Execution(e.strip_backtrace()))?;
        df.execute_stream()
            .await
            .map_err(|e| QueryError::Execution(e.strip_backtrace()))
    }

    /// Parses, plans and runs a query, collecting every batch.
    ///
    /// Bounded like an untrusted rule must be: past the time limit the query is cancelled, and a
    /// result that outgrows the memory limit fails it (operators inside the plan are bounded by
    /// the memory pool).
    pub async fn query(&self, text: &str) -> Result<(SchemaRef, Vec<RecordBatch>), QueryError> {
        let run = self.query_collect(text);
        match self.query_timeout {
            None => run.await,
            Some(limit) => tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
                Err(QueryError::Execution(format!(
                    "the query ran longer than its time limit ({} s) and was cancelled",
                    limit.as_secs_f64()
                )))
            }),
        }
    }

    async fn query_collect(&self, text: &str) -> Result<(SchemaRef, Vec<RecordBatch>), QueryError> {
        let plan = self.plan_with_data(text).await?;
        let schema: SchemaRef = Arc::new(plan.schema().as_arrow().clone());
        let mut stream = self.execute(plan).await?;
        let mut batches = Vec::new();
        let mut bytes = 0usize;
        while let Some(batch) = stream
            .try_next()
            .await
            .map_err(|e| QueryError::Execution(e.strip_backtrace()))?
        {
            bytes += batch.get_array_memory_size();
            if let Some(limit) = self.memory_limit
                && bytes > limit
            {
                return Err(QueryError::Execution(format!(
                    "the query's result outgrew the memory limit ({} MiB) and was stopped",
                    limit >> 20
                )));
            }
            batches.push(batch);
        }
        Ok((schema, batches))
    }
}
