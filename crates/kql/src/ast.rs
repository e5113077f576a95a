//! Syntax tree of a KQL query: plain data, every node with its source span.

use crate::span::Span;

/// A name as written: identifier, bracketed name (`['a b']`), or `$left` / `$right`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name, unquoted.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

impl Ident {
    /// A name and where it is written.
    pub fn new(name: impl Into<String>, span: Span) -> Self {
        Ident {
            name: name.into(),
            span,
        }
    }

    /// Whether the name is `keyword`, ignoring ASCII case.
    pub fn is(&self, keyword: &str) -> bool {
        self.name.eq_ignore_ascii_case(keyword)
    }
}

/// A whole query text: statements separated by `;`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Query {
    /// The statements, in order.
    pub statements: Vec<Statement>,
}

/// One `;`-separated statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Statement {
    /// `let name = ...`
    Let {
        /// The name bound.
        name: Ident,
        /// What it is bound to.
        value: LetValue,
        /// The whole statement.
        span: Span,
    },
    /// `set option [= value]`
    Set {
        /// The option name (a dotted name such as `a.b` kept whole).
        name: Ident,
        /// The value, when one is given.
        value: Option<Expr>,
        /// The whole statement.
        span: Span,
    },
    /// `declare query_parameters (name:type [= default], ...)`
    DeclareQueryParameters {
        /// The parameters declared.
        params: Vec<Param>,
        /// The whole statement.
        span: Span,
    },
    /// `alias database name = cluster(...).database(...)`
    Alias {
        /// The alias.
        name: Ident,
        /// The database it stands for.
        value: Expr,
        /// The whole statement.
        span: Span,
    },
    /// `restrict access to (name, ...)`
    RestrictAccess {
        /// The entities the query may use.
        names: Vec<Expr>,
        /// The whole statement.
        span: Span,
    },
    /// A tabular or scalar expression.
    Expr(Expr),
}

/// The right side of a `let` statement.
#[derive(Clone, Debug, PartialEq)]
pub enum LetValue {
    /// A scalar or tabular expression.
    Expr(Expr),
    /// `(params) { body }`, or `view (params) { body }` when `view` is set.
    Function(FunctionDef),
}

/// A user-defined function: `(params) { statements; result }`.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionDef {
    /// Written `view (...) { ... }`: the function acts as a table in `union *` and `search *`.
    pub view: bool,
    /// The parameters, in order.
    pub params: Vec<Param>,
    /// The body's statements; the last is the result expression.
    pub body: Vec<Statement>,
    /// From the parameter list to the closing brace.
    pub span: Span,
}

/// A function or query parameter: `name:type [= default]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter name.
    pub name: Ident,
    /// Its type.
    pub ty: ParamType,
    /// The value used when a call leaves it out.
    pub default: Option<Expr>,
}

/// The type of a parameter: a scalar type name or a table schema.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamType {
    /// A scalar type such as `string` or `datetime`.
    Scalar(Ident),
    /// `(*)` is `Tabular { columns: [], open: true }`; `(a:string, *)` is open with columns.
    Tabular {
        /// The columns the table must have.
        columns: Vec<ColumnDecl>,
        /// Whether other columns may follow (`*`).
        open: bool,
    },
}

/// A column declaration `name:type` (datatable, externaldata, tabular parameters, parse).
#[derive(Clone, Debug, PartialEq)]
pub struct ColumnDecl {
    /// The column name.
    pub name: Ident,
    /// The type name as written.
    pub ty: Ident,
}

