//! String predicates with Kusto semantics: the `has` family matches terms (maximal runs of ASCII
//! letters and digits), `contains`/`startswith`/`endswith` match text; case-insensitive unless `_cs`.

use super::array_util::{StrArray, bool_result};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use datafusion::arrow::array::{ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature, Volatility,
};
use parking_lot::Mutex;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// What a needle must line up with in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchMode {
    /// `has`: a whole term (or sequence of terms).
    Term,
    /// `hasprefix`: the start of a term.
    TermPrefix,
    /// `hassuffix`: the end of a term.
    TermSuffix,
    /// `contains`: anywhere.
    Substring,
    /// `startswith`
    Prefix,
    /// `endswith`
    Suffix,
}

fn is_term_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Precompiled needles for one operator application (`has`, `has_any`, `contains`, ...).
#[derive(Clone, Debug)]
pub struct Matcher {
    mode: MatchMode,
    case_sensitive: bool,
    needles: Vec<String>,
    /// Needle bytes compared to the text, lowercased for case-insensitive matching.
    folded: Vec<Vec<u8>>,
    automaton: Option<AhoCorasick>,
    /// Whether a needle has non-ASCII letters (then case folding needs full Unicode lowering).
    unicode_fold: bool,
    /// `has_all`: every needle must match.
    all: bool,
}

impl Matcher {
    pub fn new(mode: MatchMode, case_sensitive: bool, needles: Vec<String>, all: bool) -> Result<Matcher> {
        Matcher::build(mode, case_sensitive, needles, all, true)
    }

    /// A matcher for one text only (a needle that changes per row): no automaton is built, the
    /// needle is searched for directly.
    pub fn one_off(mode: MatchMode, case_sensitive: bool, needle: String) -> Matcher {
        Matcher::build(mode, case_sensitive, vec![needle], false, false)
            .expect("a matcher without an automaton cannot fail to build")
    }

    fn build(
        mode: MatchMode,
        case_sensitive: bool,
        needles: Vec<String>,
        all: bool,
        automaton: bool,
    ) -> Result<Matcher> {
        let unicode_fold = !case_sensitive && needles.iter().any(|n| !n.is_ascii());
        let folded: Vec<Vec<u8>> = needles
            .iter()
            .map(|n| {
                if case_sensitive {
                    n.as_bytes().to_vec()
                } else {
                    n.to_lowercase().into_bytes()
                }
            })
            .collect();
        let needs_search = matches!(
            mode,
            MatchMode::Term | MatchMode::TermPrefix | MatchMode::TermSuffix | MatchMode::Substring
        );
        let automaton = if automaton && needs_search && !folded.iter().any(Vec::is_empty) {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(!case_sensitive)
                    .match_kind(MatchKind::Standard)
                    .build(&folded)
                    .map_err(|e| {
                        datafusion::error::DataFusionError::Execution(format!("building string matcher: {e}"))
                    })?,
            )
        } else {
            None
        };
        Ok(Matcher {
            mode,
            case_sensitive,
            needles,
            folded,
            automaton,
            unicode_fold,
            all,
        })
    }

    /// Whether `needle_idx` occurring at `start..end` of `text` satisfies the mode's boundaries.
    fn boundaries_ok(&self, text: &[u8], idx: usize, start: usize, end: usize) -> bool {
        let n = &self.folded[idx];
        let left = || start == 0 || !is_term_char(text[start - 1]) || !is_term_char(n[0]);
        let right = || end == text.len() || !is_term_char(text[end]) || !is_term_char(n[n.len() - 1]);
        match self.mode {
            MatchMode::Term => left() && right(),
            MatchMode::TermPrefix => left(),
            MatchMode::TermSuffix => right(),
            _ => true,
        }
    }

    /// Evaluates the predicate on one text value.
    pub fn matches(&self, text: &str) -> bool {
        if self.unicode_fold {
            let lowered = text.to_lowercase();
            return self.matches_folded(lowered.as_bytes());
        }
        self.matches_folded(text.as_bytes())
    }

    fn matches_folded(&self, text: &[u8]) -> bool {
        let eq = |a: &[u8], b: &[u8]| {
            if self.case_sensitive || self.unicode_fold {
                a == b
            } else {
                a.eq_ignore_ascii_case(b)
            }
        };
        match self.mode {
            MatchMode::Prefix | MatchMode::Suffix => {
                let one = |n: &Vec<u8>| match self.mode {
                    MatchMode::Prefix => text.len() >= n.len() && eq(&text[..n.len()], n),
                    _ => text.len() >= n.len() && eq(&text[text.len() - n.len()..], n),
                };
                if self.all {
                    self.folded.iter().all(one)
                } else {
                    self.folded.iter().any(one)
                }
            }
            _ => {
                let Some(ac) = &self.automaton else {
                    // An empty needle matches every text.
                    if self.folded.iter().any(Vec::is_empty) {
                        return true;
                    }
                    // No automaton (a one-off matcher): each needle searched for directly.
                    let found = |(idx, n): (usize, &Vec<u8>)| {
                        (0..=text.len().saturating_sub(n.len())).any(|s| {
                            text.len() >= s + n.len()
                                && eq(&text[s..s + n.len()], n)
                                && self.boundaries_ok(text, idx, s, s + n.len())
                        })
                    };
                    return if self.all {
                        self.folded.iter().enumerate().all(found)
                    } else {
                        self.folded.iter().enumerate().any(found)
                    };
                };
                if !self.all {
                    return ac
                        .find_overlapping_iter(text)
                        .any(|m| self.boundaries_ok(text, m.pattern().as_usize(), m.start(), m.end()));
                }
                let mut seen = vec![false; self.folded.len()];
                let mut left = self.folded.len();
                for m in ac.find_overlapping_iter(text) {
                    let i = m.pattern().as_usize();
                    if !seen[i] && self.boundaries_ok(text, i, m.start(), m.end()) {
                        seen[i] = true;
                        left -= 1;
                        if left == 0 {
                            return true;
                        }
                    }
                }
                false
            }
        }
    }
}

