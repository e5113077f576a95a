//! Exit codes, one policy for every command that reads evidence: 0 nothing found, 1 found
//! (alerts), 2 error (bad arguments, a rule or query that failed, output that could not be
//! written), 3 evidence incomplete (some input, or some record, could not be read; everything
//! else was processed) unless `--allow-partial`. A closed output pipe ends quietly with 0.

use std::process::ExitCode;

/// `3`: the run finished but some evidence was not read (README, "Exit codes").
pub const INCOMPLETE: u8 = 3;

/// How a run ended, for its exit code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// Something was found (alerts).
    pub found: bool,
    /// A rule or query failed, or output failed.
    pub failed: bool,
    /// Some evidence was not read in full.
    pub incomplete: bool,
    /// `--allow-partial`: incomplete evidence is not an exit status of its own.
    pub allow_partial: bool,
}

impl Status {
    /// The code: an error first, then incomplete evidence (unless allowed), then found.
    pub fn code(self) -> u8 {
        if self.failed {
            2
        } else if self.incomplete && !self.allow_partial {
            INCOMPLETE
        } else if self.found {
            1
        } else {
            0
        }
    }

    /// A word for the summary: `error`, `incomplete`, `alerts` or `clean`.
    pub fn word(self) -> &'static str {
        match self.code() {
            2 => "error",
            INCOMPLETE => "incomplete",
            1 => "alerts",
            _ => "clean",
        }
    }

    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(self.code())
    }
}

/// The end of `ratcatcher --help`: the policy every command follows.
pub const HELP: &str = "\
Exit codes:
  0  nothing found
  1  alerts or findings
  2  error (bad arguments, unreadable input, a rule or query that failed, output not written)
  3  evidence incomplete: some input or record could not be read (--allow-partial: as if complete)
Each command's --help ends with its own codes; a closed output pipe (`| head`) ends quietly with 0.";

/// The end of `check --help`.
pub const HELP_CHECK: &str = "\
Exit codes:
  0  every query parsed (--sentinel: every template valid; --schema: no errors)
  1  a query failed to parse (--sentinel: a template has problems; --schema: a query has errors)
  2  an input (or, with --schema, a schema file) could not be read";

/// The end of `query --help`.
pub const HELP_QUERY: &str = "\
Exit codes:
  0  the query ran (whatever the number of rows)
  2  error: the query could not be read, planned or run, or no evidence was readable
  3  evidence incomplete: some input or record could not be read; the rows come from the rest
     (--allow-partial gives 0)";

/// The end of `ingest --help` and `tables --help`.
pub const HELP_INGEST: &str = "\
Exit codes:
  0  everything read
  2  error
  3  evidence incomplete: some input or record could not be read; the rest was used
     (--allow-partial gives 0)";

/// The end of `hunt --help`.
pub const HELP_HUNT: &str = "\
Exit codes:
  0  no alerts
  1  alerts
  2  error: no evidence readable, a rule that failed or exceeded its limits, output that could
     not be written
  3  evidence incomplete: some input or record could not be read; everything else was hunted and
     the alerts written (--allow-partial gives 0 or 1)
A closed output pipe (`| head`) ends quietly with 0.";

/// The end of `test --help`.
pub const HELP_TEST: &str = "\
Exit codes:
  0  all tests passed
  1  a test failed
  2  error (rules or tests could not be read)";

/// The end of `explain --help`.
pub const HELP_EXPLAIN: &str = "\
Exit codes:
  0  the rule was shown
  2  no such rule, or the rules could not be read";

/// The end of `convert --help`.
pub const HELP_CONVERT: &str = "\
Exit codes:
  0  all converted
  1  some rules not convertible (named on stderr; the others converted)
  2  error, or (--plan) a converted query that failed to plan";

/// The end of `export --help`.
pub const HELP_EXPORT: &str = "\
Exit codes:
  0  every rule exported and converted
  1  a backend could not convert some rules (each named with the backend's reason in
     OUT/<target>/failures.tsv; the others were written)
  2  error (sigma-cli or a backend not installed, an output folder not writable)";

/// The end of `catalog --help`.
pub const HELP_CATALOG: &str = "\
Exit codes:
  0  tools listed
  1  nothing matched
  2  error (output could not be written)";

/// Whether an I/O error is the reader of our output going away (`| head`): not a failure.
pub fn is_closed_pipe(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::BrokenPipe
}

/// Why a command stopped early: an error to report (exit 2), or stdout closed by its reader
/// (quiet, exit 0).
#[derive(Debug)]
pub enum Stop {
    Error(String),
    ClosedPipe,
}

impl From<String> for Stop {
    fn from(s: String) -> Stop {
        Stop::Error(s)
    }
}

impl From<&str> for Stop {
    fn from(s: &str) -> Stop {
        Stop::Error(s.to_string())
    }
}

impl Stop {
    /// A write to stdout failed: quiet when its reader left, else `writing output: ...`.
    pub fn writing(e: std::io::Error) -> Stop {
        if is_closed_pipe(&e) {
            Stop::ClosedPipe
        } else {
            Stop::Error(format!("writing output: {e}"))
        }
    }

    /// Reports the stop and gives the exit code.
    pub fn exit(self) -> ExitCode {
        match self {
            Stop::Error(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(2)
            }
            Stop::ClosedPipe => ExitCode::SUCCESS,
        }
    }
}

/// The one mapping of the libraries' errors to what the terminal shows: the message for
/// `error: ...` (exit 2). When no evidence could be read, the accounting of what was tried is
/// printed first, so the reason for each input is on screen.
pub fn error_message(e: detect::Error) -> String {
    match &e {
        detect::Error::NothingRead { report, .. } => crate::evidence::print_report(report),
        detect::Error::NoRules { failed } => {
            for f in failed {
                eprintln!("error: rule {f}");
            }
        }
        _ => {}
    }
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence() {
        let s = |found, failed, incomplete, allow_partial| {
            Status {
                found,
                failed,
                incomplete,
                allow_partial,
            }
            .code()
        };
        assert_eq!(s(false, false, false, false), 0);
        assert_eq!(s(true, false, false, false), 1);
        assert_eq!(s(true, true, true, false), 2);
        assert_eq!(s(true, false, true, false), 3);
        assert_eq!(s(false, false, true, false), 3);
        assert_eq!(s(true, false, true, true), 1);
        assert_eq!(s(false, false, true, true), 0);
    }
}