/// A literal value.
#[derive(Clone, Debug)]
pub enum Literal {
    /// `true`, `false`, `bool(null)`.
    Bool(Option<bool>),
    /// `int(5)`, `int(null)`.
    Int(Option<i32>),
    /// `5`, `long(-5)`, `long(null)`.
    Long(Option<i64>),
    /// `1.5`, `real(nan)`, `real(null)`.
    Real(Option<f64>),
    /// Decimal text as written (`decimal(1.5)`).
    Decimal(Option<String>),
    /// A string literal; adjacent literals (`"a" "b"`) are joined.
    String {
        /// The decoded text.
        value: String,
        /// Written `h"..."`: the text is hidden from logs.
        obfuscated: bool,
    },
    /// The text inside `datetime(...)`, trimmed; `None` for `datetime(null)`.
    Datetime(Option<String>),
    /// Ticks (100 ns).
    Timespan(Option<i64>),
    /// The text inside `guid(...)`.
    Guid(Option<String>),
    /// `dynamic(...)`.
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
    /// `null`.
    Null,
    /// A number, string, bool, datetime, timespan or guid.
    Scalar(Box<Literal>),
    /// `[v, ...]`.
    Array(Vec<Dynamic>),
    /// `{"key": v, ...}`, keys in written order.
    Object(Vec<(String, Dynamic)>),
}

/// A prefix sign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `+x`
    Plus,
}

/// Binary operators, one precedence level each in [`BinaryOp::precedence`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=~`
    EqCi,
    /// `!~`
    NotEqCi,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// A string operator such as `has` or `!startswith_cs`.
    Str(StringOp),
}

/// The string operators written as words: `has`, `!contains_cs`, `matches regex`, ...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StringOp {
    /// Which test.
    pub kind: StringOpKind,
    /// Written with `!` (or an obsolete `not...` spelling such as `notlike`).
    pub negated: bool,
    /// Written with `_cs` (or an obsolete `...cs` spelling such as `likecs`).
    pub case_sensitive: bool,
}

/// The test a [`StringOp`] makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StringOpKind {
    /// `has`: a whole term.
    Has,
    /// `hasprefix`: a term prefix.
    HasPrefix,
    /// `hassuffix`: a term suffix.
    HasSuffix,
    /// `contains`: a substring.
    Contains,
    /// `startswith`
    StartsWith,
    /// `endswith`
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

    /// The operator as written in KQL (`==`, `and`, `!has_cs`, ...).
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
    /// `in`
    In,
    /// `!in`
    NotIn,
    /// `in~`
    InCi,
    /// `!in~`
    NotInCi,
    /// `has_any`
    HasAny,
    /// `has_all`
    HasAll,
}

impl ListOp {
    /// The operator as written in KQL.
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
    /// A plain argument.
    Positional(Expr),
    /// `name = value` (plugin and some function arguments).
    Named(Ident, Expr),
}

