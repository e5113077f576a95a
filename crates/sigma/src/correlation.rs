//! Sigma correlation rules (meta-rules): `event_count`, `value_count`, `temporal`,
//! `temporal_ordered`, `value_sum` and `value_avg`, with group-by, timespan, condition and aliases.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value as Yaml};

use crate::error::{ErrorKind, FieldError, FieldResult, Unsupported};
use crate::modifier::CmpOp;
use crate::rule::Header;
use crate::time::NANOS_PER_SEC;
use crate::yaml::{join, key_text, number, opt_map, opt_text_list, req_map, req_text, scalar_text, type_error};

/// The correlation `type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CorrelationType {
    /// Number of matching events per group.
    EventCount,
    /// Number of distinct values of `condition.field` per group.
    ValueCount,
    /// Number of distinct referenced rules matched per group, in any order.
    Temporal,
    /// Number of referenced rules matched per group, in the order they are listed.
    TemporalOrdered,
    /// Sum of the numeric `condition.field` per group.
    ValueSum,
    /// Average of the numeric `condition.field` per group.
    ValueAvg,
}

impl CorrelationType {
    fn parse(s: &str) -> Result<CorrelationType, ErrorKind> {
        Ok(match s {
            "event_count" => CorrelationType::EventCount,
            "value_count" => CorrelationType::ValueCount,
            "temporal" => CorrelationType::Temporal,
            "temporal_ordered" => CorrelationType::TemporalOrdered,
            "value_sum" => CorrelationType::ValueSum,
            "value_avg" => CorrelationType::ValueAvg,
            "value_percentile" => {
                return Err(ErrorKind::Unsupported(Unsupported::CorrelationType(s.to_owned())));
            }
            other => return Err(ErrorKind::Value(format!("unknown correlation type `{other}`"))),
        })
    }

    /// The name as written in rules.
    pub fn name(self) -> &'static str {
        match self {
            CorrelationType::EventCount => "event_count",
            CorrelationType::ValueCount => "value_count",
            CorrelationType::Temporal => "temporal",
            CorrelationType::TemporalOrdered => "temporal_ordered",
            CorrelationType::ValueSum => "value_sum",
            CorrelationType::ValueAvg => "value_avg",
        }
    }

    /// Whether `condition.field` is required.
    pub fn needs_field(self) -> bool {
        matches!(
            self,
            CorrelationType::ValueCount | CorrelationType::ValueSum | CorrelationType::ValueAvg
        )
    }
}

impl fmt::Display for CorrelationType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One bound of a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// `gt`, `gte`, `lt`, `lte` or `eq`.
    Cmp(CmpOp, f64),
    /// `neq`.
    Neq(f64),
}

impl Bound {
    /// True when `v` satisfies the bound.
    pub fn holds(&self, v: f64) -> bool {
        match *self {
            Bound::Cmp(op, n) => op.holds(v, n),
            Bound::Neq(n) => v != n,
        }
    }

    /// True for bounds that, once satisfied, stay satisfied as more events arrive (`gt`/`gte`).
    pub(crate) fn is_lower(&self) -> bool {
        matches!(self, Bound::Cmp(CmpOp::Gt | CmpOp::Gte, _))
    }
}

/// The correlation `condition`: bounds linked by AND, and the field for value aggregations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CorrelationCondition {
    /// Bounds on the aggregated value; all must hold.
    pub bounds: Vec<Bound>,
    /// `field`: the field(s) whose values are counted, summed or averaged.
    pub fields: Vec<String>,
}

impl CorrelationCondition {
    /// True when all bounds hold for `v`.
    pub fn holds(&self, v: f64) -> bool {
        self.bounds.iter().all(|b| b.holds(v))
    }
}

/// A field name alias: the field it stands for in the events of each referenced rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// The alias, usable in `group-by`.
    pub name: String,
    /// (rule name or id, event field) pairs.
    pub fields: Vec<(String, String)>,
}

/// A Sigma correlation rule.
#[derive(Debug, Clone, PartialEq)]
pub struct CorrelationRule {
    /// `title`.
    pub title: String,
    /// `id`.
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
    /// `status`.
    pub status: Option<String>,
    /// `level`.
    pub level: Option<String>,
    /// `description`.
    pub description: Option<String>,
    /// `tags`.
    pub tags: Vec<String>,
    /// `correlation.type`.
    pub kind: CorrelationType,
    /// `correlation.rules`: ids or names of rules or correlations.
    pub rules: Vec<String>,
    /// `correlation.group-by`.
    pub group_by: Vec<String>,
    /// `correlation.timespan` in nanoseconds.
    pub timespan_nanos: i64,
    /// `correlation.condition`; for temporal types without one, all rules must match.
    pub condition: CorrelationCondition,
    /// `correlation.aliases`.
    pub aliases: Vec<Alias>,
    /// `correlation.generate`: whether the referenced rules also report on their own.
    pub generate: bool,
    /// The file the rule was read from.
    pub path: PathBuf,
}

