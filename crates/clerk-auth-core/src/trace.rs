//! The decision's trace: where the decision writes its steps as it runs (nowhere, by default, at
//! no cost), and how untrusted values and tokens are shown in them. A leaf: the decision writes
//! to it, and [`explain`](crate::explain) reads it.

use std::cell::RefCell;
use std::fmt;

/// One step of an [`Explanation`](crate::explain::Explanation): the rule of Clerk's flow it belongs to, and what happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    rule: &'static str,
    detail: String,
}

impl Step {
    /// The rule that applied: a place in Clerk's flow, as the explanation prints it between
    /// brackets, or `"outcome"` for the verdict.
    pub fn rule(&self) -> &str {
        self.rule
    }

    /// What was read, compared or decided, with the values involved (tokens shortened).
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.detail)
    }
}

/// Where the decision writes its steps: nowhere (the default, free), or a list.
pub(crate) struct Recorder {
    steps: Option<RefCell<Vec<Step>>>,
}

impl Recorder {
    /// Records nothing.
    pub(crate) const fn off() -> Self {
        Self { steps: None }
    }

    /// Records every step.
    pub(crate) fn on() -> Self {
        Self {
            steps: Some(RefCell::new(Vec::new())),
        }
    }

    /// Records when `tracing` would show the steps (`DEBUG` for target `clerk_auth`).
    pub(crate) fn for_tracing() -> Self {
        if tracing::enabled!(target: "clerk_auth", tracing::Level::DEBUG) {
            Self::on()
        } else {
            Self::off()
        }
    }

    /// Whether steps are recorded (to skip work that only feeds the explanation).
    pub(crate) fn is_on(&self) -> bool {
        self.steps.is_some()
    }

    /// Records a step; `detail` runs only when recording.
    pub(crate) fn note(&self, rule: &'static str, detail: impl FnOnce() -> String) {
        if let Some(steps) = &self.steps {
            let detail = detail();
            steps.borrow_mut().push(Step { rule, detail });
        }
    }

    /// Emits the recorded steps as `DEBUG` events (target `clerk_auth`).
    pub(crate) fn emit(&self) {
        if let Some(steps) = &self.steps {
            for step in steps.borrow().iter() {
                tracing::debug!(target: "clerk_auth", rule = step.rule, "Clerk explain: {}", step.detail);
            }
        }
    }

    /// The recorded steps.
    pub(crate) fn into_steps(self) -> Vec<Step> {
        self.steps.map(RefCell::into_inner).unwrap_or_default()
    }
}

/// A token as the explanation shows it: its first 8 characters (made inert) and its length,
/// never more.
pub(crate) fn token_hint(token: &str) -> String {
    let prefix: String = token.chars().take(8).collect();
    format!("{}… ({} bytes)", crate::text::inert(&prefix), token.len())
}

/// An untrusted value (a header parameter, a request header, a URL part) as the explanation
/// shows it: the one rule of [`text::inert`](crate::text::inert) (at most 128 characters,
/// escaped, at most 512 bytes).
pub(crate) fn short(value: &str) -> std::borrow::Cow<'_, str> {
    crate::text::inert(value)
}

/// A signed number of seconds in words: `"in 50 s"` / `"45 s ago"`.
pub(crate) fn relative(seconds: i64) -> String {
    if seconds >= 0 {
        format!("in {seconds} s")
    } else {
        format!("{} s ago", seconds.unsigned_abs())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn token_hint_keeps_a_short_prefix_only() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEifQ.c2lnbmF0dXJl";
        let hint = token_hint(token);
        assert_eq!(hint, format!("eyJhbGci… ({} bytes)", token.len()));
        assert!(!hint.contains("eyJzdWIi"));
        assert_eq!(token_hint("ak_é"), "ak_é… (5 bytes)");
        // A token from a query string may carry anything: its prefix is escaped too.
        assert_eq!(token_hint("\nERROR x!"), "\\nERROR x… (9 bytes)");
    }

    #[test]
    fn recorder_off_runs_no_detail() {
        let off = Recorder::off();
        off.note("x", || panic!("must not run"));
        assert!(off.into_steps().is_empty());
        let on = Recorder::on();
        on.note("§1", || "one".to_owned());
        assert_eq!(on.into_steps()[0].to_string(), "[§1] one");
    }

    #[test]
    fn relative_times_read_naturally() {
        assert_eq!(relative(50), "in 50 s");
        assert_eq!(relative(-45), "45 s ago");
        assert_eq!(relative(0), "in 0 s");
    }
}
