//! Sigma filter rules (global filters): a detection that suppresses matches of the listed rules.
//!
//! Semantics (specification: "the goal to suppress matches"): a rule that a filter applies to
//! matches an event only if its own condition holds and the filter's condition does not, i.e.
//! `rule_condition and not filter_condition`. A filter applies to a rule when the rule's id or
//! name is listed in `filter.rules` and every logsource attribute the filter sets equals the rule's.

use std::path::{Path, PathBuf};

use serde_norway::Mapping;

use crate::error::{ErrorKind, FieldError, FieldResult};
use crate::modifier::ParseOptions;
use crate::rule::{Detection, Header, LogSource, SigmaRule, parse_logsource};
use crate::yaml::{opt_text_list, req_map};

/// A Sigma filter rule.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterRule {
    /// `title`.
    pub title: String,
    /// `id`.
    pub id: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `logsource` the filter is restricted to.
    pub logsource: LogSource,
    /// `filter.rules`: ids or names of the rules the filter applies to.
    pub rules: Vec<String>,
    /// `filter` search identifiers and `filter.condition` (events to suppress).
    pub detection: Detection,
    /// The file the filter was read from.
    pub path: PathBuf,
}

impl FilterRule {
    /// True when this filter applies to `rule`.
    pub fn applies_to(&self, rule: &SigmaRule) -> bool {
        self.logsource.covers(&rule.logsource)
            && self
                .rules
                .iter()
                .any(|r| rule.id.as_deref() == Some(r.as_str()) || rule.name.as_deref() == Some(r.as_str()))
    }

    pub(crate) fn from_mapping(m: &Mapping, path: &Path, opts: &ParseOptions) -> FieldResult<FilterRule> {
        let h = Header::parse(m)?;
        let logsource = parse_logsource(m)?;
        let f = req_map(m, "filter", "")?;
        let rules = opt_text_list(f, "rules", "filter")?;
        if rules.is_empty() {
            return Err(FieldError::new("filter.rules", ErrorKind::Missing));
        }
        let detection = Detection::parse(f, "filter", &["rules"], opts)?;
        Ok(FilterRule {
            title: h.title,
            id: h.id,
            description: h.description,
            logsource,
            rules,
            detection,
            path: path.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_norway::Value as Yaml;

    use super::*;

    #[test]
    fn parses_spec_example() {
        let yaml = "title: Filter Administrator account\nlogsource:\n    category: process_creation\n    product: windows\nfilter:\n    rules:\n        - 6f3e2987-db24-4c78-a860-b4f4095a7095\n        - df0841c0-9846-4e9f-ad8a-7df91571771b\n    selection:\n        User|startswith: 'adm_'\n    condition: selection\n";
        let v: Yaml = serde_norway::from_str(yaml).unwrap_or(Yaml::Null);
        let Yaml::Mapping(m) = v else { panic!("map") };
        let f = FilterRule::from_mapping(&m, Path::new("f.yml"), &ParseOptions::default())
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(f.rules.len(), 2);
        assert_eq!(f.detection.searches.len(), 1);
        assert_eq!(f.detection.searches[0].name, "selection");
    }

    #[test]
    fn missing_rules_is_an_error() {
        let yaml = "title: f\nlogsource: {product: windows}\nfilter:\n  selection: {User: x}\n  condition: selection\n";
        let v: Yaml = serde_norway::from_str(yaml).unwrap_or(Yaml::Null);
        let Yaml::Mapping(m) = v else { panic!("map") };
        let e = FilterRule::from_mapping(&m, Path::new("f.yml"), &ParseOptions::default()).err();
        assert_eq!(e.map(|e| e.field), Some("filter.rules".into()));
    }
}
