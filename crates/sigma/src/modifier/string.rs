//! String modifiers: the transformation pipeline (`contains`, `startswith`, `endswith`,
//! `expand`, with the encodings of the `encoding` module in between) and regular expressions
//! (`re` with its `i`, `m`, `s` flags).

use serde_norway::Value as Yaml;

use super::{Modifier, ParseOptions, Value, encoding};
use crate::error::{ErrorKind, FieldError, FieldResult, Unsupported};
use crate::pattern::Pattern;
use crate::yaml::scalar_text;

/// A regular expression value from the `re` modifier, with its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegexValue {
    /// The expression as written.
    pub pattern: String,
    /// `i`: case-insensitive.
    pub case_insensitive: bool,
    /// `m`: multi-line anchors.
    pub multi_line: bool,
    /// `s`: dot matches newline.
    pub dot_all: bool,
}

/// Size limit for compiled rule regexes (keeps hostile rules from exhausting memory).
const REGEX_SIZE_LIMIT: usize = 1 << 22;

impl RegexValue {
    /// Compiles the expression with its flags.
    pub fn compile(&self) -> Result<regex::Regex, String> {
        regex::RegexBuilder::new(&self.pattern)
            .case_insensitive(self.case_insensitive)
            .multi_line(self.multi_line)
            .dot_matches_new_line(self.dot_all)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| e.to_string().split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// The `re` value of one YAML scalar, with the flags among `mods`; the expression must compile.
pub(super) fn regex_value(item: &Yaml, mods: &[Modifier], path: &str) -> FieldResult<Value> {
    let rv = RegexValue {
        pattern: scalar_text(item).unwrap_or_default(),
        case_insensitive: mods.contains(&Modifier::ReCaseInsensitive),
        multi_line: mods.contains(&Modifier::ReMultiLine),
        dot_all: mods.contains(&Modifier::ReDotAll),
    };
    rv.compile().map_err(|e| FieldError::new(path, ErrorKind::Regex(e)))?;
    Ok(Value::Regex(rv))
}

/// Maximum number of values one YAML value may expand into (placeholders).
const MAX_EXPANSION: usize = 4096;

/// A value in the transformation pipeline: text with wildcards, or bytes after a UTF-16 encoding.
pub(super) enum Stage {
    Str(Pattern),
    Bytes(Vec<u8>),
}

/// Applies the string transformation modifiers, in order, to one YAML scalar.
pub(super) fn string_values(
    text: &str,
    is_string: bool,
    mods: &[Modifier],
    path: &str,
    opts: &ParseOptions,
) -> FieldResult<Vec<Pattern>> {
    let texts = if mods.contains(&Modifier::Expand) {
        expand_placeholders(text, path, opts)?
    } else {
        vec![text.to_owned()]
    };
    let mut stages: Vec<Stage> = texts
        .iter()
        .map(|t| {
            Stage::Str(if is_string {
                Pattern::parse(t)
            } else {
                Pattern::literal(t)
            })
        })
        .collect();
    let mut windashed = false;
    for &m in mods.iter().filter(|m| m.is_string_transform()) {
        let mut next = Vec::with_capacity(stages.len());
        for st in stages {
            match m {
                Modifier::Contains | Modifier::StartsWith | Modifier::EndsWith => {
                    let mut p = stage_to_pattern(st, path)?;
                    if m != Modifier::StartsWith {
                        p.prepend_any();
                    }
                    if m != Modifier::EndsWith {
                        p.append_any();
                    }
                    next.push(Stage::Str(p));
                }
                Modifier::Expand => next.push(st), // applied up front
                _ => encoding::encode(m, st, &mut windashed, path, &mut next)?,
            }
        }
        stages = next;
    }
    stages.into_iter().map(|st| stage_to_pattern(st, path)).collect()
}

/// The pipeline value as a pattern; encoded bytes must be valid UTF-8.
pub(super) fn stage_to_pattern(st: Stage, path: &str) -> FieldResult<Pattern> {
    match st {
        Stage::Str(p) => Ok(p),
        Stage::Bytes(b) => String::from_utf8(b).map(|s| Pattern::literal(&s)).map_err(|_| {
            FieldError::new(
                path,
                ErrorKind::Value("encoded value is not representable as text".into()),
            )
        }),
    }
}

/// Replaces `%name%` placeholders (not `\%`) by each of their configured values.
fn expand_placeholders(text: &str, path: &str, opts: &ParseOptions) -> FieldResult<Vec<String>> {
    let mut results = vec![String::new()];
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("\\%") {
            results.iter_mut().for_each(|r| r.push('%'));
            rest = after;
            continue;
        }
        if let Some(after) = rest.strip_prefix('%')
            && let Some(end) = after.find('%')
        {
            let name = &after[..end];
            let vals = opts.placeholders.get(name).ok_or_else(|| {
                FieldError::new(path, ErrorKind::Unsupported(Unsupported::Placeholder(name.to_owned())))
            })?;
            if vals.is_empty() || results.len() * vals.len() > MAX_EXPANSION {
                return Err(FieldError::new(
                    path,
                    ErrorKind::Value(format!("placeholder `%{name}%` expands to no or too many values")),
                ));
            }
            results = results
                .iter()
                .flat_map(|r| vals.iter().map(move |v| format!("{r}{v}")))
                .collect();
            rest = &after[end + 1..];
            continue;
        }
        let c = rest.chars().next().unwrap_or('%');
        results.iter_mut().for_each(|r| r.push(c));
        rest = &rest[c.len_utf8()..];
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modifier::test_util::{fm, pats};
    use crate::modifier::{field_match, parse_key};

    #[test]
    fn position_modifiers_add_wildcards() {
        assert_eq!(
            pats(&fm("a|contains", "'x'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["*x*"]
        );
        assert_eq!(
            pats(&fm("a|startswith", "'x'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["x*"]
        );
        assert_eq!(
            pats(&fm("a|endswith", "'\\x.exe'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["*\\x.exe"]
        );
        // an existing wildcard is not doubled
        assert_eq!(
            pats(&fm("a|contains", "'*x'").unwrap_or_else(|e| panic!("{e:?}"))),
            ["*x*"]
        );
    }

    #[test]
    fn regex_and_flags() {
        let f = fm("a|re|i|m|s", "'^ab.c$'").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            f.values[0],
            Value::Regex(RegexValue {
                pattern: "^ab.c$".into(),
                case_insensitive: true,
                multi_line: true,
                dot_all: true
            })
        );
        assert!(matches!(
            fm("a|re", "'(unclosed'").map_err(|e| e.kind),
            Err(ErrorKind::Regex(_))
        ));
        assert!(matches!(
            fm("a|i", "'x'").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
        assert!(matches!(
            fm("a|re|contains", "'x'").map_err(|e| e.kind),
            Err(ErrorKind::ModifierUse(_))
        ));
    }

    #[test]
    fn expand_placeholders_with_options() {
        let raw: Yaml = serde_norway::from_str("'%Admins%\\%x'").unwrap_or(Yaml::Null);
        let (field, mods) = parse_key("User|expand", "p").unwrap_or_else(|e| panic!("{e:?}"));
        let e = field_match(field.clone(), mods.clone(), &raw, "p", &ParseOptions::default()).err();
        assert_eq!(
            e.map(|e| e.kind),
            Some(ErrorKind::Unsupported(Unsupported::Placeholder("Admins".into())))
        );
        let mut opts = ParseOptions::default();
        opts.placeholders
            .insert("Admins".into(), vec!["adm_a".into(), "root".into()]);
        let f = field_match(field, mods, &raw, "p", &opts).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(pats(&f), ["adm_a%x", "root%x"]);
    }
}
