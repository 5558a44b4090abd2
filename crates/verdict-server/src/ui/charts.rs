//! The SVG charts, drawn on the server: bars (pass rate per result set,
//! failures per day) and a line (durations). Each mark carries a `<title>`
//! saying what it is, and the chart an `aria-label`, so nothing is only a
//! shape or a colour.

use maud::{Markup, html};

use super::layout::{duration, percent};
use crate::api::groups::GroupDayView;
use crate::api::views::ResultSetView;

/// One bar: its height in 0..=1, whether it marks trouble, its title.
struct Bar {
    height: f64,
    bad: bool,
    title: String,
}

fn bars(class: &str, label: &str, bars: &[Bar]) -> Markup {
    let width = 10.0;
    html! {
        svg class=(class) viewBox={ "0 0 " (bars.len() as f64 * width) " 100" } preserveAspectRatio="none"
            role="img" aria-label=(label) {
            // an empty good bar (a day without failures) is left out
            @for (i, b) in bars.iter().enumerate().filter(|(_, b)| b.bad || b.height > 0.0) {
                @let h = (b.height * 100.0).clamp(1.0, 100.0);
                rect class=(if b.bad { "bad" } else { "bar" }) x=(i as f64 * width + 1.0) y=(100.0 - h)
                    width=(width - 2.0) height=(h) { title { (b.title) } }
            }
        }
    }
}

/// A line through `points` (`(title, value)`, oldest first), scaled to the largest.
fn line(class: &str, label: &str, points: &[(String, i64)]) -> Markup {
    if points.len() < 2 {
        return html! {};
    }
    let top = points.iter().map(|(_, v)| *v).max().unwrap_or(1).max(1) as f64;
    let step = 100.0 / (points.len() - 1) as f64;
    let at = |i: usize, v: i64| (i as f64 * step, 95.0 - 90.0 * v as f64 / top);
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let (x, y) = at(i, *v);
            format!("{x:.2},{y:.2}")
        })
        .collect();
    html! {
        svg class=(class) viewBox="0 0 100 100" preserveAspectRatio="none" role="img" aria-label=(label) {
            polyline points=(path.join(" "));
            @for (i, (title, v)) in points.iter().enumerate() {
                @let (x, y) = at(i, *v);
                circle cx=(format!("{x:.2}")) cy=(format!("{y:.2}")) r="1.2" { title { (title) } }
            }
        }
    }
}

/// Pass rate and duration of the newest 30 result sets (`sets` newest first).
pub fn result_sets(sets: &[ResultSetView]) -> Markup {
    let shown: Vec<&ResultSetView> = sets.iter().take(30).rev().collect();
    if shown.is_empty() {
        return html! {};
    }
    let rates: Vec<Bar> = shown
        .iter()
        .map(|s| {
            let counted = s.counts.passed + s.counts.failed;
            let rate = if counted == 0 {
                0.0
            } else {
                s.counts.passed as f64 / counted as f64
            };
            Bar {
                height: rate,
                bad: rate < 1.0,
                title: format!("{}: {} passed", s.name, percent(rate)),
            }
        })
        .collect();
    let durations: Vec<(String, i64)> = shown
        .iter()
        .map(|s| {
            (
                format!("{}: {}", s.name, duration(s.duration_ms)),
                s.duration_ms,
            )
        })
        .collect();
    let slowest = durations.iter().map(|(_, d)| *d).max().unwrap_or(0);
    html! {
        figure.chart {
            (bars("trend", "Pass rate of the newest result sets, oldest first", &rates))
            figcaption { "Pass rate of the newest " (shown.len()) " result sets (oldest left; red: not all passed)" }
        }
        @if durations.len() > 1 {
            figure.chart {
                (line("durations", &format!("Duration of the newest {} result sets, oldest first; longest {}", durations.len(), duration(slowest)), &durations))
                figcaption { "Duration (longest " (duration(slowest)) ")" }
            }
        }
    }
}

/// A test's durations: the newest 50 results (`(result set, ms)`, oldest first).
pub fn test_durations(points: &[(String, i64)]) -> Markup {
    let shown = &points[points.len().saturating_sub(50)..];
    let slowest = shown.iter().map(|(_, d)| *d).max().unwrap_or(0);
    let titled: Vec<(String, i64)> = shown
        .iter()
        .map(|(set, ms)| (format!("{set}: {}", duration(*ms)), *ms))
        .collect();
    line(
        "durations",
        &format!(
            "Duration of the newest {} results, oldest first; slowest {}",
            shown.len(),
            duration(slowest)
        ),
        &titled,
    )
}

/// A failure group's failed runs per day.
pub fn group_days(days: &[GroupDayView]) -> Markup {
    let most = days.iter().map(|d| d.failed_runs).max().unwrap_or(0);
    if most == 0 {
        return html! {};
    }
    let shown: Vec<Bar> = days
        .iter()
        .map(|d| Bar {
            height: if d.failed_runs == 0 {
                0.0
            } else {
                d.failed_runs as f64 / most as f64
            },
            bad: d.failed_runs > 0,
            title: format!("{}: {} failed runs", d.day, d.failed_runs),
        })
        .collect();
    html! {
        figure.chart {
            (bars("trend", &format!("Failed runs per day over {} days, oldest first; most {}", days.len(), most), &shown))
            figcaption { "Failed runs per day, " (days.first().map_or("", |d| d.day.as_str())) " to "
                (days.last().map_or("", |d| d.day.as_str())) " (most: " (most) ")" }
        }
    }
}
