//! TRX outcome, time span and class name rules, apart from the reader's
//! element handling.
//!
//! Owns [`Verdict`] and how `outcome`, `duration` and `className` values are
//! read; see [`super`] for the sources.

use crate::reports::values::seconds_to_ms;

/// How a result ended, before details are attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Pass,
    Fail,
    Error,
    Skip,
}

/// TRX outcomes (vstest's `TestOutcome`): `Passed`, `PassedButRunAborted`,
/// `Completed` and `Warning` pass; `Failed`, `Timeout` and `Aborted` fail;
/// `Error`, `NotRunnable` and `Disconnected` (the test host was lost) are
/// errors; `NotExecuted`, `Inconclusive`, `Pending` and `InProgress` (never
/// finished) are skips.
pub(super) fn verdict(outcome: Option<&str>) -> Result<Verdict, String> {
    Ok(match outcome {
        Some("Passed" | "PassedButRunAborted" | "Completed" | "Warning") => Verdict::Pass,
        Some("Failed" | "Timeout" | "Aborted") => Verdict::Fail,
        Some("Error" | "NotRunnable" | "Disconnected") => Verdict::Error,
        Some("NotExecuted" | "Inconclusive" | "Pending" | "InProgress") => Verdict::Skip,
        Some(other) => {
            return Err(format!(
                "test outcome '{other}' is not one of Passed, Failed, Error, Timeout, Aborted, NotExecuted, Inconclusive or another TRX outcome"
            ));
        }
        None => return Err("<UnitTestResult> has no 'outcome' attribute".to_owned()),
    })
}

/// Milliseconds from a .NET time span (`00:00:01.2340000`, `1.02:03:04.5`),
/// rounded half up; missing, negative or unreadable spans give 0, as bad
/// times do in the other formats.
pub(super) fn timespan_ms(raw: Option<&str>) -> i64 {
    let Some(raw) = raw else { return 0 };
    let mut parts = raw.trim().split(':');
    let (Some(hours), Some(minutes), Some(seconds), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return 0;
    };
    let (days, hours) = hours.split_once('.').unwrap_or(("0", hours));
    let number = |s: &str| {
        let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| s.parse::<i64>().unwrap_or(i64::MAX))
    };
    let seconds_ok = seconds.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let (Some(days), Some(hours), Some(minutes), true) =
        (number(days), number(hours), number(minutes), seconds_ok)
    else {
        return 0;
    };
    let whole_minutes = days
        .saturating_mul(24)
        .saturating_add(hours)
        .saturating_mul(60)
        .saturating_add(minutes);
    whole_minutes
        .saturating_mul(60_000)
        .saturating_add(seconds_to_ms(Some(seconds)))
}

/// `class` without the assembly part of an assembly-qualified name
/// (`Ns.Calc, Calc.Tests, Version=1.0.0.0` gives `Ns.Calc`); commas inside
/// generic arguments (`[...]`) are kept.
pub(super) fn type_name(class: &str) -> &str {
    let mut depth = 0_usize;
    for (i, c) in class.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => return class[..i].trim_end(),
            _ => {}
        }
    }
    class
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_time_spans() {
        let ms = |s| timespan_ms(Some(s));
        assert_eq!(timespan_ms(None), 0);
        assert_eq!(ms("00:00:01.2340000"), 1_234);
        assert_eq!(ms("00:00:00.0004999"), 0);
        assert_eq!(ms("00:00:00.0005"), 1);
        assert_eq!(ms("01:02:03"), 3_723_000);
        assert_eq!(ms("1.00:00:00.5"), 86_400_500);
        assert_eq!(ms("-00:00:01"), 0);
        assert_eq!(ms("00:01"), 0);
        assert_eq!(ms("00:00:1e3"), 0);
        assert_eq!(ms("junk"), 0);
    }

    #[test]
    fn strips_assembly_names() {
        assert_eq!(type_name("Ns.Calc"), "Ns.Calc");
        assert_eq!(type_name("Ns.Calc, Calc.Tests, Version=1.0.0.0"), "Ns.Calc");
        let generic = "Ns.Box`1[[System.Int32, mscorlib]], Box.Tests";
        assert_eq!(type_name(generic), "Ns.Box`1[[System.Int32, mscorlib]]");
    }
}