impl Arg {
    /// The argument's value, named or not.
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
    /// A literal value and where it is written.
    Literal(Literal, Span),
    /// A column, table, `let` name or parameter.
    Name(Ident),
    /// `*` as in `arg_max(T, *)`, `where * has "x"`.
    Star(Span),
    /// A name pattern with wildcards (`Device*`, `*Events`), in union and column lists.
    Pattern(String, Span),
    /// `(expr)`, kept so the tree prints back as written.
    Paren(Box<Expr>, Span),
    /// `-x`, `+x`
    Unary {
        /// The sign.
        op: UnaryOp,
        /// The operand.
        expr: Box<Expr>,
        /// From the sign to the end of the operand.
        span: Span,
    },
    /// `left op right` for arithmetic, comparison and string operators.
    Binary {
        /// The operator.
        op: BinaryOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
        /// Both operands.
        span: Span,
    },
    /// `and` / `or` chains, kept flat so long rule conditions do not nest deeply.
    Logical {
        /// [`BinaryOp::And`] or [`BinaryOp::Or`].
        op: BinaryOp,
        /// Two or more operands, in order.
        operands: Vec<Expr>,
        /// All the operands.
        span: Span,
    },
    /// `expr in (items)`, `expr has_any (items)`, ...
    List {
        /// The operator.
        op: ListOp,
        /// The value tested.
        expr: Box<Expr>,
        /// The list: values, sub-queries or dynamic arrays.
        items: Vec<Expr>,
        /// From the value to the closing parenthesis.
        span: Span,
    },
    /// `expr [!]between (low .. high)`
    Between {
        /// The value tested.
        expr: Box<Expr>,
        /// Written `!between`.
        negated: bool,
        /// The lower bound (inclusive).
        low: Box<Expr>,
        /// The upper bound (inclusive).
        high: Box<Expr>,
        /// From the value to the closing parenthesis.
        span: Span,
    },
    /// `name(args)`, or `receiver.name(args)` as in `cluster("c").database("d")`.
    Call {
        /// The expression before the `.`, if any.
        receiver: Option<Box<Expr>>,
        /// The function name.
        name: Ident,
        /// The arguments, in order.
        args: Vec<Arg>,
        /// From the receiver or name to the closing parenthesis.
        span: Span,
    },
    /// `d.name` (dynamic property, or `$left.Column`).
    Member {
        /// The value whose member is taken.
        expr: Box<Expr>,
        /// The member name.
        name: Ident,
        /// From the value to the name.
        span: Span,
    },
    /// `d[index]`.
    Index {
        /// The value indexed.
        expr: Box<Expr>,
        /// The index or key.
        index: Box<Expr>,
        /// From the value to the closing bracket.
        span: Span,
    },
    /// `source | op | op ...`
    Pipeline {
        /// The input: a table expression or a source operator.
        source: Box<Expr>,
        /// The operators, in order.
        ops: Vec<Operator>,
        /// From the source to the last operator.
        span: Span,
    },
    /// An operator that starts a pipeline by itself: `print`, `range`, `union`, `datatable`, ...
    Source(Box<Operator>),
    /// `name = value` where a predicate is expected (`where a = "x"`): Kusto's parser accepts
    /// it and its analyser rejects it (not a bool), so it is kept for a precise error.
    Assign {
        /// The name on the left.
        name: Ident,
        /// The value on the right.
        value: Box<Expr>,
        /// Both sides.
        span: Span,
    },
}

impl Expr {
    /// Where the expression is written.
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
    /// The names given, none when the column name is left to the engine.
    pub names: Vec<Ident>,
    /// The value.
    pub expr: Expr,
}

/// `name = value` parameters of operators: `kind=inner`, `hint.strategy=shuffle`, `withsource=T`.
#[derive(Clone, Debug, PartialEq)]
pub struct OpParam {
    /// The parameter name (dotted names such as `hint.strategy` kept whole).
    pub name: Ident,
    /// The value: a name or a literal.
    pub value: Expr,
}

/// A sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortDir {
    /// `asc` (or `granny-asc`).
    Asc,
    /// `desc` (or `granny-desc`).
    Desc,
}

/// Where nulls sort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullsOrder {
    /// `nulls first`
    First,
    /// `nulls last`
    Last,
}

/// A sort key: `expr [asc|desc] [nulls first|last]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SortKey {
    /// The value sorted on.
    pub expr: Expr,
    /// The direction, when written.
    pub dir: Option<SortDir>,
    /// Where nulls go, when written.
    pub nulls: Option<NullsOrder>,
}

/// An item of `mv-expand` / `mv-apply`: `[name =] expr [to typeof(type)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpandItem {
    /// The name of the expanded column, when given.
    pub name: Option<Ident>,
    /// The array or bag expanded.
    pub expr: Expr,
    /// The type the values are converted to, when given.
    pub to_type: Option<Ident>,
}

/// A part of a `parse` pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum ParsePart {
    /// A string the text must contain here.
    Literal(String, Span),
    /// A column that takes the text up to the next part: `name[:type]`.
    Column {
        /// The new column.
        name: Ident,
        /// Its type, when given (else `string`).
        ty: Option<Ident>,
    },
    /// `*`: text skipped up to the next part.
    Star(Span),
}