/// A string predicate whose needles are fixed at plan time: `x has "a"`, `x has_any ("a", "b")`.
#[derive(Debug)]
pub struct StringPredicate {
    name: String,
    matcher: Matcher,
    signature: Signature,
}

impl StringPredicate {
    pub fn new(name: &str, matcher: Matcher) -> StringPredicate {
        let signature = Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::Utf8View]),
                TypeSignature::Exact(vec![DataType::LargeUtf8]),
            ],
            Volatility::Immutable,
        );
        StringPredicate {
            name: name.to_string(),
            matcher,
            signature,
        }
    }
}

impl PartialEq for StringPredicate {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.matcher.mode == other.matcher.mode
            && self.matcher.case_sensitive == other.matcher.case_sensitive
            && self.matcher.all == other.matcher.all
            && self.matcher.needles == other.matcher.needles
    }
}

impl Eq for StringPredicate {}

impl Hash for StringPredicate {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.matcher.mode.hash(state);
        self.matcher.case_sensitive.hash(state);
        self.matcher.needles.hash(state);
    }
}

impl ScalarUDFImpl for StringPredicate {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(arg) = args.args.first() else {
            return exec_err!("{} needs one argument", self.name);
        };
        match arg {
            ColumnarValue::Scalar(s) => {
                let v = super::array_util::scalar_str(s);
                Ok(ColumnarValue::Scalar(ScalarValue::Boolean(
                    v.map(|t| self.matcher.matches(t)),
                )))
            }
            ColumnarValue::Array(a) => {
                let texts = StrArray::try_new(a)?;
                Ok(ColumnarValue::Array(bool_result(texts.len(), |i| {
                    texts.value(i).map(|t| self.matcher.matches(t))
                })))
            }
        }
    }
}

/// A string predicate whose needle is an expression (`a has b` with `b` a column).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StringPredicateDyn {
    name: String,
    mode: MatchMode,
    case_sensitive: bool,
    signature: Signature,
}

impl StringPredicateDyn {
    pub fn new(name: &str, mode: MatchMode, case_sensitive: bool) -> Self {
        let s = [DataType::Utf8, DataType::Utf8View, DataType::LargeUtf8];
        let sigs = s
            .iter()
            .flat_map(|a| s.iter().map(move |b| TypeSignature::Exact(vec![a.clone(), b.clone()])))
            .collect();
        StringPredicateDyn {
            name: name.to_string(),
            mode,
            case_sensitive,
            signature: Signature::one_of(sigs, Volatility::Immutable),
        }
    }
}

