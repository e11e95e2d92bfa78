//! libxml2's verdict through `tools/ncts_validate.py` (lxml): the reference the tests compare with.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// libxml2's verdict on `files`, by file.
pub fn libxml2(python: &str, files: &[PathBuf]) -> BTreeMap<String, (bool, String)> {
    let shared = test_support::shared_dir().expect("the shared folder");
    let output = std::process::Command::new(python)
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/ncts_validate.py"))
        .arg(shared.join("conformance/ncts-p5/schemas"))
        .args(files)
        .output()
        .expect("run tools/ncts_validate.py");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            (
                v["file"].as_str().unwrap().to_owned(),
                (
                    v["valid"].as_bool().unwrap(),
                    v["error"].as_str().unwrap_or_default().to_owned(),
                ),
            )
        })
        .collect()
}