/// `make-series` aggregation: `[name =] aggregate [default = value]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesAgg {
    /// The name of the series column, when given.
    pub name: Option<Ident>,
    /// The aggregation.
    pub expr: Expr,
    /// The value for bins without rows, when given.
    pub default: Option<Expr>,
}

/// The axis range of `make-series`.
#[derive(Clone, Debug, PartialEq)]
pub enum SeriesRange {
    /// `in range(start, stop, step)`
    In {
        /// The first bin.
        start: Expr,
        /// The end of the range.
        stop: Expr,
        /// The bin size.
        step: Expr,
    },
    /// `[from start] [to end] step step`
    FromTo {
        /// The first bin, when given.
        from: Option<Expr>,
        /// The end of the range, when given.
        to: Option<Expr>,
        /// The bin size.
        step: Expr,
    },
}

/// One level of `top-nested`.
#[derive(Clone, Debug, PartialEq)]
pub struct TopNestedLevel {
    /// How many values to keep, when given (else all).
    pub count: Option<Expr>,
    /// The value grouped on: `of [name =] expr`.
    pub of: NamedExpr,
    /// `with others = value`: the value for the rows not kept.
    pub others: Option<Expr>,
    /// The aggregation ranked by: `by [name =] aggregate`.
    pub by: NamedExpr,
    /// The ranking direction, when written.
    pub dir: Option<SortDir>,
}

/// A step of the `scan` operator.
#[derive(Clone, Debug, PartialEq)]
pub struct ScanStep {
    /// The step name.
    pub name: Ident,
    /// `output=all|last|none`, when given.
    pub output: Option<Ident>,
    /// The condition a row must meet to match the step.
    pub condition: Expr,
    /// `=> name = value, ...`: assignments made on a match.
    pub assignments: Vec<NamedExpr>,
}

/// The body of `partition`: a sub-pipeline of operators, or a braced query with its own source.
#[derive(Clone, Debug, PartialEq)]
pub enum SubQuery {
    /// `(op | op ...)` applied to each partition.
    Ops(Vec<Operator>),
    /// `{ query }`: a query with its own source, run for each partition.
    Braced(Box<Expr>),
}

/// A tabular operator with its span (from the operator keyword to its last token).
#[derive(Clone, Debug, PartialEq)]
pub struct Operator {
    /// Which operator, with its arguments.
    pub kind: OperatorKind,
    /// From the keyword to the operator's last token.
    pub span: Span,
}

