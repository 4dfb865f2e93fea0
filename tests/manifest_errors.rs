//! Every malformed manifest under `tests/bad-manifests/` is refused with a precise position.
//! Each file's first line says what is expected: `# expect: LINE:COL: part of the message`.

use azrecon::kinds::expand;
use azrecon::manifest::load_path;
use std::path::Path;

fn expectation(path: &Path) -> (String, String) {
    let text = std::fs::read(path).unwrap();
    let first = String::from_utf8_lossy(&text)
        .lines()
        .next()
        .unwrap()
        .to_string();
    let rest = first
        .strip_prefix("# expect: ")
        .expect("first line is `# expect: LINE:COL: message`");
    let (pos, message) = rest
        .split_once(": ")
        .unwrap_or((rest.trim_end_matches(':'), ""));
    (pos.to_string(), message.trim().to_string())
}

#[test]
fn bad_manifests_are_refused_with_file_line_and_column() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-manifests");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for file in &files {
        let (pos, message) = expectation(file);
        let errors = match load_path(file).and_then(|m| expand(&m)) {
            Ok(_) => {
                failures.push(format!("{}: accepted", file.display()));
                continue;
            }
            Err(e) => e,
        };
        let want_prefix = format!("{}:{pos}: error: ", file.display());
        let found = errors.0.iter().any(|e| {
            let text = e.to_string();
            text.starts_with(&want_prefix) && text.contains(&message)
        });
        if !found {
            failures.push(format!(
                "{}: wanted {pos} `{message}`, got:\n{errors}",
                file.display()
            ));
        }
    }
    assert!(
        files.len() >= 45,
        "the corpus has {} manifests",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_example_manifest_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests/examples");
    let manifest = load_path(&dir).unwrap_or_else(|e| panic!("{e}"));
    let desired = expand(&manifest).unwrap_or_else(|e| panic!("{e}"));
    let addresses: Vec<_> = desired.iter().map(|d| d.address.as_str()).collect();
    assert!(
        addresses.contains(&"VirtualNetworkPeering/hub-eus2:spoke"),
        "{addresses:?}"
    );
    assert!(
        addresses.contains(&"WafPolicy/waf-openai-edge"),
        "{addresses:?}"
    );
}

/// A file over the size limit is refused before it is parsed (generated here rather than
/// committed: it is megabytes of otherwise valid YAML).
#[test]
fn a_huge_manifest_is_refused_at_its_first_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("huge.yaml");
    let mut text = String::from("version: 1\nresources:\n  UserAssignedIdentity:\n");
    let mut i = 0;
    while text.len() <= 5 * 1024 * 1024 {
        text.push_str(&format!("    - name: id-{i:08}\n"));
        i += 1;
    }
    std::fs::write(&file, &text).unwrap();
    let errors = load_path(&file).unwrap_err();
    let message = errors.to_string();
    assert!(
        message.starts_with(&format!(
            "{}:1:1: error: the file is {} bytes; a manifest may be at most",
            file.display(),
            text.len()
        )),
        "{message}"
    );
}

/// Nesting deeper than the parser's budget is refused with a position, not a stack overflow.
#[test]
fn nesting_past_the_budget_is_refused_with_a_position() {
    let depth = 100_000;
    let text = format!(
        "version: 1\nresources: {}{}\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let errors = azrecon::manifest::load_str("deep.yaml", &text).unwrap_err();
    assert!(errors.to_string().starts_with("deep.yaml:2:"), "{errors}");
}
