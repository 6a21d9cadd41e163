//! Shared by the examples (included with `#[path]`): run `main`'s body and,
//! on error, print it the way a person should read it — its message
//! (`Display`, which for `tinybpf::Error` ends with a hint saying what to
//! do), then each underlying cause not already part of that message — and
//! exit with status 1.

use std::error::Error;
use std::process::ExitCode;

/// Run `body`; on error print [`report`] to stderr and return failure.
pub fn run(body: impl FnOnce() -> Result<(), Box<dyn Error>>) -> ExitCode {
    match body() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", report(&*e));
            ExitCode::FAILURE
        }
    }
}

/// `error: <message>` and one `caused by: <cause>` line per cause whose
/// text the message does not already include.
pub fn report(e: &dyn Error) -> String {
    let mut out = format!("error: {e}");
    let mut shown = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !shown.contains(&text) {
            out.push_str("\n  caused by: ");
            out.push_str(&text);
            shown.push_str(&text);
        }
        cause = c.source();
    }
    out
}
