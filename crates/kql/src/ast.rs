//! Syntax tree of a KQL query: plain data, every node with its source span.

use crate::span::Span;

/// A name as written: identifier, bracketed name (`['a b']`), or `$left` / `$right`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl Ident {
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Ident {
            name: name.into(),
            span,
        }
    }

    pub fn is(&self, keyword: &str) -> bool {
        self.name.eq_ignore_ascii_case(keyword)
    }
}

/// A whole query text: statements separated by `;`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    pub statements: Vec<Statement>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// `let name = ...`
    Let { name: Ident, value: LetValue, span: Span },
    /// `set option [= value]`
    Set {
        name: Ident,
        value: Option<Expr>,
        span: Span,
    },
    /// `declare query_parameters (name:type [= default], ...)`
    DeclareQueryParameters { params: Vec<Param>, span: Span },
    /// `alias database name = cluster(...).database(...)`
    Alias { name: Ident, value: Expr, span: Span },
    /// `restrict access to (name, ...)`
    RestrictAccess { names: Vec<Expr>, span: Span },
    /// A tabular or scalar expression.
    Expr(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum LetValue {
    Expr(Expr),
    /// `(params) { body }`, or `view (params) { body }` when `view` is set.
    Function(FunctionDef),
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDef {
    pub view: bool,
    pub params: Vec<Param>,
    /// The body's statements; the last is the result expression.
    pub body: Vec<Statement>,
    pub span: Span,
}

/// A function or query parameter: `name:type [= default]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Ident,
    pub ty: ParamType,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    Scalar(Ident),
    /// `(*)` is `Tabular { columns: [], open: true }`; `(a:string, *)` is open with columns.
    Tabular {
        columns: Vec<ColumnDecl>,
        open: bool,
    },
}

/// A column declaration `name:type` (datatable, externaldata, tabular parameters, parse).
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDecl {
    pub name: Ident,
    pub ty: Ident,
}

/// A literal value.
#[derive(Clone, Debug)]
pub enum Literal {
    Bool(Option<bool>),
    Int(Option<i32>),
    Long(Option<i64>),
    Real(Option<f64>),
    /// Decimal text as written (`decimal(1.5)`).
    Decimal(Option<String>),
    String {
        value: String,
        obfuscated: bool,
    },
    /// The text inside `datetime(...)`, trimmed; `None` for `datetime(null)`.
    Datetime(Option<String>),
    /// Ticks (100 ns).
    Timespan(Option<i64>),
    /// The text inside `guid(...)`.
    Guid(Option<String>),
    Dynamic(Dynamic),
}

impl PartialEq for Literal {
    fn eq(&self, other: &Literal) -> bool {
        use Literal::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Long(a), Long(b)) => a == b,
            (Real(a), Real(b)) => a.map(f64::to_bits) == b.map(f64::to_bits),
            (Decimal(a), Decimal(b)) => a == b,
            (
                String {
                    value: a,
                    obfuscated: x,
                },
                String {
                    value: b,
                    obfuscated: y,
                },
            ) => a == b && x == y,
            (Datetime(a), Datetime(b)) => a == b,
            (Timespan(a), Timespan(b)) => a == b,
            (Guid(a), Guid(b)) => a == b,
            (Dynamic(a), Dynamic(b)) => a == b,
            _ => false,
        }
    }
}

/// The value of a `dynamic(...)` literal.
#[derive(Clone, Debug, PartialEq)]
pub enum Dynamic {
    Null,
    Scalar(Box<Literal>),
    Array(Vec<Dynamic>),
    Object(Vec<(String, Dynamic)>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Plus,
}

/// Binary operators, one precedence level each in [`BinaryOp::precedence`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    /// `=~`
    EqCi,
    /// `!~`
    NotEqCi,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Str(StringOp),
}

