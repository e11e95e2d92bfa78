//! Test helpers. The shared material (HMRC corpus, HS nomenclature, KCS data) lives next to the repository in
//! `../shared`, or where `ADUANA_SHARED` points. Tests that need it skip with a printed reason when it is absent,
//! except in CI (`CI=true`), where its absence is a failure.

use std::path::{Path, PathBuf};

/// The shared folder, or `None` (after printing why) when it is absent outside CI. Panics in CI.
pub fn shared_dir() -> Option<PathBuf> {
    let candidate = match std::env::var_os("ADUANA_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    if candidate.join("conformance").is_dir() {
        return Some(candidate);
    }
    let reason = format!(
        "shared material not found at {} (set ADUANA_SHARED)",
        candidate.display()
    );
    if in_ci() {
        panic!("{reason}: in CI this is a failure");
    }
    eprintln!("SKIPPED: {reason}");
    None
}

/// True when running under CI (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The HMRC sample folder of the shared corpus.
pub fn hmrc_samples() -> Option<PathBuf> {
    shared_dir().map(|dir| dir.join("conformance/hmrc-cds-v2/samples"))
}

/// Every file under `dir`, sorted, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The declaration files of the HMRC corpus: XML files that are not CDS notifications (DMSxxx) nor inventory
/// linking or DIS messages, which have their own folders.
pub fn hmrc_declaration_files(samples: &Path) -> Vec<PathBuf> {
    files_under(samples)
        .into_iter()
        .filter(|p| {
            let text = p.to_string_lossy();
            p.extension().is_some_and(|e| e == "xml")
                && !text.contains("Notification")
                && !text.contains("Movement_Messages")
                && !text.contains("DIS_Report")
                && !text.contains("ILE_Query")
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains("DMS"))
        })
        .collect()
}
