//! Reading manifest files: YAML with positions, strict about types, unknown fields and duplicates.

use super::{Manifest, ManifestError, ManifestErrors, ManifestFile, Pos};
use std::path::{Path, PathBuf};

/// Manifests are hand-written configuration; anything this large is a mistake, not a manifest.
const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// Loads a manifest file, or every `*.yaml`/`*.yml` file below a folder, merged in path order.
pub fn load_path(path: &Path) -> Result<Manifest, ManifestErrors> {
    let files = manifest_files(path).map_err(|message| {
        ManifestErrors(vec![ManifestError {
            file: path.display().to_string(),
            pos: Pos::default(),
            message,
            hint: None,
        }])
    })?;
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let name = file.display().to_string();
        match std::fs::read(&file) {
            Ok(bytes) => sources.push((name, bytes)),
            Err(e) => {
                return Err(ManifestErrors(vec![ManifestError {
                    file: name,
                    pos: Pos::default(),
                    message: format!("cannot read the file: {e}"),
                    hint: None,
                }]));
            }
        }
    }
    load_sources(sources)
}

/// Loads one manifest given as text; `name` is what errors call the file.
pub fn load_str(name: &str, text: &str) -> Result<Manifest, ManifestErrors> {
    load_sources(vec![(name.to_string(), text.as_bytes().to_vec())])
}

fn manifest_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read the manifest: {e}"))?;
    if !meta.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        for entry in entries {
            let p = entry.map_err(|e| e.to_string())?.path();
            if p.is_dir() {
                pending.push(p);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                found.push(p);
            }
        }
    }
    found.sort();
    if found.is_empty() {
        return Err(format!("no *.yaml or *.yml files in {}", path.display()));
    }
    Ok(found)
}

fn load_sources(sources: Vec<(String, Vec<u8>)>) -> Result<Manifest, ManifestErrors> {
    let mut manifest = Manifest::default();
    let mut errors = Vec::new();
    for (index, (name, bytes)) in sources.into_iter().enumerate() {
        manifest.files.push(name.clone());
        match parse_file(&name, &bytes) {
            Ok(file) => merge(&mut manifest, index, file, &mut errors),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(manifest)
    } else {
        Err(ManifestErrors(errors))
    }
}

fn parse_file(name: &str, bytes: &[u8]) -> Result<ManifestFile, ManifestError> {
    let fail = |pos: Pos, message: String, hint: Option<&str>| ManifestError {
        file: name.to_string(),
        pos,
        message,
        hint: hint.map(str::to_string),
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(fail(
            Pos { line: 1, col: 1 },
            format!(
                "the file is {} bytes; a manifest may be at most {MAX_FILE_BYTES}",
                bytes.len()
            ),
            Some("split the manifest into a folder of smaller files"),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let pos = pos_of_offset(bytes, e.valid_up_to());
        fail(
            pos,
            "the file is not valid UTF-8".into(),
            Some("save the manifest as UTF-8"),
        )
    })?;
    let mut options = serde_saphyr::options::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    let file: ManifestFile = serde_saphyr::from_str_with_options(text, options).map_err(|e| {
        let pos = e
            .location()
            .map(|l| Pos {
                line: l.line() as u32,
                col: l.column() as u32,
            })
            .unwrap_or(Pos { line: 1, col: 1 });
        fail(pos, yaml_message(&e), yaml_hint(&e.to_string()))
    })?;
    if *file.version != 1 {
        return Err(fail(
            file.version.pos,
            format!("manifest version {} is not supported", *file.version),
            Some("this azrecon reads `version: 1`"),
        ));
    }
    Ok(file)
}

/// The parser's message without the position it already gave us separately.
fn yaml_message(e: &serde_saphyr::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first
        .split_once(" at line ")
        .map(|(m, _)| m)
        .unwrap_or(first)
        .trim_start_matches("error: ")
        // The parser's advice is addressed to programmers embedding it, not to manifest authors.
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or_default()
        .to_string()
}

fn yaml_hint(message: &str) -> Option<&'static str> {
    if message.contains("unknown field") {
        Some("check the spelling against `azrecon schema`; fields are camelCase")
    } else if message.contains("duplicate") {
        Some("each key may appear once in a mapping")
    } else if message.contains("invalid type") {
        Some("quote values that must be strings, for example version: \"3.2\"")
    } else {
        None
    }
}

fn pos_of_offset(bytes: &[u8], offset: usize) -> Pos {
    let before = &bytes[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() as u32 + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count() as u32
        + 1;
    Pos { line, col }
}

fn merge(
    manifest: &mut Manifest,
    index: usize,
    mut file: ManifestFile,
    errors: &mut Vec<ManifestError>,
) {
    for (alias, id) in std::mem::take(&mut file.subscriptions) {
        match manifest.subscriptions.get(&alias) {
            Some((_, existing)) if existing.value.eq_ignore_ascii_case(&id.value) => {}
            Some((other, existing)) => errors.push(ManifestError {
                file: manifest.files[index].clone(),
                pos: id.pos,
                message: format!(
                    "subscription alias `{alias}` is already {} in another file",
                    existing.value
                ),
                hint: Some(format!(
                    "it was set at {}:{}; give this subscription another alias",
                    manifest.files[*other], existing.pos
                )),
            }),
            None => {
                manifest.subscriptions.insert(alias, (index, id));
            }
        }
    }
    file.resources.settle(index, &file.defaults);
    manifest.resources.merge(file.resources);
}
