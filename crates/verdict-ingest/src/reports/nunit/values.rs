//! NUnit outcome and name rules, apart from the reader's element handling.
//!
//! Owns [`Verdict`] and how NUnit 2 `result`s, NUnit 3 `result`/`label`
//! pairs and NUnit 2 full test names are read; see [`super`] for the sources.

/// How a case ended, before details are attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Pass,
    Fail,
    Error,
    Skip,
    /// Passed with a warning (NUnit 3 `Warning`).
    Warn,
}

/// NUnit 2 outcomes (`ResultState` names): `Success` passes; `Failure`
/// fails; `Error`, `Cancelled` and `NotRunnable` (a test NUnit could not
/// even build, NUnit 3's `Failed`/`Invalid`) are errors; `Ignored`,
/// `Skipped` and `Inconclusive` are skips. Files from NUnit 2.4 and older
/// have no `result`, so `executed` and `success` decide there.
pub(super) fn verdict_v2(
    result: Option<&str>,
    executed: Option<&str>,
    success: Option<&str>,
) -> Result<Verdict, String> {
    let is = |value: Option<&str>, want: &str| value.is_some_and(|v| v.eq_ignore_ascii_case(want));
    Ok(match result {
        Some("Success") => Verdict::Pass,
        Some("Failure") => Verdict::Fail,
        Some("Error" | "Cancelled" | "NotRunnable") => Verdict::Error,
        Some("Ignored" | "Skipped" | "Inconclusive") => Verdict::Skip,
        Some(other) => {
            return Err(format!(
                "test result '{other}' is not one of Success, Failure, Error, Cancelled, NotRunnable, Ignored, Skipped or Inconclusive"
            ));
        }
        None if is(executed, "False") => Verdict::Skip,
        None if is(success, "True") => Verdict::Pass,
        None if is(success, "False") => Verdict::Fail,
        None => return Err("<test-case> has no 'result' attribute".to_owned()),
    })
}

/// NUnit 3 outcomes: `Passed` passes; `Failed` is an error with the labels
/// `Error`, `Cancelled` or `Invalid` and a failure otherwise; `Skipped` (any
/// label, such as `Ignored` or `Explicit`) and `Inconclusive` are skips;
/// `Warning` passes (the test ran to the end; the warning is kept as output).
pub(super) fn verdict_v3(result: Option<&str>, label: Option<&str>) -> Result<Verdict, String> {
    Ok(match result {
        Some("Passed") => Verdict::Pass,
        Some("Failed") if matches!(label, Some("Error" | "Cancelled" | "Invalid")) => {
            Verdict::Error
        }
        Some("Failed") => Verdict::Fail,
        Some("Skipped" | "Inconclusive") => Verdict::Skip,
        Some("Warning") => Verdict::Warn,
        Some(other) => {
            return Err(format!(
                "test result '{other}' is not one of Passed, Failed, Skipped, Inconclusive or Warning"
            ));
        }
        None => return Err("<test-case> has no 'result' attribute".to_owned()),
    })
}

/// The class part of an NUnit 2 full test name: everything before the last
/// `.` that is outside argument lists and generic arguments
/// (`Ns.Fixture(1).Add("a.b")` gives `Ns.Fixture(1)`); `None` without one.
pub(super) fn class_of(full_name: &str) -> Option<&str> {
    let (mut depth, mut quote, mut escaped) = (0_usize, None, false);
    let mut last_dot = None;
    for (i, c) in full_name.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' if depth > 0 => quote = Some(c),
            '(' | '[' | '<' => depth += 1,
            ')' | ']' | '>' => depth = depth.saturating_sub(1),
            '.' if depth == 0 => last_dot = Some(i),
            _ => {}
        }
    }
    last_dot.filter(|&i| i > 0).map(|i| &full_name[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_class_of_full_names() {
        assert_eq!(class_of("Ns.Calc.Add"), Some("Ns.Calc"));
        assert_eq!(class_of("Ns.Calc.Add(1.5,\"a.b\")"), Some("Ns.Calc"));
        assert_eq!(
            class_of("Ns.Calc(2.0).Add(')', \")\\\".\")"),
            Some("Ns.Calc(2.0)")
        );
        assert_eq!(
            class_of("Ns.Box<System.Int32>.Holds"),
            Some("Ns.Box<System.Int32>")
        );
        assert_eq!(class_of("Add(1.5)"), None);
        assert_eq!(class_of(".Add"), None);
    }
}
