//! The page shell and the small pieces every page uses: status marks (a
//! symbol and a word, never colour alone), times, durations.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

/// The stylesheet, compiled in (under 20 KB, the budget of docs/ui.md).
const STYLE: &str = include_str!("style.css");

/// GET /ui/style.css
pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

/// Where a signed-in page is: the user and, inside a workspace, its path.
pub struct Nav<'a> {
    pub user: &'a str,
    pub csrf: &'a str,
    /// `(shared space, workspace, workspace name)`.
    pub workspace: Option<(&'a str, &'a str, &'a str)>,
}

/// A whole page.
pub fn page(title: &str, nav: Option<Nav<'_>>, body: Markup) -> Html<String> {
    Html(
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    title { (title) " · Verdict" }
                    link rel="stylesheet" href="/ui/style.css";
                }
                body {
                    a.skip-link href="#main" { "Skip to the content" }
                    header.top {
                        a.brand href="/" { "Verdict" }
                        @if let Some(nav) = &nav {
                            @if let Some((sp, ws, name)) = nav.workspace {
                                nav aria-label="Workspace" {
                                    a href={ "/ui/" (sp) "/" (ws) } { (name) }
                                    a href={ "/ui/" (sp) "/" (ws) "/failures" } { "Failure groups" }
                                    a href={ "/ui/" (sp) "/" (ws) "/flaky" } { "Flaky tests" }
                                    a href={ "/ui/" (sp) "/" (ws) "/tasks" } { "Tasks" }
                                    a href={ "/ui/" (sp) "/" (ws) "/testcenter" } { "Test Center" }
                                }
                            }
                            form method="post" action="/ui/sign-out" {
                                input type="hidden" name="csrf" value=(nav.csrf);
                                span.muted { (nav.user) " " }
                                button type="submit" { "Sign out" }
                            }
                        }
                    }
                    main #main { (body) }
                }
            }
        }
        .into_string(),
    )
}

/// An outcome as symbol and word, coloured.
pub fn outcome(outcome: &str, flaky: bool, muted: bool) -> Markup {
    let (class, mark) = match outcome {
        "passed" if flaky => ("flaky", "~ flaky pass"),
        "passed" => ("pass", "✓ passed"),
        "failed" => ("fail", "✗ failed"),
        "skipped" => ("skip", "– skipped"),
        _ => ("skip", "· no outcome"),
    };
    html! {
        span class=(class) { (mark) }
        @if muted { " " span.muted title="muted" { "(muted)" } }
    }
}

/// One mark of a history strip: the symbol only, the word in its title.
pub fn mark(outcome: &str, flaky: bool) -> (&'static str, &'static str) {
    match outcome {
        "passed" if flaky => ("flaky", "~"),
        "passed" => ("pass", "✓"),
        "failed" => ("fail", "✗"),
        "skipped" => ("skip", "–"),
        _ => ("skip", "·"),
    }
}

/// An ISO time as `<time>`, shown without seconds' fraction.
pub fn time(iso: &str) -> Markup {
    let shown = iso.get(..16).unwrap_or(iso).replace('T', " ");
    html! { time datetime=(iso) title=(iso) { (shown) } }
}

/// A duration in ms, in the largest sensible unit.
pub fn duration(ms: i64) -> String {
    match ms {
        ..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1_000.0),
        _ => format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1_000),
    }
}

/// A ratio as a percentage.
pub fn percent(r: f64) -> String {
    format!("{:.0} %", r * 100.0)
}

#[cfg(test)]
mod tests {
    use super::STYLE;

    /// The `--name: #rrggbb` colours of each `:root { … }` block (light, then dark).
    fn palettes() -> Vec<Vec<(String, [f64; 3])>> {
        STYLE
            .split(":root {")
            .skip(1)
            .map(|block| {
                let block = block.split('}').next().unwrap_or_default();
                block
                    .split(';')
                    .filter_map(|decl| {
                        let (name, value) = decl.split_once(':')?;
                        let hex = value.trim().strip_prefix('#')?;
                        let channel = |i: usize| {
                            u8::from_str_radix(hex.get(i..i + 2)?, 16)
                                .ok()
                                .map(|v| f64::from(v) / 255.0)
                        };
                        Some((
                            name.trim().trim_start_matches("--").to_owned(),
                            [channel(0)?, channel(2)?, channel(4)?],
                        ))
                    })
                    .collect()
            })
            .collect()
    }

    /// WCAG 2 relative luminance and contrast ratio.
    fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
        let lum = |c: [f64; 3]| {
            let lin = |x: f64| {
                if x <= 0.039_28 {
                    x / 12.92
                } else {
                    ((x + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
        };
        let (hi, lo) = if lum(a) > lum(b) {
            (lum(a), lum(b))
        } else {
            (lum(b), lum(a))
        };
        (hi + 0.05) / (lo + 0.05)
    }

    #[test]
    fn every_text_colour_meets_wcag_aa_on_both_backgrounds_in_light_and_dark() {
        let palettes = palettes();
        assert_eq!(palettes.len(), 2, "a light and a dark palette");
        for palette in &palettes {
            let colour = |name: &str| {
                palette
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, c)| *c)
                    .unwrap_or_else(|| panic!("--{name} missing"))
            };
            for text in ["fg", "muted", "pass", "fail", "skip", "flaky", "link"] {
                for background in ["bg", "head"] {
                    let ratio = contrast(colour(text), colour(background));
                    assert!(
                        ratio >= 4.5,
                        "--{text} on --{background}: {ratio:.2}:1 is below AA's 4.5:1"
                    );
                }
            }
        }
    }
}
