//! Compiled detections (field ids, pre-folded matchers, resolved conditions), their exact
//! evaluation against one event, and extraction of the literal needles a detection requires.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::condition::{Condition, Quantifier, resolve_target};
use crate::error::ErrorKind;
use crate::event::{Event, FieldValue, Meta, parse_number};
use crate::logsource::{FieldSpec, Source, TemplatePart};
use crate::modifier::{Cidr, CmpOp, FieldMatch, TimePart, Value};
use crate::pattern::{StrMatcher, fold_case, fold_case_into};
use crate::rule::{Detection, Search};
use crate::time::{CivilTime, parse_timestamp};

/// Index of a (case-folded) event field name in the compiled rule set.
pub(crate) type FieldId = u32;

/// Interned, case-folded field names.
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldTable {
    pub ids: HashMap<String, FieldId>,
    /// (case-insensitive hash, id), sorted; built by [`FieldTable::finish`].
    index: Vec<(u64, FieldId)>,
    names: Vec<String>,
}

/// FNV-1a over ASCII-lowercased bytes: hashes a field name case-insensitively without allocating.
fn ci_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b.to_ascii_lowercase())).wrapping_mul(0x0100_0000_01b3)
    })
}

impl FieldTable {
    pub(crate) fn intern(&mut self, name: &str) -> FieldId {
        let key = name.to_ascii_lowercase();
        let next = self.ids.len() as FieldId;
        *self.ids.entry(key).or_insert(next)
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Builds the lookup index once all names are interned.
    pub(crate) fn finish(&mut self) {
        self.names = vec![String::new(); self.ids.len()];
        self.index.clear();
        for (name, id) in &self.ids {
            if let Some(slot) = self.names.get_mut(*id as usize) {
                slot.clone_from(name);
            }
            self.index.push((ci_hash(name), *id));
        }
        self.index.sort_unstable();
    }

    /// Case-insensitive lookup of an event field name.
    pub(crate) fn find(&self, name: &str) -> Option<FieldId> {
        let h = ci_hash(name);
        let start = self.index.partition_point(|(x, _)| *x < h);
        self.index[start..]
            .iter()
            .take_while(|(x, _)| *x == h)
            .map(|(_, id)| *id)
            .find(|id| {
                self.names
                    .get(*id as usize)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
    }
}

#[derive(Debug, Clone)]
pub(crate) enum CTemplatePart {
    Text(String),
    Field(FieldId),
}

/// Where a compiled field test reads its value.
#[derive(Debug, Clone)]
pub(crate) enum FieldRef {
    Id(FieldId),
    Template(Vec<CTemplatePart>),
    /// The field's value translated by a table.
    Lookup(Box<CLookup>),
    /// A member of a JSON column (see [`FieldSpec::Member`]).
    Member(Box<CMember>),
}

/// A compiled JSON member.
#[derive(Debug, Clone)]
pub(crate) struct CMember {
    /// The JSON column.
    pub column: FieldId,
    /// The member's last name, read as a field when the event has no such column.
    pub leaf: FieldId,
    /// Property names from the root.
    pub path: Vec<String>,
    /// Prefix removed when present (ASCII, case-insensitive).
    pub strip_prefix: Option<String>,
}

/// A compiled lookup (see [`FieldSpec::Lookup`]).
#[derive(Debug, Clone)]
pub(crate) struct CLookup {
    pub field: FieldId,
    /// (Sigma value, event values folded to lower case).
    pub values: Vec<(String, Vec<String>)>,
    /// The event value is a value of the Sigma field too.
    pub keep: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum CValue {
    /// Matcher and whether it is case-sensitive (compiled on folded literals otherwise).
    Str(StrMatcher, bool),
    Regex(regex::Regex),
    Cidr(Cidr),
    Cmp(CmpOp, f64),
    Null,
    Exists(bool),
    FieldRef(FieldRef, bool),
}

#[derive(Debug, Clone)]
pub(crate) struct CField {
    /// `None`: keyword search over every field.
    pub field: Option<FieldRef>,
    pub values: Vec<CValue>,
    pub all: bool,
    pub neq: bool,
    pub time_part: Option<TimePart>,
    /// Whether any value is a `fieldref` (their texts are resolved before matching).
    pub has_fieldref: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum CSearch {
    And(Vec<CField>),
    Or(Vec<CSearch>),
}

#[derive(Debug, Clone)]
pub(crate) enum CExpr {
    Search(usize),
    Not(Box<CExpr>),
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
    AtLeast(u32, Vec<usize>),
    All(Vec<usize>),
}

/// A detection compiled for one source: searches and the OR-linked conditions.
#[derive(Debug, Clone)]
pub(crate) struct CDetection {
    pub searches: Vec<CSearch>,
    pub conditions: Vec<CExpr>,
}

fn field_ref(spec: FieldSpec, fields: &mut FieldTable) -> FieldRef {
    match spec {
        FieldSpec::Field(name) => FieldRef::Id(fields.intern(&name)),
        FieldSpec::Template(parts) => FieldRef::Template(
            parts
                .into_iter()
                .map(|p| match p {
                    TemplatePart::Text(t) => CTemplatePart::Text(t),
                    TemplatePart::Field(f) => CTemplatePart::Field(fields.intern(&f)),
                })
                .collect(),
        ),
        FieldSpec::Lookup { field, values, keep } => FieldRef::Lookup(Box::new(CLookup {
            field: fields.intern(&field),
            values: values
                .into_iter()
                .map(|(to, from)| (to, from.iter().map(|v| v.to_lowercase()).collect()))
                .collect(),
            keep,
        })),
        FieldSpec::Member {
            column,
            path,
            strip_prefix,
        } => {
            let leaf = fields.intern(path.last().map(String::as_str).unwrap_or_default());
            FieldRef::Member(Box::new(CMember {
                column: fields.intern(&column),
                leaf,
                path,
                strip_prefix,
            }))
        }
    }
}

/// The text of a JSON column's member (see [`FieldSpec::Member`]); `None` when the text is not
/// JSON or the member is missing or null.
pub(crate) fn json_member(text: &str, path: &[String]) -> Option<String> {
    let root: serde_json::Value = serde_json::from_str(text).ok()?;
    let mut v = &root;
    for name in path {
        v = v.as_object()?.get(name)?;
    }
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

pub(crate) fn compile_field(fm: &FieldMatch, source: &Source, fields: &mut FieldTable) -> Result<CField, ErrorKind> {
    let field = fm.field.as_deref().map(|f| field_ref(source.field(f), fields));
    let mut values = Vec::with_capacity(fm.values.len());
    for v in &fm.values {
        values.push(match v {
            Value::Pattern(p) => CValue::Str(StrMatcher::new(p, !fm.cased), fm.cased),
            Value::Regex(rv) => CValue::Regex(rv.compile().map_err(ErrorKind::Regex)?),
            Value::Cidr(c) => CValue::Cidr(*c),
            Value::Compare(op, n) => CValue::Cmp(*op, *n),
            Value::Null => CValue::Null,
            Value::Exists(b) => CValue::Exists(*b),
            Value::FieldRef(name) => CValue::FieldRef(field_ref(source.field(name), fields), fm.cased),
        });
    }
    let has_fieldref = values.iter().any(|v| matches!(v, CValue::FieldRef(..)));
    Ok(CField {
        field,
        values,
        all: fm.all,
        neq: fm.neq,
        time_part: fm.time_part,
        has_fieldref,
    })
}

fn compile_search(s: &Search, source: &Source, fields: &mut FieldTable) -> Result<CSearch, ErrorKind> {
    Ok(match s {
        Search::Map(items) => CSearch::And(
            items
                .iter()
                .map(|f| compile_field(f, source, fields))
                .collect::<Result<_, _>>()?,
        ),
        Search::List(alts) => CSearch::Or(
            alts.iter()
                .map(|a| compile_search(a, source, fields))
                .collect::<Result<_, _>>()?,
        ),
    })
}

fn compile_condition(c: &Condition, det: &Detection) -> Result<CExpr, ErrorKind> {
    let names = || det.searches.iter().map(|s| s.name.as_str());
    let indices = |t| -> Vec<usize> {
        resolve_target(t, names())
            .into_iter()
            .filter_map(|n| det.search_index(n))
            .collect()
    };
    Ok(match c {
        Condition::Ident(n) => CExpr::Search(
            det.search_index(n)
                .ok_or_else(|| ErrorKind::UndefinedIdentifier(n.clone()))?,
        ),
        Condition::Not(inner) => CExpr::Not(Box::new(compile_condition(inner, det)?)),
        Condition::And(cs) => CExpr::And(cs.iter().map(|c| compile_condition(c, det)).collect::<Result<_, _>>()?),
        Condition::Or(cs) => CExpr::Or(cs.iter().map(|c| compile_condition(c, det)).collect::<Result<_, _>>()?),
        Condition::Of(Quantifier::All, t) => CExpr::All(indices(t)),
        Condition::Of(Quantifier::AtLeast(n), t) => CExpr::AtLeast(*n, indices(t)),
    })
}

pub(crate) fn compile_detection(
    det: &Detection,
    source: &Source,
    fields: &mut FieldTable,
) -> Result<CDetection, ErrorKind> {
    let searches = det
        .searches
        .iter()
        .map(|s| compile_search(&s.search, source, fields))
        .collect::<Result<_, _>>()?;
    let conditions = det
        .conditions
        .iter()
        .map(|c| compile_condition(c, det))
        .collect::<Result<_, _>>()?;
    Ok(CDetection { searches, conditions })
}

// ------------------------------------------------------------------------------------------
// Per-event state

/// Where a field id is found in the current event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Absent,
    /// Single occurrence at this event field index.
    One(u32),
    /// Several occurrences; the first is at this index.
    Many(u32),
    /// Not a real field: event metadata.
    Meta(Meta),
}

/// Reusable per-event buffers.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub slots: Vec<Slot>,
    pub touched: Vec<FieldId>,
    /// Field id of each event field (for repeated names).
    pub event_fids: Vec<Option<FieldId>>,
    /// 0 = not computed, 1 = text, 2 = null.
    state: Vec<u8>,
    lower: Vec<String>,
    text: Vec<String>,
    pub memo: Vec<u8>,
}

impl Scratch {
    /// Resets the per-event state for an event with `n` fields and `nfields` known field ids.
    pub(crate) fn reset(&mut self, n: usize, nfields: usize) {
        for &f in &self.touched {
            if let Some(s) = self.slots.get_mut(f as usize) {
                *s = Slot::Absent;
            }
        }
        self.touched.clear();
        if self.slots.len() != nfields {
            self.slots.clear();
            self.slots.resize(nfields, Slot::Absent);
        }
        self.event_fids.clear();
        self.state.clear();
        self.state.resize(n, 0);
        if self.lower.len() < n {
            self.lower.resize_with(n, String::new);
            self.text.resize_with(n, String::new);
        }
    }

    pub(crate) fn set_slot(&mut self, fid: FieldId, slot: Slot) {
        if let Some(s) = self.slots.get_mut(fid as usize) {
            if *s == Slot::Absent {
                self.touched.push(fid);
            }
            *s = slot;
        }
    }
}

/// A field value prepared for matching.
#[derive(Clone, Copy)]
pub(crate) struct Val<'x> {
    pub orig: &'x str,
    pub lower: &'x str,
}

/// Evaluation context for one event.
pub(crate) struct Ctx<'s, 'e, 'a> {
    pub event: &'e Event<'a>,
    pub scratch: &'s mut Scratch,
}

impl Ctx<'_, '_, '_> {
    /// Prepares the text of event field `i`; false when the value is null.
    pub(crate) fn ensure(&mut self, i: usize) -> bool {
        let st = self.scratch.state.get(i).copied().unwrap_or(2);
        if st != 0 {
            return st == 1;
        }
        let Some((_, v)) = self.event.fields().get(i) else {
            return false;
        };
        let lower = &mut self.scratch.lower[i];
        lower.clear();
        let state = match v {
            FieldValue::Null => 2,
            FieldValue::Str(s) => {
                fold_case_into(s, lower);
                1
            }
            other => {
                let text = &mut self.scratch.text[i];
                text.clear();
                text.push_str(&other.as_text().unwrap_or_default());
                lower.push_str(text);
                1
            }
        };
        self.scratch.state[i] = state;
        state == 1
    }

    /// Text of an ensured, non-null field.
    pub(crate) fn val(&self, i: usize) -> Val<'_> {
        let orig = match self.event.fields().get(i) {
            Some((_, FieldValue::Str(s))) => s.as_ref(),
            _ => self.scratch.text.get(i).map(String::as_str).unwrap_or_default(),
        };
        Val {
            orig,
            lower: self.scratch.lower.get(i).map(String::as_str).unwrap_or_default(),
        }
    }