/// The string operators written as words: `has`, `!contains_cs`, `matches regex`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StringOp {
    pub kind: StringOpKind,
    pub negated: bool,
    pub case_sensitive: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StringOpKind {
    Has,
    HasPrefix,
    HasSuffix,
    Contains,
    StartsWith,
    EndsWith,
    /// `matches regex` (never negated, always case-sensitive).
    MatchesRegex,
    /// The obsolete `like` family (`like`, `notlike`, `likecs`, `notlikecs`).
    Like,
}

impl StringOp {
    /// The operator as written in KQL.
    pub fn keyword(self) -> String {
        let base = match self.kind {
            StringOpKind::Has => "has",
            StringOpKind::HasPrefix => "hasprefix",
            StringOpKind::HasSuffix => "hassuffix",
            StringOpKind::Contains => "contains",
            StringOpKind::StartsWith => "startswith",
            StringOpKind::EndsWith => "endswith",
            StringOpKind::MatchesRegex => return "matches regex".into(),
            StringOpKind::Like => {
                return match (self.negated, self.case_sensitive) {
                    (false, false) => "like",
                    (true, false) => "notlike",
                    (false, true) => "likecs",
                    (true, true) => "notlikecs",
                }
                .into();
            }
        };
        format!(
            "{}{base}{}",
            if self.negated { "!" } else { "" },
            if self.case_sensitive { "_cs" } else { "" }
        )
    }

    /// Parses a keyword such as `!has_cs`; `None` when it is not a string operator.
    pub fn from_keyword(word: &str) -> Option<StringOp> {
        let lower = word.to_ascii_lowercase();
        let (negated, rest) = match lower.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, lower.as_str()),
        };
        let like = |negated, case_sensitive| {
            Some(StringOp {
                kind: StringOpKind::Like,
                negated,
                case_sensitive,
            })
        };
        let contains = |negated, case_sensitive| {
            Some(StringOp {
                kind: StringOpKind::Contains,
                negated,
                case_sensitive,
            })
        };
        match (negated, rest) {
            // Obsolete spellings Kusto still accepts.
            (false, "containscs") => return contains(false, true),
            (false, "notcontains") => return contains(true, false),
            (false, "notcontainscs") => return contains(true, true),
            (false, "like") => return like(false, false),
            (false, "notlike") => return like(true, false),
            (false, "likecs") => return like(false, true),
            (false, "notlikecs") => return like(true, true),
            _ => {}
        }
        let (rest, case_sensitive) = match rest.strip_suffix("_cs") {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let kind = match rest {
            "has" => StringOpKind::Has,
            "hasprefix" => StringOpKind::HasPrefix,
            "hassuffix" => StringOpKind::HasSuffix,
            "contains" => StringOpKind::Contains,
            "startswith" => StringOpKind::StartsWith,
            "endswith" => StringOpKind::EndsWith,
            _ => return None,
        };
        Some(StringOp {
            kind,
            negated,
            case_sensitive,
        })
    }
}

impl BinaryOp {
    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
            | BinaryOp::EqCi
            | BinaryOp::NotEqCi
            | BinaryOp::Str(_) => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 5,
        }
    }

    pub fn symbol(self) -> String {
        match self {
            BinaryOp::Or => "or".into(),
            BinaryOp::And => "and".into(),
            BinaryOp::Eq => "==".into(),
            BinaryOp::NotEq => "!=".into(),
            BinaryOp::Lt => "<".into(),
            BinaryOp::Le => "<=".into(),
            BinaryOp::Gt => ">".into(),
            BinaryOp::Ge => ">=".into(),
            BinaryOp::EqCi => "=~".into(),
            BinaryOp::NotEqCi => "!~".into(),
            BinaryOp::Add => "+".into(),
            BinaryOp::Sub => "-".into(),
            BinaryOp::Mul => "*".into(),
            BinaryOp::Div => "/".into(),
            BinaryOp::Mod => "%".into(),
            BinaryOp::Str(s) => s.keyword(),
        }
    }
}

/// Operators that take a parenthesised list on the right: `in`, `has_any`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListOp {
    In,
    NotIn,
    /// `in~`
    InCi,
    /// `!in~`
    NotInCi,
    HasAny,
    HasAll,
}

