//! Exit codes: one scheme for every subcommand (README.md, "Exit codes").
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success (also when the reader of standard output went away) |
//! | 1 | any other failure (a bug: please report it) |
//! | 2 | usage: a bad flag or argument, or one that names nothing known |
//! | 3 | input: malformed input data (events, edge list, truth, accounts) |
//! | 4 | I/O: a file or stream cannot be read or written |
//! | 5 | configuration: a value out of range or inconsistent |
//! | 6 | state: a watcher state directory damaged, of another version, or in use |
//! | 7 | limit: a size limit was hit (the message says which knob to change) |

use std::fmt;

use hydra_detect::ErrorKind;

/// The exit codes as `hydra --help` lists them (after the commands); the
/// same as the table above and README.md's "Exit codes".
pub(crate) const HELP: &str = "Exit codes (the same for every command):
  0  success (also when the reader of standard output went away)
  1  other failure (a bug: please report it)
  2  usage: a bad flag or argument, or one that names nothing known
  3  input: malformed input data (events, edge list, truth, accounts)
  4  I/O: a file or stream cannot be read or written
  5  configuration: a value out of range or inconsistent
  6  state: a watcher state directory damaged, of another version, or in use
  7  limit: a size limit was hit (the message says which knob to change)";

/// The exit code of a failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Code {
    Other = 1,
    Usage = 2,
    Input = 3,
    Io = 4,
    Config = 5,
    State = 6,
    Limit = 7,
}

/// A failure of the command line itself (not the library's), with its code.
#[derive(Debug)]
pub(crate) struct Failure {
    code: Code,
    message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// A usage error: a bad flag or argument.
pub(crate) fn usage(message: impl Into<String>) -> anyhow::Error {
    Failure { code: Code::Usage, message: message.into() }.into()
}

/// An input error found by the command line (a file it reads itself).
pub(crate) fn input(message: impl Into<String>) -> anyhow::Error {
    Failure { code: Code::Input, message: message.into() }.into()
}

/// The code of `err`: that of the first cause in its chain that has one.
pub(crate) fn code(err: &anyhow::Error) -> Code {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.code;
        }
        if let Some(e) = cause.downcast_ref::<hydra_detect::Error>() {
            return match e.kind() {
                ErrorKind::Input { .. } => Code::Input,
                ErrorKind::Io { .. } => Code::Io,
                ErrorKind::Config { .. } => Code::Config,
                ErrorKind::Limit { .. } => Code::Limit,
                ErrorKind::State { .. } => Code::State,
                ErrorKind::InvalidArgument { .. } => Code::Usage,
                _ => Code::Other,
            };
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return Code::Io;
        }
    }
    Code::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_cause_with_a_code_decides() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        assert_eq!(code(&anyhow::Error::from(io).context("cannot read x")), Code::Io);
        let state = hydra_detect::Error::state("dir/lock", "in use");
        assert_eq!(code(&anyhow::Error::from(state).context("watch")), Code::State);
        assert_eq!(code(&usage("--threads must be at least 1")), Code::Usage);
        assert_eq!(code(&anyhow::anyhow!("something else")), Code::Other);
    }

    #[test]
    fn the_help_lists_every_code_with_its_number() {
        let codes = [
            (Code::Other, "other"),
            (Code::Usage, "usage"),
            (Code::Input, "input"),
            (Code::Io, "I/O"),
            (Code::Config, "configuration"),
            (Code::State, "state"),
            (Code::Limit, "limit"),
        ];
        for (code, word) in codes {
            let line = format!("  {}  {word}", code as u8);
            assert!(HELP.lines().any(|l| l.starts_with(&line)), "{line:?} in {HELP}");
        }
        assert_eq!(HELP.lines().filter(|l| l.starts_with("  ")).count(), codes.len() + 1);
    }
}