impl ScalarUDFImpl for StringPredicateDyn {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let (texts, needles) = (StrArray::try_new(&arrays[0])?, StrArray::try_new(&arrays[1])?);
        let result = bool_result(n, |i| {
            let (t, nd) = (texts.value(i)?, needles.value(i)?);
            Some(Matcher::one_off(self.mode, self.case_sensitive, nd.to_string()).matches(t))
        });
        Ok(ColumnarValue::Array(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(text: &str, needle: &str) -> bool {
        Matcher::new(MatchMode::Term, false, vec![needle.into()], false)
            .unwrap()
            .matches(text)
    }

    #[test]
    fn has_matches_whole_terms_only() {
        assert!(has("C:\\Program Files\\AnyDesk\\AnyDesk.exe", "anydesk.exe"));
        assert!(has("North America", "america"));
        assert!(!has("North America", "amer"), "a partial term is not a match");
        assert!(
            has("teamviewer_service.exe", "teamviewer"),
            "`_` is not alphanumeric, so it separates terms"
        );
        assert!(has("run tv now", "tv"), "short terms match as terms too");
        assert!(!has("tvnserver.exe", "tv"));
        assert!(
            has("x:5938,y", ":5938,"),
            "punctuation at the needle's ends needs no boundary"
        );
    }

    #[test]
    fn prefix_suffix_and_substring_modes() {
        let m = |mode, cs, n: &str, t: &str| Matcher::new(mode, cs, vec![n.into()], false).unwrap().matches(t);
        assert!(m(MatchMode::TermPrefix, false, "any", "run AnyDesk.exe"));
        assert!(!m(MatchMode::TermPrefix, false, "desk", "run AnyDesk.exe"));
        assert!(m(MatchMode::TermSuffix, false, "desk", "run AnyDesk.exe"));
        assert!(m(MatchMode::Substring, false, "NYDE", "anydesk"));
        assert!(!m(MatchMode::Substring, true, "NYDE", "anydesk"));
        assert!(m(MatchMode::Prefix, false, "C:\\", "c:\\windows"));
        assert!(m(MatchMode::Suffix, false, ".EXE", "a.exe"));
        assert!(m(MatchMode::Substring, false, "ÉTÉ", "un été"), "Unicode case folding");
    }

    #[test]
    fn one_off_matchers_agree_with_automata() {
        let texts = [
            "run AnyDesk.exe --silent",
            "anydesktop",
            "C:\\Program Files\\AnyDesk\\AnyDesk.exe",
            "un été",
            "",
            "x:5938,y",
            "desk",
        ];
        let needles = ["anydesk", "desk", "AnyDesk.exe", "ÉTÉ", ":5938,", "any", "k"];
        let modes = [
            MatchMode::Term,
            MatchMode::TermPrefix,
            MatchMode::TermSuffix,
            MatchMode::Substring,
            MatchMode::Prefix,
            MatchMode::Suffix,
        ];
        for mode in modes {
            for cs in [false, true] {
                for n in needles {
                    let full = Matcher::new(mode, cs, vec![n.into()], false).unwrap();
                    let one = Matcher::one_off(mode, cs, n.into());
                    for t in texts {
                        assert_eq!(one.matches(t), full.matches(t), "{mode:?} cs={cs} {n:?} in {t:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn has_any_and_has_all() {
        let any = Matcher::new(MatchMode::Term, false, vec!["rustdesk".into(), "anydesk".into()], false).unwrap();
        assert!(any.matches("start AnyDesk --silent"));
        assert!(!any.matches("anydesktop"));
        let all = Matcher::new(MatchMode::Term, false, vec!["code".into(), "tunnel".into()], true).unwrap();
        assert!(all.matches("code.exe tunnel --accept-server-license-terms"));
        assert!(!all.matches("code.exe serve-web"));
    }
}

/// What a [`ListPredicate`] tests against a list known only at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ListTest {
    /// `has_any (dynamic_array)`
    HasAny,
    /// `has_all (dynamic_array)`
    HasAll,
    /// `in (dynamic_array)`: equal to an element.
    In,
    /// `in~ (dynamic_array)`: equal to an element, ignoring case.
    InCi,
}

/// `x has_any (list)` / `x in (list)` where the list is a dynamic value computed at run time
/// (a `toscalar(...)` result or a column): the list's elements are compared as Kusto does.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ListPredicate {
    name: String,
    test: ListTest,
    signature: Signature,
    last: LastList,
}

impl ListPredicate {
    pub fn new(name: &str, test: ListTest) -> Self {
        ListPredicate {
            name: name.to_string(),
            test,
            signature: Signature::any(2, Volatility::Immutable),
            last: LastList::default(),
        }
    }
}

impl ScalarUDFImpl for ListPredicate {
    fn name(&self) -> &str {
        &self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [value_arg, list_arg] = args.args.as_slice() else {
            return exec_err!("{} takes a value and a list", self.name);
        };
        let values = value_arg.to_array(rows)?;
        // A list that is one value for all rows (a literal, or a stored `toscalar()`) is read
        // once, not copied out to every row.
        let (lists, same) = match list_arg {
            ColumnarValue::Scalar(v) => (v.to_array_of_size(1)?, true),
            ColumnarValue::Array(a) => (Arc::clone(a), false),
        };
        // Otherwise the list is usually the same on every row (a `toscalar()` joined in): it is
        // compiled when its text changes, and the last one is kept across batches.
        let mut current = self.last.take();
        let out = bool_result(rows, |i| {
            let at = if same { 0 } else { i };
            if lists.is_null(at) {
                return None;
            }
            if current.as_ref().is_none_or(|(k, _)| !k.is(&lists, at)) {
                current = Some((
                    ListKey::of(&lists, at),
                    Arc::new(CompiledList::new(self.test, &lists, at)),
                ));
            }
            let (_, list) = current.as_ref()?;
            list.test(self.test, &values, i)
        });
        self.last.put(current);
        Ok(ColumnarValue::Array(out))
    }
}

/// What identifies a list value: a dynamic column's JSON text as stored, or for other types the
/// value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ListKey {
    /// The text of a `dynamic` (JSON text) value.
    Dynamic(String),
    /// Any other value.
    Value(serde_json::Value),
}

impl ListKey {
    fn of(lists: &ArrayRef, i: usize) -> ListKey {
        match lists.data_type() {
            DataType::LargeUtf8 => ListKey::Dynamic(lists.as_string::<i64>().value(i).to_string()),
            _ => ListKey::Value(super::dynamic::json_at(lists, i)),
        }
    }

    /// Whether row `i` of `lists` holds this list (compared without copying a dynamic value).
    fn is(&self, lists: &ArrayRef, i: usize) -> bool {
        match (self, lists.data_type()) {
            (ListKey::Dynamic(t), DataType::LargeUtf8) => t == lists.as_string::<i64>().value(i),
            (ListKey::Value(t), t2) if *t2 != DataType::LargeUtf8 => *t == super::dynamic::json_at(lists, i),
            _ => false,
        }
    }
}

/// A run-time list, compiled: its elements, their matcher (`has_any`, `has_all`) and their
/// lowercased text (`in~`).
#[derive(Debug)]
struct CompiledList {
    elems: Vec<serde_json::Value>,
    matcher: Option<Matcher>,
    lowered: HashSet<String>,
    /// The list is null: every test is null.
    null: bool,
}

impl CompiledList {
    fn new(test: ListTest, lists: &ArrayRef, i: usize) -> CompiledList {
        let (elems, null) = match super::dynamic::json_at(lists, i) {
            serde_json::Value::Null => (vec![], true),
            serde_json::Value::Array(a) => (a, false),
            v => (vec![v], false),
        };
        let matcher = match test {
            ListTest::HasAny | ListTest::HasAll if !elems.is_empty() => {
                let needles: Vec<String> = elems.iter().map(super::dynamic::value_to_string).collect();
                Matcher::new(MatchMode::Term, false, needles, test == ListTest::HasAll).ok()
            }
            _ => None,
        };
        let lowered = match test {
            ListTest::InCi => elems
                .iter()
                .map(|e| super::dynamic::value_to_string(e).to_lowercase())
                .collect(),
            _ => HashSet::new(),
        };
        CompiledList {
            elems,
            matcher,
            lowered,
            null,
        }
    }

    fn test(&self, test: ListTest, values: &ArrayRef, i: usize) -> Option<bool> {
        if self.null {
            return None;
        }
        let value = super::dynamic::json_at(values, i);
        Some(match test {
            ListTest::HasAny | ListTest::HasAll => {
                let text = super::dynamic::value_to_string(&value);
                match &self.matcher {
                    Some(m) => m.matches(&text),
                    None => test == ListTest::HasAll,
                }
            }
            ListTest::In => self.elems.iter().any(|e| {
                e == &value
                    || (e.is_string() != value.is_string()
                        && super::dynamic::value_to_string(e) == super::dynamic::value_to_string(&value))
            }),
            ListTest::InCi => self
                .lowered
                .contains(&super::dynamic::value_to_string(&value).to_lowercase()),
        })
    }
}

/// The last list a [`ListPredicate`] compiled, kept across batches (not part of the function's
/// identity: equal functions may hold different lists).
#[derive(Debug, Default)]
struct LastList(Mutex<Option<(ListKey, Arc<CompiledList>)>>);

impl LastList {
    fn take(&self) -> Option<(ListKey, Arc<CompiledList>)> {
        self.0.lock().clone()
    }

    fn put(&self, v: Option<(ListKey, Arc<CompiledList>)>) {
        if v.is_some() {
            *self.0.lock() = v;
        }
    }
}

impl PartialEq for LastList {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for LastList {}

impl Hash for LastList {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}