    fn slot(&self, fid: FieldId) -> Slot {
        self.scratch.slots.get(fid as usize).copied().unwrap_or(Slot::Absent)
    }

    /// Original text of a field id (first occurrence), `None` when absent or null.
    fn text_of(&mut self, fid: FieldId) -> Option<String> {
        match self.slot(fid) {
            Slot::Absent => None,
            Slot::One(i) | Slot::Many(i) => {
                let i = i as usize;
                if self.ensure(i) {
                    Some(self.val(i).orig.to_owned())
                } else {
                    None
                }
            }
            Slot::Meta(m) => self.event.meta(m).and_then(|v| v.as_text().map(|t| t.into_owned())),
        }
    }

    fn ref_text(&mut self, r: &FieldRef) -> Option<String> {
        match r {
            FieldRef::Id(fid) => self.text_of(*fid),
            FieldRef::Template(parts) => {
                let mut out = String::new();
                let mut any = false;
                for p in parts {
                    match p {
                        CTemplatePart::Text(t) => out.push_str(t),
                        CTemplatePart::Field(f) => {
                            if let Some(t) = self.text_of(*f) {
                                any = true;
                                out.push_str(&t);
                            }
                        }
                    }
                }
                any.then_some(out)
            }
            FieldRef::Lookup(l) => self.lookup_values(l).into_iter().next(),
            FieldRef::Member(m) => {
                let v = match self.slot(m.column) {
                    Slot::Absent => self.text_of(m.leaf),
                    _ => self.text_of(m.column).and_then(|text| json_member(&text, &m.path)),
                }?;
                Some(match &m.strip_prefix {
                    Some(p) if v.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)) => v[p.len()..].to_string(),
                    _ => v,
                })
            }
        }
    }

    /// The values a lookup gives for this event: translations in table order, then the event
    /// value itself when kept; empty when the event field is absent or null or nothing matched.
    fn lookup_values(&mut self, l: &CLookup) -> Vec<String> {
        let Some(v) = self.text_of(l.field) else {
            return Vec::new();
        };
        let lower = v.to_lowercase();
        let mut out: Vec<String> = l
            .values
            .iter()
            .filter(|(_, from)| from.contains(&lower))
            .map(|(to, _)| to.clone())
            .collect();
        if l.keep {
            out.push(v);
        }
        out
    }

    pub(crate) fn detection(&mut self, d: &CDetection) -> bool {
        let n = d.searches.len();
        let base = self.scratch.memo.len();
        self.scratch.memo.resize(base + n, 0);
        let r = d.conditions.iter().any(|c| self.expr(c, d, base));
        self.scratch.memo.truncate(base);
        r
    }

    fn search_memo(&mut self, i: usize, d: &CDetection, base: usize) -> bool {
        match self.scratch.memo.get(base + i).copied() {
            Some(1) => false,
            Some(2) => true,
            _ => {
                let r = d.searches.get(i).is_some_and(|s| self.search(s));
                if let Some(m) = self.scratch.memo.get_mut(base + i) {
                    *m = if r { 2 } else { 1 };
                }
                r
            }
        }
    }

    fn expr(&mut self, e: &CExpr, d: &CDetection, base: usize) -> bool {
        match e {
            CExpr::Search(i) => self.search_memo(*i, d, base),
            CExpr::Not(inner) => !self.expr(inner, d, base),
            CExpr::And(cs) => cs.iter().all(|c| self.expr(c, d, base)),
            CExpr::Or(cs) => cs.iter().any(|c| self.expr(c, d, base)),
            CExpr::All(ids) => ids.iter().all(|&i| self.search_memo(i, d, base)),
            CExpr::AtLeast(n, ids) => {
                let need = *n as usize;
                let mut hits = 0;
                for &i in ids {
                    if self.search_memo(i, d, base) {
                        hits += 1;
                        if hits >= need {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }

    fn search(&mut self, s: &CSearch) -> bool {
        match s {
            CSearch::And(fields) => fields.iter().all(|f| self.field(f)),
            CSearch::Or(alts) => alts.iter().any(|a| self.search(a)),
        }
    }

    /// Evaluates one field test, including `neq` negation.
    pub(crate) fn field(&mut self, f: &CField) -> bool {
        let raw = match &f.field {
            None => self.keywords(f),
            Some(FieldRef::Id(fid)) => match self.slot(*fid) {
                Slot::Absent => values_on_absent(f),
                Slot::One(i) => {
                    let refs = self.fieldrefs(f);
                    self.on_index(f, i as usize, &refs)
                }
                Slot::Many(first) => {
                    let refs = self.fieldrefs(f);
                    let fid = *fid;
                    let n = self.event.fields().len();
                    let mut any = false;
                    for i in first as usize..n {
                        if self.scratch.event_fids.get(i).copied().flatten() == Some(fid) && self.on_index(f, i, &refs)
                        {
                            any = true;
                            break;
                        }
                    }
                    any
                }
                Slot::Meta(m) => {
                    let refs = self.fieldrefs(f);
                    match self.event.meta(m) {
                        Some(v) => match v.as_text() {
                            Some(t) => values_on_text(f, &t, &refs),
                            None => values_on_present(f, None, &refs),
                        },
                        None => values_on_absent(f),
                    }
                }
            },
            Some(FieldRef::Lookup(l)) => {
                let refs = self.fieldrefs(f);
                let values = self.lookup_values(l);
                if values.is_empty() {
                    values_on_absent(f)
                } else {
                    values.iter().any(|t| values_on_text(f, t, &refs))
                }
            }
            Some(r) => {
                let refs = self.fieldrefs(f);
                match self.ref_text(r) {
                    Some(t) => values_on_text(f, &t, &refs),
                    None => values_on_absent(f),
                }
            }
        };
        raw != f.neq
    }

    fn on_index(&mut self, f: &CField, i: usize, refs: &[Option<(String, String)>]) -> bool {
        if self.ensure(i) {
            let v = self.val(i);
            values_on_present(f, Some(v), refs)
        } else {
            values_on_present(f, None, refs)
        }
    }

    /// Texts (original, folded) of the fields referenced by `fieldref` values, in value order.
    fn fieldrefs(&mut self, f: &CField) -> Vec<Option<(String, String)>> {
        let mut out = Vec::new();
        if !f.has_fieldref {
            return out;
        }
        for v in &f.values {
            if let CValue::FieldRef(r, _) = v {
                out.push(self.ref_text(r).map(|t| {
                    let l = fold_case(&t).into_owned();
                    (t, l)
                }));
            }
        }
        out
    }

    fn keywords(&mut self, f: &CField) -> bool {
        let n = self.event.fields().len();
        let one = |ctx: &mut Self, v: &CValue| {
            (0..n).any(|i| ctx.ensure(i) && value_matches(v, ctx.val(i), None, f.time_part))
        };
        if f.all {
            f.values.iter().all(|v| one(self, v))
        } else {
            f.values.iter().any(|v| one(self, v))
        }
    }
}

pub(crate) fn values_on_absent(f: &CField) -> bool {
    let one = |v: &CValue| match v {
        CValue::Null => true,
        CValue::Exists(b) => !*b,
        _ => false,
    };
    if f.all {
        f.values.iter().all(one)
    } else {
        f.values.iter().any(one)
    }
}

/// [`values_on_present`] for a field whose value is the text `t`.
fn values_on_text(f: &CField, t: &str, refs: &[Option<(String, String)>]) -> bool {
    let lower = fold_case(t);
    values_on_present(f, Some(Val { orig: t, lower: &lower }), refs)
}

/// `val` is `None` for a present field whose value is null.
pub(crate) fn values_on_present(f: &CField, val: Option<Val<'_>>, refs: &[Option<(String, String)>]) -> bool {
    let mut ref_iter = refs.iter();
    let mut results = f.values.iter().map(|v| {
        let other = if matches!(v, CValue::FieldRef(..)) {
            ref_iter.next()
        } else {
            None
        };
        match (v, val) {
            (CValue::Exists(b), _) => *b,
            (CValue::Null, None) => true,
            (CValue::Null, Some(t)) => t.orig.is_empty(),
            (_, None) => false,
            (v, Some(t)) => value_matches(v, t, other.and_then(Option::as_ref), f.time_part),
        }
    });
    if f.all { results.all(|r| r) } else { results.any(|r| r) }
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    let s = s.split('%').next().unwrap_or(s);
    s.parse().ok()
}

fn time_part(orig: &str, part: TimePart) -> Option<f64> {
    let t = CivilTime::from_unix_nanos(parse_timestamp(orig)?);
    Some(match part {
        TimePart::Minute => f64::from(t.minute),
        TimePart::Hour => f64::from(t.hour),
        TimePart::Day => f64::from(t.day),
        TimePart::Week => f64::from(t.iso_week()),
        TimePart::Month => f64::from(t.month),
        TimePart::Year => t.year as f64,
    })
}

/// Tests one compiled value against a present, non-null field value.
fn value_matches(v: &CValue, t: Val<'_>, other: Option<&(String, String)>, part: Option<TimePart>) -> bool {
    match v {
        CValue::Str(m, cased) => m.is_match(if *cased { t.orig } else { t.lower }),
        CValue::Regex(r) => r.is_match(t.orig),
        CValue::Cidr(c) => parse_ip(t.orig).is_some_and(|ip| c.contains(ip)),
        CValue::Cmp(op, n) => {
            let lhs = match part {
                Some(p) => time_part(t.orig, p),
                None => parse_number(t.orig),
            };
            lhs.is_some_and(|l| op.holds(l, *n))
        }
        CValue::Null => t.orig.is_empty(),
        CValue::Exists(b) => *b,
        CValue::FieldRef(_, cased) => match other {
            Some((o, l)) => {
                if *cased {
                    t.orig == o
                } else {
                    t.lower == l
                }
            }
            None => false,
        },
    }
}

// ------------------------------------------------------------------------------------------
// Prefilter needles

/// A necessary condition for a detection: at least one of these (field, folded literal)
/// needles occurs in its field, or `Any` when nothing useful is required.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Req {
    Any,
    OneOf(Vec<(FieldId, String)>),
}

impl Req {
    fn score(&self) -> i64 {
        match self {
            Req::Any => i64::MIN,
            Req::OneOf(ns) => {
                let min = ns.iter().map(|(_, s)| s.len()).min().unwrap_or(0).min(16) as i64;
                min * 1000 - (ns.len().min(999) as i64)
            }
        }
    }

    /// All of `reqs` hold: keep the most selective one.
    pub(crate) fn and(reqs: impl IntoIterator<Item = Req>) -> Req {
        reqs.into_iter()
            .filter(|r| *r != Req::Any)
            .max_by_key(Req::score)
            .unwrap_or(Req::Any)
    }

    /// One of `reqs` holds: the union, unless one of them requires nothing.
    pub(crate) fn or(reqs: impl IntoIterator<Item = Req>) -> Req {
        let mut all = Vec::new();
        for r in reqs {
            match r {
                Req::Any => return Req::Any,
                Req::OneOf(ns) => all.extend(ns),
            }
        }
        if all.is_empty() {
            return Req::Any;
        }
        all.sort();
        all.dedup();
        Req::OneOf(all)
    }
}

fn matcher_needle(m: &StrMatcher, cased: bool) -> Option<String> {
    let s = m.longest_literal()?;
    if s.is_empty() {
        return None;
    }
    Some(if cased { fold_case(s).into_owned() } else { s.to_owned() })
}

fn field_req(f: &CField) -> Req {
    let Some(FieldRef::Id(fid)) = f.field else {
        return Req::Any;
    };
    if f.neq {
        return Req::Any;
    }
    let needles: Vec<Option<String>> = f
        .values
        .iter()
        .map(|v| match v {
            CValue::Str(m, cased) => matcher_needle(m, *cased),
            _ => None,
        })
        .collect();
    let one = |n: Option<String>| n.map_or(Req::Any, |s| Req::OneOf(vec![(fid, s)]));
    if f.all {
        Req::and(needles.into_iter().map(one))
    } else {
        Req::or(needles.into_iter().map(one))
    }
}

fn search_req(s: &CSearch) -> Req {
    match s {
        CSearch::And(fields) => Req::and(fields.iter().map(field_req)),
        CSearch::Or(alts) => Req::or(alts.iter().map(search_req)),
    }
}

fn expr_req(e: &CExpr, searches: &[Req]) -> Req {
    let s = |i: &usize| searches.get(*i).cloned().unwrap_or(Req::Any);
    match e {
        CExpr::Search(i) => s(i),
        CExpr::Not(_) => Req::Any,
        CExpr::And(cs) => Req::and(cs.iter().map(|c| expr_req(c, searches))),
        CExpr::Or(cs) => Req::or(cs.iter().map(|c| expr_req(c, searches))),
        CExpr::All(ids) => Req::and(ids.iter().map(s)),
        CExpr::AtLeast(_, ids) => Req::or(ids.iter().map(s)),
    }
}

/// The needles a detection (plus extra AND-ed field tests) requires.
pub(crate) fn detection_req(d: &CDetection, extra: &[CField]) -> Req {
    let searches: Vec<Req> = d.searches.iter().map(search_req).collect();
    let det = Req::or(d.conditions.iter().map(|c| expr_req(c, &searches)));
    Req::and(std::iter::once(det).chain(extra.iter().map(field_req)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logsource::SourceKind;
    use crate::modifier::ParseOptions;
    use crate::rule::SigmaRule;
    use std::collections::BTreeMap;
    use std::path::Path;

    fn plain_source() -> Source {
        Source {
            kind: SourceKind::EventLog,
            channels: Vec::new(),
            event_ids: Vec::new(),
            fields: BTreeMap::new(),
            conditions: BTreeMap::new(),
        }
    }

    fn detection(det: &str) -> CDetection {
        let yaml = format!("title: t\nlogsource: {{product: windows}}\ndetection:\n{det}");
        let v: serde_norway::Value = serde_norway::from_str(&yaml).unwrap_or(serde_norway::Value::Null);
        let serde_norway::Value::Mapping(m) = v else {
            panic!("map")
        };
        let r =
            SigmaRule::from_mapping(&m, Path::new("t"), &ParseOptions::default()).unwrap_or_else(|e| panic!("{e:?}"));
        let mut ft = FieldTable::default();
        compile_detection(&r.detection, &plain_source(), &mut ft).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn needles(det: &str) -> Req {
        detection_req(&detection(det), &[])
    }

    fn lits(r: &Req) -> Vec<String> {
        match r {
            Req::Any => vec!["ANY".into()],
            Req::OneOf(ns) => ns.iter().map(|(_, s)| s.clone()).collect(),
        }
    }

    #[test]
    fn json_member_texts() {
        let path = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let j = r#"{"a": "x", "n": 5, "b": true, "z": null, "o": {"c": "d"}, "l": [1]}"#;
        assert_eq!(json_member(j, &path(&["a"])).as_deref(), Some("x"));
        assert_eq!(json_member(j, &path(&["n"])).as_deref(), Some("5"));
        assert_eq!(json_member(j, &path(&["b"])).as_deref(), Some("true"));
        assert_eq!(json_member(j, &path(&["o", "c"])).as_deref(), Some("d"));
        assert_eq!(json_member(j, &path(&["o"])).as_deref(), Some(r#"{"c":"d"}"#));
        assert_eq!(json_member(j, &path(&["l"])).as_deref(), Some("[1]"));
        assert_eq!(json_member(j, &path(&["z"])), None);
        assert_eq!(json_member(j, &path(&["A"])), None);
        assert_eq!(json_member(j, &path(&["a", "b"])), None);
        assert_eq!(json_member("not json", &path(&["a"])), None);
    }

    #[test]
    fn and_keeps_the_most_selective_needles() {
        let r = needles(
            "  s:\n    Image|endswith: '\\x.exe'\n    CommandLine|contains: ' -verylongflag'\n  condition: s\n",
        );
        assert_eq!(lits(&r), [" -verylongflag"]);
    }

    #[test]
    fn or_unions_and_not_requires_nothing() {
        let r = needles("  a: {x|contains: aaa}\n  b: {y|contains: bbb}\n  condition: a or b\n");
        assert_eq!(lits(&r), ["aaa", "bbb"]);
        let r = needles("  a: {x|contains: aaa}\n  b: {y|contains: bbb}\n  condition: not a\n");
        assert_eq!(r, Req::Any);
        let r = needles("  a: {x|contains: aaa}\n  f: {y|contains: bbb}\n  condition: a and not f\n");
        assert_eq!(lits(&r), ["aaa"]);
        let r = needles("  a: {x|re: 'a.*b'}\n  b: {y|contains: bbb}\n  condition: a or b\n");
        assert_eq!(r, Req::Any);
    }

    #[test]
    fn values_fold_case_and_all_picks_one() {
        let r = needles("  a:\n    x|contains|all: [AbC, DEFGH]\n  condition: a\n");
        assert_eq!(lits(&r), ["defgh"]);
        let r = needles("  a:\n    x|cased|contains: AbC\n  condition: a\n");
        assert_eq!(lits(&r), ["abc"]);
        let r = needles("  a:\n    x|contains: ['*', 'y']\n  condition: a\n");
        assert_eq!(r, Req::Any);
        let r = needles("  a:\n    x|endswith: 'ab*cdef'\n  condition: 1 of a*\n");
        assert_eq!(lits(&r), ["cdef"]);
    }
}
