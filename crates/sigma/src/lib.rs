//! Sigma rules for ratcatcher: parsing (detection, correlation and filter rules), logsource
//! mapping to Windows event channels and Defender tables, and a single-pass engine that tests
//! each event only against the rules its logsource bucket and literal prefilter allow.
//!
//! ```
//! use sigma::{Event, RuleSet};
//!
//! let mut rules = RuleSet::new();
//! rules.add_text(
//!     "title: Whoami\nlogsource: {category: process_creation, product: windows}\n\
//!      detection:\n  selection:\n    Image|endswith: '\\whoami.exe'\n  condition: selection\n",
//!     "whoami.yml",
//! );
//! let compiled = rules.compile();
//! let event = Event::new()
//!     .with_channel("Microsoft-Windows-Sysmon/Operational")
//!     .with_event_id(1)
//!     .with_str("Image", r"C:\Windows\System32\WHOAMI.EXE");
//! let hits: Vec<_> = compiled.matches(&event).collect();
//! assert_eq!(hits.len(), 1);
//! assert_eq!(compiled.rule(hits[0]).map(|r| r.title.as_str()), Some("Whoami"));
//! ```
//!
//! See `docs/sigma.md` for semantics, the logsource mapping and known limitations.

#![warn(missing_docs)]

mod collection;
mod condition;
mod correlation;
mod correlator;
mod engine;
mod error;
mod eval;
mod event;
mod filter;
mod from_kql;
mod kql;
mod logsource;
mod modifier;
mod pattern;
mod rule;
mod time;
mod yaml;

#[cfg(test)]
mod proptests;

pub use collection::{Document, RuleSet, parse_documents};
pub use condition::{Condition, OfTarget, Quantifier, pattern_matches, resolve_target};
pub use correlation::{Alias, Bound, CorrelationCondition, CorrelationRule, CorrelationType, parse_timespan};
pub use correlator::{CorrelationHit, Correlator};
pub use engine::{CompiledCorrelation, CompiledRuleSet, CorrelationInput, RuleId, ScanStats, Scanner};
pub use error::{ErrorKind, SigmaError, Unsupported};
pub use event::{Event, EventError, FieldValue};
pub use filter::FilterRule;
pub use from_kql::{RuleHeader, from_kql};
pub use kql::{ColumnLookup, ConvertError, TableSet, to_kql};
pub use logsource::{FieldSpec, LogsourceEntry, LogsourceMap, Source, SourceKind, TemplatePart};
pub use modifier::{Cidr, CmpOp, FieldMatch, Modifier, ParseOptions, RegexValue, TimePart, Value};
pub use pattern::{DASHES, Pattern, Token};
pub use rule::{Detection, LogSource, Search, SearchDef, SigmaRule};
pub use time::{CivilTime, NANOS_PER_SEC, parse_timestamp};