impl ListOp {
    pub fn keyword(self) -> &'static str {
        match self {
            ListOp::In => "in",
            ListOp::NotIn => "!in",
            ListOp::InCi => "in~",
            ListOp::NotInCi => "!in~",
            ListOp::HasAny => "has_any",
            ListOp::HasAll => "has_all",
        }
    }
}

/// A function call argument.
#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    Positional(Expr),
    /// `name = value` (plugin and some function arguments).
    Named(Ident, Expr),
}

impl Arg {
    pub fn expr(&self) -> &Expr {
        match self {
            Arg::Positional(e) | Arg::Named(_, e) => e,
        }
    }
}

/// A scalar or tabular expression. Pipelines are expressions too, so they nest anywhere a
/// value can stand (`toscalar(T | count)`, `x in (T | project y)`).
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    Literal(Literal, Span),
    /// A column, table, `let` name or parameter.
    Name(Ident),
    /// `*` as in `arg_max(T, *)`, `where * has "x"`.
    Star(Span),
    /// A name pattern with wildcards (`Device*`, `*Events`), in union and column lists.
    Pattern(String, Span),
    Paren(Box<Expr>, Span),
    Unary {
        op: UnaryOp,
        expr: Box<Expr>,
        span: Span,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    /// `and` / `or` chains, kept flat so long rule conditions do not nest deeply.
    Logical {
        op: BinaryOp,
        operands: Vec<Expr>,
        span: Span,
    },
    List {
        op: ListOp,
        expr: Box<Expr>,
        items: Vec<Expr>,
        span: Span,
    },
    Between {
        expr: Box<Expr>,
        negated: bool,
        low: Box<Expr>,
        high: Box<Expr>,
        span: Span,
    },
    /// `name(args)`, or `receiver.name(args)` as in `cluster("c").database("d")`.
    Call {
        receiver: Option<Box<Expr>>,
        name: Ident,
        args: Vec<Arg>,
        span: Span,
    },
    /// `d.name` (dynamic property, or `$left.Column`).
    Member {
        expr: Box<Expr>,
        name: Ident,
        span: Span,
    },
    /// `d[index]`.
    Index {
        expr: Box<Expr>,
        index: Box<Expr>,
        span: Span,
    },
    /// `source | op | op ...`
    Pipeline {
        source: Box<Expr>,
        ops: Vec<Operator>,
        span: Span,
    },
    /// An operator that starts a pipeline by itself: `print`, `range`, `union`, `datatable`, ...
    Source(Box<Operator>),
    /// `name = value` where a predicate is expected (`where a = "x"`): Kusto's parser accepts
    /// it and its analyser rejects it (not a bool), so it is kept for a precise error.
    Assign {
        name: Ident,
        value: Box<Expr>,
        span: Span,
    },
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Literal(_, s) | Expr::Star(s) | Expr::Pattern(_, s) | Expr::Paren(_, s) => *s,
            Expr::Name(i) => i.span,
            Expr::Unary { span, .. }
            | Expr::Binary { span, .. }
            | Expr::Logical { span, .. }
            | Expr::List { span, .. }
            | Expr::Between { span, .. }
            | Expr::Call { span, .. }
            | Expr::Member { span, .. }
            | Expr::Index { span, .. }
            | Expr::Pipeline { span, .. }
            | Expr::Assign { span, .. } => *span,
            Expr::Source(op) => op.span,
        }
    }
}

/// `name = expr`, `(a, b) = expr`, or just `expr` in extend / project / summarize / print.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedExpr {
    pub names: Vec<Ident>,
    pub expr: Expr,
}

/// `name = value` parameters of operators: `kind=inner`, `hint.strategy=shuffle`, `withsource=T`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpParam {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullsOrder {
    First,
    Last,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    pub expr: Expr,
    pub dir: Option<SortDir>,
    pub nulls: Option<NullsOrder>,
}

