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
