//! The live lines of `verdict push` on a terminal: one per file moving
//! through its phases — converting (bytes, rate), validating, compressing,
//! uploading (bytes sent of total, rate), queued, processing (runs applied of
//! total, from a Verdict server) — and a total line for several files. Each
//! file's line gives way to the summary line printed today. Nothing of it
//! when standard error is not a terminal or with `--quiet`; no colour at
//! all, so `NO_COLOR` holds by construction.

use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// All lines of one push.
pub struct Live {
    multi: MultiProgress,
    total: Option<ProgressBar>,
    shown: bool,
}

/// One file's line.
#[derive(Clone)]
pub struct FileLine {
    bar: ProgressBar,
    name: String,
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Live {
    /// Lines for `files` files, drawn only when `shown`.
    pub fn new(files: usize, shown: bool) -> Self {
        let multi = MultiProgress::with_draw_target(if shown {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        let total = (shown && files > 1).then(|| {
            let bar = multi.add(ProgressBar::new(files as u64));
            bar.set_style(style("total: {pos}/{len} files done"));
            bar.force_draw();
            bar
        });
        Self {
            multi,
            total,
            shown,
        }
    }

    /// Whether a terminal and no `--quiet` let lines be drawn.
    pub fn wanted(quiet: bool) -> bool {
        !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr())
    }

    /// The line of the next file.
    pub fn file(&self, name: &str) -> FileLine {
        let blank = ProgressBar::new(0).with_style(style("{msg}"));
        let bar = if self.shown {
            match &self.total {
                Some(t) => self.multi.insert_before(t, blank),
                None => self.multi.add(blank),
            }
        } else {
            ProgressBar::hidden()
        };
        FileLine {
            bar,
            name: name.to_owned(),
        }
    }

    /// The lines, for clearing them from elsewhere (Ctrl-C).
    pub fn handle(&self) -> MultiProgress {
        self.multi.clone()
    }

    /// Ends `line` and prints `summary` on standard output in its place (a
    /// closed standard output — `| head -1` — is not an error here).
    pub fn done(&self, line: &FileLine, summary: &str) {
        use std::io::Write as _;
        line.bar.finish_and_clear();
        self.multi.suspend(|| {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{summary}").and_then(|()| out.flush());
        });
        if let Some(t) = &self.total {
            t.inc(1);
        }
    }

    /// Removes every line (the push ends or fails).
    pub fn clear(&self) {
        if let Some(t) = &self.total {
            t.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

impl FileLine {
    /// The bar the converter reads through (bytes of the report).
    pub fn converting(&self, bytes: u64) -> &ProgressBar {
        self.measure(bytes, "converting");
        self.bar.force_draw();
        &self.bar
    }

    /// A phase measured in bytes: the bar is re-measured under a plain
    /// style, so no draw in between shows the old phase's figures.
    fn measure(&self, bytes: u64, what: &str) {
        self.bar.set_style(style("{msg}"));
        self.bar.set_message(self.name.clone());
        self.bar.reset();
        self.bar.set_length(bytes);
        self.bar.set_style(style(&format!(
            "{{msg}}: {what} {{bytes}}/{{total_bytes}} ({{bytes_per_sec}})"
        )));
    }

    /// A phase without a measure (validating, compressing, queued).
    pub fn phase(&self, what: &str) {
        self.bar.set_style(style("{msg} {spinner}"));
        self.bar.set_message(format!("{}: {what}", self.name));
        // every phase is drawn at least once, however short
        self.bar.force_draw();
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    /// The bar the upload counts sent bytes on.
    pub fn uploading(&self, bytes: u64) -> ProgressBar {
        self.bar.disable_steady_tick();
        self.measure(bytes, "uploading");
        self.bar.force_draw();
        self.bar.clone()
    }

    /// The server is applying the task: `applied` of `total` runs when it says.
    pub fn processing(&self, task: i64, applied: Option<(i64, i64)>) {
        match applied {
            Some((done, total)) => {
                self.bar.disable_steady_tick();
                self.bar.set_style(style("{msg}"));
                self.bar.set_message(format!(
                    "{}: task {task} processing {done}/{total} runs",
                    self.name
                ));
                self.bar.force_draw();
            }
            None => self.phase(&format!("task {task} processing")),
        }
    }
}