/// An item of `mv-expand` / `mv-apply`: `[name =] expr [to typeof(type)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpandItem {
    pub name: Option<Ident>,
    pub expr: Expr,
    pub to_type: Option<Ident>,
}

/// A part of a `parse` pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum ParsePart {
    Literal(String, Span),
    Column { name: Ident, ty: Option<Ident> },
    Star(Span),
}

/// `make-series` aggregation: `[name =] aggregate [default = value]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesAgg {
    pub name: Option<Ident>,
    pub expr: Expr,
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SeriesRange {
    /// `in range(start, stop, step)`
    In { start: Expr, stop: Expr, step: Expr },
    /// `[from start] [to end] step step`
    FromTo {
        from: Option<Expr>,
        to: Option<Expr>,
        step: Expr,
    },
}

/// One level of `top-nested`.
#[derive(Clone, Debug, PartialEq)]
pub struct TopNestedLevel {
    pub count: Option<Expr>,
    pub of: NamedExpr,
    pub others: Option<Expr>,
    pub by: NamedExpr,
    pub dir: Option<SortDir>,
}

/// A step of the `scan` operator.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanStep {
    pub name: Ident,
    pub output: Option<Ident>,
    pub condition: Expr,
    pub assignments: Vec<NamedExpr>,
}

/// The body of `partition`: a sub-pipeline of operators, or a braced query with its own source.
#[derive(Clone, Debug, PartialEq)]
pub enum SubQuery {
    Ops(Vec<Operator>),
    Braced(Box<Expr>),
}

