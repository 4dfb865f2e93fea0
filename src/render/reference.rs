//! The manifest reference in Markdown, generated from the manifest's JSON Schema so that it
//! cannot say anything the loader does not enforce: the top-level fields, the fields every entry
//! has, one section per kind with its `spec`, then every type those refer to. Pure.

use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::fmt::Write as _;

/// Renders `docs/manifest-reference.md` from the schema `azrecon schema` prints.
pub fn manifest_reference(schema: &Value) -> String {
    let defs = schema["$defs"].as_object().cloned().unwrap_or_default();
    let mut out = String::from(
        "# Manifest reference\n\n\
         Generated from the manifest's JSON Schema by `azrecon schema --markdown`; do not edit by\n\
         hand. `azrecon schema` prints the schema itself, for editors.\n\n",
    );
    let mut queue: VecDeque<String> = VecDeque::new();
    let mut shown: Vec<String> = vec!["Resources".into()];

    out.push_str("## The file\n\n");
    fields(&mut out, schema, &mut queue);

    let resources = &defs["Resources"];
    let kinds: Vec<(&String, &Value)> = resources["properties"]
        .as_object()
        .map(|m| m.iter().collect())
        .unwrap_or_default();
    // Every kind's entry has the same fields but its `spec`: show them once.
    if let Some((_, first)) = kinds.first()
        && let Some(entry) = ref_name(&first["items"])
    {
        out.push_str("## Entries\n\nEvery entry under `resources.<Kind>` has these fields; `spec` is the kind's own (see [Kinds](#kinds)).\n\n");
        let mut entry = defs[entry].clone();
        entry["properties"]["spec"] =
            serde_json::json!({"type": "object", "description": "The kind's own fields."});
        fields(&mut out, &entry, &mut queue);
    }
    out.push_str("## Kinds\n\n");
    for (kind, list) in &kinds {
        let Some(entry) = ref_name(&list["items"]) else {
            continue;
        };
        shown.push(entry.to_owned());
        let spec = &defs[entry]["properties"]["spec"];
        let _ = writeln!(out, "### {kind}\n");
        match ref_name(spec) {
            Some(spec_name) => {
                shown.push(spec_name.to_owned());
                let spec_schema = &defs[spec_name];
                if let Some(text) = spec_schema["description"].as_str() {
                    let _ = writeln!(out, "{}\n", text.trim());
                }
                if spec_schema["properties"]
                    .as_object()
                    .is_some_and(|p| !p.is_empty())
                {
                    let _ = writeln!(out, "`spec`:\n");
                    fields(&mut out, spec_schema, &mut queue);
                } else {
                    out.push_str("No `spec` fields.\n\n");
                }
            }
            None => out.push_str("No `spec` fields.\n\n"),
        }
    }
    out.push_str("## Types\n\n");
    while let Some(name) = queue.pop_front() {
        if shown.contains(&name) {
            continue;
        }
        shown.push(name.clone());
        let def = &defs[&name];
        let _ = writeln!(out, "### {name}\n");
        if let Some(text) = def["description"].as_str() {
            let _ = writeln!(out, "{}\n", text.trim());
        }
        if def["properties"].is_object() {
            fields(&mut out, def, &mut queue);
        } else if let Some(values) = enum_values(def) {
            out.push_str("One of:\n\n");
            for (value, text) in values {
                match text {
                    Some(text) => {
                        let _ = writeln!(out, "- `{value}`: {}", one_line(&text));
                    }
                    None => {
                        let _ = writeln!(out, "- `{value}`");
                    }
                }
            }
            out.push('\n');
        } else {
            let _ = writeln!(out, "{}\n", type_of(def, &mut queue));
        }
    }
    out.trim_end().to_owned() + "\n"
}

/// A table of an object schema's properties.
fn fields(out: &mut String, schema: &Value, queue: &mut VecDeque<String>) {
    let empty = Map::new();
    let props = schema["properties"].as_object().unwrap_or(&empty);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    out.push_str("| field | type | required | description |\n|---|---|---|---|\n");
    for (name, prop) in props {
        let mut text = prop["description"]
            .as_str()
            .map(one_line)
            .unwrap_or_default();
        if let Some(default) = prop.get("default") {
            let _ = write!(
                text,
                "{}Default: `{default}`.",
                if text.is_empty() { "" } else { " " }
            );
        }
        let _ = writeln!(
            out,
            "| `{name}` | {} | {} | {} |",
            type_of(prop, queue).replace('|', "\\|"),
            if required.contains(&name.as_str()) {
                "yes"
            } else {
                ""
            },
            text.replace('|', "\\|")
        );
    }
    out.push('\n');
}

/// The type a schema refers to: directly, or as the one non-null option of an optional value.
fn ref_name(schema: &Value) -> Option<&str> {
    if let Some(name) = schema["$ref"].as_str() {
        return name.strip_prefix("#/$defs/");
    }
    let options = schema["anyOf"].as_array().or(schema["oneOf"].as_array())?;
    match options
        .iter()
        .filter(|o| o["type"] != "null")
        .collect::<Vec<_>>()[..]
    {
        [only] => ref_name(only),
        _ => None,
    }
}

/// A short type description; referred types are queued for their own section.
fn type_of(schema: &Value, queue: &mut VecDeque<String>) -> String {
    if let Some(name) = schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix("#/$defs/"))
    {
        queue.push_back(name.to_owned());
        return format!("[{name}](#{})", name.to_ascii_lowercase());
    }
    if let Some(values) = enum_values(schema) {
        return values
            .iter()
            .map(|(v, _)| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(" or ");
    }
    for combinator in ["anyOf", "oneOf"] {
        if let Some(options) = schema[combinator].as_array() {
            let types: Vec<String> = options
                .iter()
                .filter(|o| o["type"] != "null")
                .map(|o| type_of(o, queue))
                .collect();
            return types.join(" or ");
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    let described: Vec<String> = types
        .iter()
        .map(|t| match *t {
            "array" => format!("list of {}", type_of(&schema["items"], queue)),
            "object" if schema["additionalProperties"].is_object() => format!(
                "map of string to {}",
                type_of(&schema["additionalProperties"], queue)
            ),
            other => other.to_owned(),
        })
        .collect();
    let mut text = if described.is_empty() {
        "any".to_owned()
    } else {
        described.join(" or ")
    };
    for (key, label) in [("minimum", "≥"), ("maximum", "≤")] {
        if let Some(bound) = schema.get(key) {
            let _ = write!(text, " {label} {bound}");
        }
    }
    text
}

/// The values of an enum schema, with their descriptions when given.
fn enum_values(schema: &Value) -> Option<Vec<(String, Option<String>)>> {
    let show = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    if let Some(values) = schema["enum"].as_array() {
        return Some(values.iter().map(|v| (show(v), None)).collect());
    }
    let options = schema["oneOf"].as_array()?;
    options
        .iter()
        .map(|o| {
            let value = o
                .get("const")
                .or_else(|| o["enum"].as_array().and_then(|e| e.first()))?;
            Some((show(value), o["description"].as_str().map(str::to_owned)))
        })
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
