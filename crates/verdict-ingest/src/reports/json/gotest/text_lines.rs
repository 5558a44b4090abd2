//! Text lines in `go test -json` output: Go before 1.20 writes a build
//! failure as `FAIL\t<package> [build failed]` between the JSON lines, with
//! the compiler's messages on stderr (or, when both streams were redirected,
//! in the same file). Such a package gets its `[build failed]` case, stamped
//! with the time of the next JSON line so the same file always gives the same
//! start.

use super::{Output, Package, State, entry};
use crate::reports::ReportEvent;

impl<F: FnMut(ReportEvent) -> Result<(), String>> State<'_, F> {
    /// A line that is not JSON: Go 1.19's `FAIL\t<package> [build failed]`
    /// (or `[setup failed]`) becomes the package's failure; any other text
    /// (compiler messages printed into the same file) is kept as output of
    /// the next package that fails to build.
    pub(super) fn text_line(&mut self, text: &str) -> Result<(), String> {
        let line = text.trim();
        let failed = line
            .strip_prefix("FAIL")
            .map(str::trim_start)
            .and_then(|rest| {
                rest.strip_suffix("[build failed]")
                    .or_else(|| rest.strip_suffix("[setup failed]"))
                    .map(str::trim)
            });
        let Some(package) = failed.filter(|p| !p.is_empty() && !p.contains(char::is_whitespace))
        else {
            entry(&mut self.builds, "").push(text);
            return Ok(());
        };
        // The same failure printed again adds nothing (a file repeating one
        // line a million times must not grow the pending lists).
        if self.deferred.iter().any(|p| p == package) {
            return Ok(());
        }
        if !self.packages.iter().any(|p| p.name == package) {
            self.check_open_packages()?;
            self.packages.push(Package {
                name: package.to_owned(),
                time: None,
                output: Output::default(),
                failed_case: false,
                reported: false,
                running: Vec::new(),
            });
        }
        let stray = self
            .builds
            .iter()
            .position(|(p, _)| p.is_empty())
            .map(|at| self.builds.remove(at).1.text)
            .unwrap_or_default();
        self.builds.push((
            package.to_owned(),
            Output {
                text: if stray.is_empty() {
                    line.to_owned()
                } else {
                    stray
                },
                ..Output::default()
            },
        ));
        self.deferred.push(package.to_owned());
        Ok(())
    }

    /// Finishes the packages of earlier `[build failed]` text lines as
    /// failed builds, stamped with `time`.
    pub(super) fn finish_deferred(&mut self, time: Option<String>) -> Result<(), String> {
        for package in std::mem::take(&mut self.deferred) {
            let Some(index) = self.packages.iter().position(|p| p.name == package) else {
                continue;
            };
            if self.packages[index].time.is_none() {
                self.packages[index].time.clone_from(&time);
            }
            self.finish(index, Some("fail"), Some(package))?;
        }
        Ok(())
    }
}