/// A tabular operator with its span (from the operator keyword to its last token).
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    pub kind: OperatorKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OperatorKind {
    /// `where` / `filter`
    Where(Expr),
    Extend(Vec<NamedExpr>),
    Project(Vec<NamedExpr>),
    ProjectAway(Vec<Expr>),
    ProjectKeep(Vec<Expr>),
    ProjectRename(Vec<(Ident, Expr)>),
    ProjectReorder(Vec<(Expr, Option<SortDir>)>),
    Summarize {
        params: Vec<OpParam>,
        aggregates: Vec<NamedExpr>,
        by: Vec<NamedExpr>,
    },
    /// `sort by` / `order by`
    Sort {
        params: Vec<OpParam>,
        keys: Vec<SortKey>,
    },
    Top {
        count: Expr,
        key: SortKey,
    },
    TopNested(Vec<TopNestedLevel>),
    TopHitters {
        count: Expr,
        of: Expr,
        by: Option<Expr>,
    },
    /// `take` / `limit`
    Take(Expr),
    Distinct {
        params: Vec<OpParam>,
        columns: Vec<Expr>,
    },
    Count {
        as_name: Option<Ident>,
    },
    Join {
        params: Vec<OpParam>,
        right: Expr,
        on: Vec<Expr>,
    },
    Lookup {
        params: Vec<OpParam>,
        right: Expr,
        on: Vec<Expr>,
    },
    Union {
        params: Vec<OpParam>,
        tables: Vec<Expr>,
    },
    MvExpand {
        params: Vec<OpParam>,
        items: Vec<ExpandItem>,
        limit: Option<Expr>,
    },
    MvApply {
        params: Vec<OpParam>,
        items: Vec<ExpandItem>,
        limit: Option<Expr>,
        id: Option<Ident>,
        on: Vec<Operator>,
    },
    Parse {
        kind: ParseKind,
        params: Vec<OpParam>,
        expr: Expr,
        pattern: Vec<ParsePart>,
    },
    ParseKv {
        expr: Expr,
        columns: Vec<ColumnDecl>,
        with: Vec<OpParam>,
    },
    MakeSeries {
        params: Vec<OpParam>,
        aggregates: Vec<SeriesAgg>,
        on: Expr,
        range: SeriesRange,
        by: Vec<NamedExpr>,
    },
    Evaluate {
        params: Vec<OpParam>,
        call: Expr,
        schema: Option<ParamType>,
    },
    Render {
        chart: Ident,
        with: Vec<OpParam>,
    },
    Invoke(Expr),
    As {
        params: Vec<OpParam>,
        name: Ident,
    },
    Serialize(Vec<NamedExpr>),
    /// `search [kind=...] [in (T, ...)] predicate`
    Search {
        params: Vec<OpParam>,
        tables: Vec<Expr>,
        predicate: Expr,
    },
    /// `find [params] [in (T, ...)] where predicate [project ... | project-smart]`
    Find {
        params: Vec<OpParam>,
        tables: Vec<Expr>,
        predicate: Expr,
        project: Option<Vec<Expr>>,
    },
    Print(Vec<NamedExpr>),
    Datatable {
        schema: Vec<ColumnDecl>,
        values: Vec<Expr>,
    },
    ExternalData {
        schema: Vec<ColumnDecl>,
        uris: Vec<Expr>,
        with: Vec<OpParam>,
    },
    Range {
        column: Ident,
        from: Expr,
        to: Expr,
        step: Expr,
    },
    Getschema,
    Sample(Expr),
    SampleDistinct {
        count: Expr,
        of: Expr,
    },
    Scan {
        params: Vec<OpParam>,
        order_by: Vec<SortKey>,
        partition_by: Vec<Expr>,
        declare: Vec<Param>,
        steps: Vec<ScanStep>,
    },
    Partition {
        params: Vec<OpParam>,
        by: Expr,
        body: SubQuery,
    },
    Facet {
        by: Vec<Expr>,
        with: Vec<Operator>,
    },
    Fork(Vec<(Option<Ident>, Vec<Operator>)>),
    Consume(Vec<OpParam>),
    Reduce {
        params: Vec<OpParam>,
        by: Expr,
        with: Vec<OpParam>,
    },
    ProjectSmart,
    /// `lookup`-style catch-all is deliberately absent: unknown operators are errors.
    AssertSchema(ParamType),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseKind {
    Parse,
    ParseWhere,
}

impl Operator {
    /// The operator's keyword as written in canonical form.
    pub fn keyword(&self) -> &'static str {
        use OperatorKind::*;
        match &self.kind {
            Where(_) => "where",
            Extend(_) => "extend",
            Project(_) => "project",
            ProjectAway(_) => "project-away",
            ProjectKeep(_) => "project-keep",
            ProjectRename(_) => "project-rename",
            ProjectReorder(_) => "project-reorder",
            Summarize { .. } => "summarize",
            Sort { .. } => "sort",
            Top { .. } => "top",
            TopNested(_) => "top-nested",
            TopHitters { .. } => "top-hitters",
            Take(_) => "take",
            Distinct { .. } => "distinct",
            Count { .. } => "count",
            Join { .. } => "join",
            Lookup { .. } => "lookup",
            Union { .. } => "union",
            MvExpand { .. } => "mv-expand",
            MvApply { .. } => "mv-apply",
            Parse {
                kind: ParseKind::Parse, ..
            } => "parse",
            Parse {
                kind: ParseKind::ParseWhere,
                ..
            } => "parse-where",
            ParseKv { .. } => "parse-kv",
            MakeSeries { .. } => "make-series",
            Evaluate { .. } => "evaluate",
            Render { .. } => "render",
            Invoke(_) => "invoke",
            As { .. } => "as",
            Serialize(_) => "serialize",
            Search { .. } => "search",
            Find { .. } => "find",
            Print(_) => "print",
            Datatable { .. } => "datatable",
            ExternalData { .. } => "externaldata",
            Range { .. } => "range",
            Getschema => "getschema",
            Sample(_) => "sample",
            SampleDistinct { .. } => "sample-distinct",
            Scan { .. } => "scan",
            Partition { .. } => "partition",
            Facet { .. } => "facet",
            Fork(_) => "fork",
            Consume(_) => "consume",
            Reduce { .. } => "reduce",
            ProjectSmart => "project-smart",
            AssertSchema(_) => "assert-schema",
        }
    }
}