/// A tabular operator and its arguments. `params` fields hold the `name=value` parameters
/// written right after the keyword (`kind=inner`, `hint.strategy=shuffle`).
#[derive(Clone, Debug, PartialEq)]
pub enum OperatorKind {
    /// `where` / `filter`
    Where(Expr),
    /// `extend`
    Extend(Vec<NamedExpr>),
    /// `project`
    Project(Vec<NamedExpr>),
    /// `project-away`: columns or name patterns.
    ProjectAway(Vec<Expr>),
    /// `project-keep`: columns or name patterns.
    ProjectKeep(Vec<Expr>),
    /// `project-rename new = old, ...`
    ProjectRename(Vec<(Ident, Expr)>),
    /// `project-reorder col [asc|desc], ...`
    ProjectReorder(Vec<(Expr, Option<SortDir>)>),
    /// `summarize [aggregates] [by keys]`
    Summarize {
        /// Operator parameters.
        params: Vec<OpParam>,
        /// The aggregations.
        aggregates: Vec<NamedExpr>,
        /// The group keys.
        by: Vec<NamedExpr>,
    },
    /// `sort by` / `order by`
    Sort {
        /// Operator parameters.
        params: Vec<OpParam>,
        /// The keys, most significant first.
        keys: Vec<SortKey>,
    },
    /// `top count by key`
    Top {
        /// How many rows.
        count: Expr,
        /// The sort key.
        key: SortKey,
    },
    /// `top-nested ..., top-nested ...`: one entry a level.
    TopNested(Vec<TopNestedLevel>),
    /// `top-hitters count of expr [by weight]`
    TopHitters {
        /// How many values.
        count: Expr,
        /// The value counted.
        of: Expr,
        /// The weight summed instead of counting rows, when given.
        by: Option<Expr>,
    },
    /// `take` / `limit`
    Take(Expr),
    /// `distinct columns`
    Distinct {
        /// Operator parameters.
        params: Vec<OpParam>,
        /// The columns (or `*`).
        columns: Vec<Expr>,
    },
    /// `count [as name]`
    Count {
        /// The name of the count column, when given.
        as_name: Option<Ident>,
    },
    /// `join [params] right on keys` (or `where predicate`)
    Join {
        /// Operator parameters (`kind=...`, hints).
        params: Vec<OpParam>,
        /// The right table.
        right: Expr,
        /// The join keys or conditions.
        on: Vec<Expr>,
    },
    /// `lookup [params] right on keys`
    Lookup {
        /// Operator parameters (`kind=...`).
        params: Vec<OpParam>,
        /// The dimension table.
        right: Expr,
        /// The join keys.
        on: Vec<Expr>,
    },
    /// `union [params] tables`
    Union {
        /// Operator parameters (`kind=...`, `withsource=...`).
        params: Vec<OpParam>,
        /// The tables: names, patterns, calls or sub-queries.
        tables: Vec<Expr>,
    },
    /// `mv-expand [params] items [limit n]`
    MvExpand {
        /// Operator parameters (`bagexpansion=...`, `with_itemindex=...`).
        params: Vec<OpParam>,
        /// The columns expanded together.
        items: Vec<ExpandItem>,
        /// The most rows made from one row, when given.
        limit: Option<Expr>,
    },
    /// `mv-apply [params] items [limit n] [id = name] on (sub-pipeline)`
    MvApply {
        /// Operator parameters.
        params: Vec<OpParam>,
        /// The columns expanded together.
        items: Vec<ExpandItem>,
        /// The most rows made from one row, when given.
        limit: Option<Expr>,
        /// `id = name`: the column that numbers the input rows, when given.
        id: Option<Ident>,
        /// The operators applied to each row's expansion.
        on: Vec<Operator>,
    },
    /// `parse` / `parse-where [params] expr with pattern`
    Parse {
        /// `parse` or `parse-where`.
        kind: ParseKind,
        /// Operator parameters (`kind=regex`, `flags=...`).
        params: Vec<OpParam>,
        /// The text parsed.
        expr: Expr,
        /// The pattern.
        pattern: Vec<ParsePart>,
    },
    /// `parse-kv expr as (columns) [with (params)]`
    ParseKv {
        /// The text parsed.
        expr: Expr,
        /// The columns extracted.
        columns: Vec<ColumnDecl>,
        /// The `with (...)` options.
        with: Vec<OpParam>,
    },
    /// `make-series [params] aggregates on axis range [by keys]`
    MakeSeries {
        /// Operator parameters.
        params: Vec<OpParam>,
        /// The aggregations, one series each.
        aggregates: Vec<SeriesAgg>,
        /// The axis column.
        on: Expr,
        /// The axis range and step.
        range: SeriesRange,
        /// The group keys.
        by: Vec<NamedExpr>,
    },
    /// `evaluate [params] plugin(args) [: schema]`
    Evaluate {
        /// Operator parameters (`hint.distribution=...`).
        params: Vec<OpParam>,
        /// The plugin call.
        call: Expr,
        /// The output schema, when given.
        schema: Option<ParamType>,
    },
    /// `render chart [with (props)]`
    Render {
        /// The chart type.
        chart: Ident,
        /// The properties (`with (...)` or the older bare `name=value` form).
        with: Vec<OpParam>,
    },
    /// `invoke function(args)`
    Invoke(Expr),
    /// `as [params] name`
    As {
        /// Operator parameters (`hint.materialized=...`).
        params: Vec<OpParam>,
        /// The name given to the result.
        name: Ident,
    },
    /// `serialize [columns]`
    Serialize(Vec<NamedExpr>),
    /// `search [kind=...] [in (T, ...)] predicate`
    Search {
        /// Operator parameters (`kind=...`).
        params: Vec<OpParam>,
        /// The `in (...)` tables; empty for the piped input or all tables.
        tables: Vec<Expr>,
        /// The search predicate.
        predicate: Expr,
    },
    /// `find [params] [in (T, ...)] where predicate [project ... | project-smart]`
    Find {
        /// Operator parameters (`withsource=...`).
        params: Vec<OpParam>,
        /// The `in (...)` tables; empty for all tables.
        tables: Vec<Expr>,
        /// The predicate.
        predicate: Expr,
        /// The `project` columns; `None` when absent or `project-smart`.
        project: Option<Vec<Expr>>,
    },
    /// `print [columns]`
    Print(Vec<NamedExpr>),
    /// `datatable (schema) [values]`
    Datatable {
        /// The columns.
        schema: Vec<ColumnDecl>,
        /// The values, row after row.
        values: Vec<Expr>,
    },
    /// `externaldata (schema) [uris] [with (props)]`
    ExternalData {
        /// The columns.
        schema: Vec<ColumnDecl>,
        /// The storage URIs.
        uris: Vec<Expr>,
        /// The `with (...)` properties (`format=...`).
        with: Vec<OpParam>,
    },
    /// `range column from start to stop step step`
    Range {
        /// The column made.
        column: Ident,
        /// The first value.
        from: Expr,
        /// The last value (inclusive).
        to: Expr,
        /// The step.
        step: Expr,
    },
    /// `getschema`
    Getschema,
    /// `sample n`
    Sample(Expr),
    /// `sample-distinct count of column`
    SampleDistinct {
        /// How many values.
        count: Expr,
        /// The column sampled.
        of: Expr,
    },
    /// `scan [params] [order by ...] [partition by ...] [declare (...)] with (steps)`
    Scan {
        /// Operator parameters.
        params: Vec<OpParam>,
        /// The order rows are scanned in.
        order_by: Vec<SortKey>,
        /// The keys scanned separately.
        partition_by: Vec<Expr>,
        /// The state columns declared.
        declare: Vec<Param>,
        /// The steps, in order.
        steps: Vec<ScanStep>,
    },
    /// `partition [params] by column (sub-pipeline)` or `{ query }`
    Partition {
        /// Operator parameters (`hint.strategy=...`).
        params: Vec<OpParam>,
        /// The partition key column.
        by: Expr,
        /// What runs on each partition.
        body: SubQuery,
    },
    /// `facet by columns [with (sub-pipeline)]`
    Facet {
        /// The columns faceted on.
        by: Vec<Expr>,
        /// The operators applied to the input for the extra result.
        with: Vec<Operator>,
    },
    /// `fork [name =] (sub-pipeline) ...`: each branch with its name, when given.
    Fork(Vec<(Option<Ident>, Vec<Operator>)>),
    /// `consume [params]`
    Consume(Vec<OpParam>),
    /// `reduce [params] by column [with params]`
    Reduce {
        /// Operator parameters (`kind=...`).
        params: Vec<OpParam>,
        /// The column of text reduced.
        by: Expr,
        /// The `with` parameters (`threshold=...`, `characters=...`).
        with: Vec<OpParam>,
    },
    /// `project-smart`
    ProjectSmart,
    /// `assert-schema (columns)`. (No variant catches unknown operators: they are errors.)
    AssertSchema(ParamType),
}

/// Which form of `parse` an operator is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseKind {
    /// `parse`: rows that do not match keep empty columns.
    Parse,
    /// `parse-where`: rows that do not match are dropped.
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