impl CorrelationRule {
    /// The id if present, otherwise the name, otherwise the title.
    pub fn reference(&self) -> &str {
        self.id.as_deref().or(self.name.as_deref()).unwrap_or(&self.title)
    }

    /// The event field holding group-by field (or alias) `group` for events of rule `rule_ref`.
    pub fn field_for(&self, group: &str, rule_refs: &[&str]) -> String {
        for Alias { name, fields } in &self.aliases {
            if name == group {
                for (r, field) in fields {
                    if rule_refs.contains(&r.as_str()) {
                        return field.clone();
                    }
                }
            }
        }
        group.to_owned()
    }

    pub(crate) fn from_mapping(m: &Mapping, path: &Path) -> FieldResult<CorrelationRule> {
        let h = Header::parse(m)?;
        let base = "correlation";
        let c = req_map(m, base, "")?;
        let kind_text = req_text(c, "type", base)?;
        let kind = CorrelationType::parse(&kind_text).map_err(|k| FieldError::new("correlation.type", k))?;
        let rules = opt_text_list(c, "rules", base)?;
        if rules.is_empty() {
            return Err(FieldError::new("correlation.rules", ErrorKind::Missing));
        }
        if c.get("group-by").is_none() {
            return Err(FieldError::new("correlation.group-by", ErrorKind::Missing));
        }
        let group_by = opt_text_list(c, "group-by", base)?;
        let timespan_text = req_text(c, "timespan", base)?;
        let timespan_nanos = parse_timespan(&timespan_text).ok_or_else(|| {
            FieldError::new(
                "correlation.timespan",
                ErrorKind::Value(format!("`{timespan_text}` is not a number followed by s, m, h or d")),
            )
        })?;
        let condition = match opt_map(c, "condition", base)? {
            Some(cm) => Some(parse_condition(cm, "correlation.condition")?),
            None => None,
        };
        let condition = match (condition, kind) {
            (Some(cond), _) => cond,
            (None, CorrelationType::Temporal | CorrelationType::TemporalOrdered) => CorrelationCondition {
                bounds: vec![Bound::Cmp(CmpOp::Gte, rules.len() as f64)],
                fields: Vec::new(),
            },
            (None, _) => return Err(FieldError::new("correlation.condition", ErrorKind::Missing)),
        };
        if condition.bounds.is_empty() && !matches!(kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered)
        {
            return Err(FieldError::new(
                "correlation.condition",
                ErrorKind::Value("needs at least one of gt, gte, lt, lte, eq, neq".into()),
            ));
        }
        if kind.needs_field() && condition.fields.is_empty() {
            return Err(FieldError::new("correlation.condition.field", ErrorKind::Missing));
        }
        let mut condition = condition;
        if condition.bounds.is_empty() {
            condition.bounds.push(Bound::Cmp(CmpOp::Gte, rules.len() as f64));
        }
        let aliases = match opt_map(c, "aliases", base)? {
            Some(am) => parse_aliases(am, "correlation.aliases")?,
            None => Vec::new(),
        };
        let generate = match c.get("generate").or_else(|| m.get("generate")) {
            None | Some(Yaml::Null) => false,
            Some(Yaml::Bool(b)) => *b,
            Some(other) => return Err(type_error("correlation.generate", "boolean", other)),
        };
        Ok(CorrelationRule {
            title: h.title,
            id: h.id,
            name: h.name,
            status: h.status,
            level: h.level,
            description: h.description,
            tags: h.tags,
            kind,
            rules,
            group_by,
            timespan_nanos,
            condition,
            aliases,
            generate,
            path: path.to_owned(),
        })
    }
}

/// Parses `30s`, `5m`, `1h`, `7d` into nanoseconds.
pub fn parse_timespan(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let secs = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    if n <= 0 {
        return None;
    }
    n.checked_mul(secs)?.checked_mul(NANOS_PER_SEC)
}

fn parse_condition(m: &Mapping, path: &str) -> FieldResult<CorrelationCondition> {
    let mut cond = CorrelationCondition::default();
    for (k, v) in m {
        let key = key_text(k, path)?;
        let p = join(path, &key);
        if key == "field" {
            cond.fields = match v {
                Yaml::Sequence(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, f)| scalar_text(f).ok_or_else(|| type_error(&format!("{p}[{i}]"), "string", f)))
                    .collect::<FieldResult<_>>()?,
                f => vec![scalar_text(f).ok_or_else(|| type_error(&p, "string", f))?],
            };
            continue;
        }
        let n = number(v).ok_or_else(|| type_error(&p, "number", v))?;
        let bound = match key.as_str() {
            "gt" => Bound::Cmp(CmpOp::Gt, n),
            "gte" => Bound::Cmp(CmpOp::Gte, n),
            "lt" => Bound::Cmp(CmpOp::Lt, n),
            "lte" => Bound::Cmp(CmpOp::Lte, n),
            "eq" => Bound::Cmp(CmpOp::Eq, n),
            "neq" => Bound::Neq(n),
            other => {
                return Err(FieldError::new(
                    p.clone(),
                    ErrorKind::Value(format!("unknown condition operator `{other}`")),
                ));
            }
        };
        cond.bounds.push(bound);
    }
    Ok(cond)
}

