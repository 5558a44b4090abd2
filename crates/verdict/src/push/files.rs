//! File arguments: existing paths as given; patterns with `*` (and `**` for
//! any depth) expanded here too, for shells and CI steps that pass them quoted.

use std::path::{Path, PathBuf};

/// The argument naming standard input.
pub const STDIN: &str = "-";

/// The files named by the arguments, in order, without duplicates; `-`
/// (standard input) passes through, at most once.
pub fn expand(args: &[String]) -> Result<Vec<PathBuf>, String> {
    let mut out: Vec<PathBuf> = Vec::new();
    if args.iter().filter(|a| *a == STDIN).count() > 1 {
        return Err("'-' (standard input) may be given once".to_owned());
    }
    for arg in args {
        let path = PathBuf::from(arg);
        if arg == STDIN {
            out.push(path);
            continue;
        }
        if path.is_file() || !arg.contains('*') {
            if path.is_dir() {
                return Err(format!(
                    "{arg} is a directory; name the report files in it (e.g. '{}/*.xml')",
                    arg.trim_end_matches('/')
                ));
            }
            if !path.is_file() {
                return Err(format!("{arg}: no such file"));
            }
            push_unique(&mut out, path);
            continue;
        }
        let base: PathBuf = Path::new(arg)
            .components()
            .take_while(|c| !c.as_os_str().to_string_lossy().contains('*'))
            .collect();
        let root = if base.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            base
        };
        let mut found = Vec::new();
        walk(&root, &mut found);
        found.sort();
        let pattern: Vec<&str> = arg.split('/').collect();
        let before = out.len();
        for file in found {
            let rel = file
                .strip_prefix("./")
                .unwrap_or(&file)
                .to_string_lossy()
                .into_owned();
            let parts: Vec<&str> = rel.split('/').collect();
            if matches(&pattern, &parts) {
                push_unique(&mut out, file);
            }
        }
        if out.len() == before {
            return Err(format!("{arg}: no file matches"));
        }
    }
    Ok(out)
}

fn push_unique(out: &mut Vec<PathBuf>, path: PathBuf) {
    if !out.contains(&path) {
        out.push(path);
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Path segments against pattern segments: `**` spans any number of segments.
fn matches(pattern: &[&str], parts: &[&str]) -> bool {
    match (pattern.first(), parts.first()) {
        (None, None) => true,
        (Some(&"**"), _) => {
            matches(&pattern[1..], parts) || (!parts.is_empty() && matches(pattern, &parts[1..]))
        }
        (Some(p), Some(s)) => segment(p, s) && matches(&pattern[1..], &parts[1..]),
        _ => false,
    }
}

/// `*` within one segment.
fn segment(pattern: &str, text: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, piece) in pieces.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(piece) else {
                return false;
            };
            rest = r;
        } else if i == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else if let Some(at) = rest.find(piece) {
            rest = &rest[at + piece.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Standard input spooled to a temporary file (format detection reads the
/// head, some readers two passes), removed when this is dropped.
pub struct Spooled {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

/// Copies standard input to disk, streaming (never held in memory).
pub fn spool_stdin() -> Result<Spooled, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("cannot spool standard input: {e}"))?;
    let path = dir.path().join("stdin");
    let mut file =
        std::fs::File::create(&path).map_err(|e| format!("cannot spool standard input: {e}"))?;
    std::io::copy(&mut std::io::stdin().lock(), &mut file)
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    Ok(Spooled { path, _dir: dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_shells_with_globstar() {
        let m = |p: &str, t: &str| {
            matches(
                &p.split('/').collect::<Vec<_>>(),
                &t.split('/').collect::<Vec<_>>(),
            )
        };
        assert!(m("reports/**/*.xml", "reports/a/b/TEST-x.xml"));
        assert!(m("reports/**/*.xml", "reports/TEST-x.xml"));
        assert!(!m("reports/*.xml", "reports/a/TEST-x.xml"));
        assert!(m("*.json", "cucumber.json"));
        assert!(!m("TEST-*.xml", "other.xml"));
    }
}
