//! Terminal behaviour shared by every command: whether output is coloured (`--color`, `NO_COLOR`,
//! a terminal) and how wide the table views may be (`COLUMNS`, the terminal's size).

use std::io::IsTerminal;
use std::sync::OnceLock;

/// `--color`: when to colour human output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set to a non-empty value.
    #[default]
    Auto,
    /// Always, also when stdout is not a terminal and despite `NO_COLOR` (files named with `-o`
    /// stay plain).
    Always,
    /// Never.
    Never,
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// Records `--color` for the run (the first call wins).
pub fn set_color_choice(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
}

/// An output stream of the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn is_terminal(self) -> bool {
        match self {
            Stream::Stdout => std::io::stdout().is_terminal(),
            Stream::Stderr => std::io::stderr().is_terminal(),
        }
    }
}

/// Whether human output written to `stream` is coloured: `--color always|never`, else (`auto`)
/// when the stream is a terminal and `NO_COLOR` is unset or empty (<https://no-color.org>).
pub fn color(stream: Stream) -> bool {
    decide(
        CHOICE.get().copied().unwrap_or_default(),
        std::env::var_os("NO_COLOR").as_deref(),
        || stream.is_terminal(),
    )
}

fn decide(choice: ColorChoice, no_color: Option<&std::ffi::OsStr>, terminal: impl FnOnce() -> bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => no_color.is_none_or(|v| v.is_empty()) && terminal(),
    }
}

/// The width assumed for a terminal whose size cannot be read.
pub const DEFAULT_WIDTH: usize = 100;
/// Narrower widths are taken as this: below it the tables would be all ellipses.
pub const MIN_WIDTH: usize = 40;

/// How wide a table written to stdout may be: `COLUMNS` when set (a positive number; also when
/// stdout is not a terminal, as `ls` does), else the terminal's width, else [`DEFAULT_WIDTH`] on
/// a terminal; `None` (full width, the exact form) when stdout is a pipe or a file and `COLUMNS`
/// is not set.
pub fn stdout_width() -> Option<usize> {
    let columns = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0);
    let width = match columns {
        Some(c) => c,
        None if std::io::stdout().is_terminal() => console::Term::stdout()
            .size_checked()
            .map_or(DEFAULT_WIDTH, |(_, w)| usize::from(w)),
        None => return None,
    };
    Some(width.max(MIN_WIDTH))
}

/// `text` cut to at most `width` characters, the cut marked with `…` (plain text only).
pub fn elide(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` in the SGR style `code` when `on`.
pub fn paint(text: &str, code: &str, on: bool) -> String {
    if on && !text.is_empty() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The style of a severity or Sigma level name: critical bold red, high red, medium yellow, low
/// cyan, informational dim.
fn severity_style(name: &str) -> Option<&'static str> {
    Some(match name.trim().to_ascii_lowercase().as_str() {
        "critical" => "1;31",
        "high" => "31",
        "medium" => "33",
        "low" => "36",
        "informational" | "info" => "2",
        _ => return None,
    })
}

/// `text` (a severity name, possibly padded) in its severity's colour when `on`; the padding
/// stays outside the colour codes so columns line up.
pub fn severity(text: &str, on: bool) -> String {
    match severity_style(text) {
        Some(code) if on => {
            let word = text.trim_end();
            format!("{}{}", paint(word, code, true), &text[word.len()..])
        }
        _ => text.to_string(),
    }
}

/// `text` bold when `on` (headings).
pub fn bold(text: &str, on: bool) -> String {
    paint(text, "1", on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_and_the_flag() {
        let tty = || true;
        assert!(decide(ColorChoice::Auto, None, tty));
        assert!(decide(ColorChoice::Auto, Some(OsStr::new("")), tty));
        assert!(!decide(ColorChoice::Auto, Some(OsStr::new("1")), tty));
        assert!(!decide(ColorChoice::Auto, None, || false));
        assert!(decide(ColorChoice::Always, Some(OsStr::new("1")), || false));
        assert!(!decide(ColorChoice::Never, None, tty));
    }

    #[test]
    fn severities_keep_their_padding_outside_the_codes() {
        assert_eq!(severity("High  ", true), "\x1b[31mHigh\x1b[0m  ");
        assert_eq!(severity("Medium", false), "Medium");
        assert_eq!(severity("unknown", true), "unknown");
        assert_eq!(severity("Informational ", true), "\x1b[2mInformational\x1b[0m ");
    }

    #[test]
    fn elision_marks_the_cut() {
        assert_eq!(elide("abcdef", 6), "abcdef");
        assert_eq!(elide("abcdefg", 6), "abcde…");
        assert_eq!(elide("ééééé", 3), "éé…");
    }
}