fn parse_aliases(m: &Mapping, path: &str) -> FieldResult<Vec<Alias>> {
    let mut out = Vec::new();
    for (k, v) in m {
        let alias = key_text(k, path)?;
        let p = join(path, &alias);
        let Yaml::Mapping(rm) = v else {
            return Err(type_error(&p, "map", v));
        };
        let mut map = Vec::new();
        for (rk, rv) in rm {
            let r = key_text(rk, &p)?;
            let field = scalar_text(rv).ok_or_else(|| type_error(&join(&p, &r), "string", rv))?;
            map.push((r, field));
        }
        out.push(Alias {
            name: alias,
            fields: map,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corr(yaml: &str) -> FieldResult<CorrelationRule> {
        let v: Yaml = serde_norway::from_str(yaml).unwrap_or(Yaml::Null);
        let Yaml::Mapping(m) = v else { panic!("not a map") };
        CorrelationRule::from_mapping(&m, Path::new("c.yml"))
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("30s"), Some(30 * NANOS_PER_SEC));
        assert_eq!(parse_timespan("90m"), Some(5400 * NANOS_PER_SEC));
        assert_eq!(parse_timespan("1h"), Some(3600 * NANOS_PER_SEC));
        assert_eq!(parse_timespan("1d"), Some(86_400 * NANOS_PER_SEC));
        assert_eq!(parse_timespan("1w"), None);
        assert_eq!(parse_timespan("h"), None);
        assert_eq!(parse_timespan("0s"), None);
        assert_eq!(parse_timespan("é"), None);
    }

    #[test]
    fn event_count_with_range() {
        let c = corr("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [ComputerName]\n  timespan: 1h\n  condition: {gt: 100, lte: 200}\n")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.kind, CorrelationType::EventCount);
        assert!(c.condition.holds(150.0) && !c.condition.holds(100.0) && !c.condition.holds(201.0));
    }

    #[test]
    fn temporal_defaults_to_all_rules() {
        let c =
            corr("title: t\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n  group-by: [User]\n  timespan: 5m\n")
                .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(c.condition.holds(3.0) && !c.condition.holds(2.0));
    }

    #[test]
    fn value_count_needs_field() {
        let e = corr("title: t\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [x]\n  timespan: 1d\n  condition: {gte: 100}\n").err();
        assert_eq!(e.map(|e| e.field), Some("correlation.condition.field".into()));
        let c = corr("title: t\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [x]\n  timespan: 1d\n  condition: {field: [User, Domain], gte: 100}\n")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.condition.fields, ["User", "Domain"]);
    }

    #[test]
    fn aliases_resolve_per_rule() {
        let c = corr("title: t\ncorrelation:\n  type: temporal\n  rules: [internal_error, new_conn]\n  group-by: [internal_ip]\n  timespan: 10s\n  aliases:\n    internal_ip:\n      internal_error: destination.ip\n      new_conn: source.ip\n")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(c.field_for("internal_ip", &["internal_error"]), "destination.ip");
        assert_eq!(c.field_for("internal_ip", &["x", "new_conn"]), "source.ip");
        assert_eq!(c.field_for("User", &["new_conn"]), "User");
    }

    #[test]
    fn rejections_are_named() {
        let e = corr("title: t\ncorrelation:\n  type: value_percentile\n  rules: [a]\n  group-by: [x]\n  timespan: 1d\n  condition: {field: f, lte: 1}\n").err();
        assert_eq!(
            e.map(|e| e.kind),
            Some(ErrorKind::Unsupported(Unsupported::CorrelationType(
                "value_percentile".into()
            )))
        );
        let e =
            corr("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  timespan: 1h\n  condition: {gte: 1}\n")
                .err();
        assert_eq!(e.map(|e| e.field), Some("correlation.group-by".into()));
        let e = corr("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: 1h\n  condition: {between: 1}\n").err();
        assert_eq!(e.map(|e| e.field), Some("correlation.condition.between".into()));
        let e = corr("title: t\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [x]\n  timespan: soon\n  condition: {gte: 1}\n").err();
        assert_eq!(e.map(|e| e.field), Some("correlation.timespan".into()));
    }
}
