//! Semantic JSON diff and merge of ARM bodies.
//!
//! Pure functions over `serde_json::Value`. The desired body holds only what azrecon owns, so the
//! diff is a subset comparison: a field ARM added that the manifest does not mention is not
//! drift. Arrays of objects are matched by a key (`name` unless the kind says otherwise), never
//! by position; unordered lists compare as sets; IDs and declared enums compare ignoring case.

use serde::Serialize;
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// How a kind's body is compared. Patterns are dotted paths from the body's root; `[]` stands for
/// any element of an array and `*` for any key, for example `properties.customRules[].priority`.
#[derive(Debug, Default)]
pub struct Rules {
    /// Arrays of objects matched by a field other than `name`: (array pattern, key field).
    pub keyed: &'static [(&'static str, &'static str)],
    /// Arrays whose order carries no meaning: compared as sets.
    pub unordered: &'static [&'static str],
    /// Strings compared ignoring case (enums ARM may re-case). ARM IDs always are.
    pub case_insensitive: &'static [&'static str],
    /// Keyed collections of children: under exclusive ownership a live child that the manifest
    /// does not declare is drift, and removing it is destructive.
    pub collections: &'static [&'static str],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Add,
    Remove,
    Change,
}

/// One field that differs: where, and from what to what.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FieldChange {
    pub path: String,
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Seg {
    Key(String),
    /// An array element, named by its key value or its index.
    Elem(String),
}

/// The path being visited, kept as segments so patterns can match it.
#[derive(Clone, Debug, Default)]
struct Path(Vec<Seg>);

impl Path {
    fn key(&self, k: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    fn elem(&self, e: &str) -> Path {
        let mut p = self.clone();
        p.0.push(Seg::Elem(e.to_string()));
        p
    }
    fn matches(&self, pattern: &str) -> bool {
        let mut want = Vec::new();
        for part in pattern.split('.') {
            let (key, elems) = match part.find("[]") {
                Some(i) => (&part[..i], part[i..].len() / 2),
                None => (part, 0),
            };
            if !key.is_empty() {
                want.push(Some(key));
            }
            want.extend(std::iter::repeat_n(None, elems));
        }
        want.len() == self.0.len()
            && want.iter().zip(&self.0).all(|(w, s)| match (w, s) {
                (Some("*"), Seg::Key(_)) => true,
                (Some(w), Seg::Key(k)) => w == k,
                (None, Seg::Elem(_)) => true,
                _ => false,
            })
    }
    fn any(&self, patterns: &[&str]) -> bool {
        patterns.iter().any(|p| self.matches(p))
    }
    fn render(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) if out.is_empty() => out.push_str(k),
                Seg::Key(k) => {
                    let _ = write!(out, ".{k}");
                }
                Seg::Elem(e) => {
                    let _ = write!(out, "[{e}]");
                }
            }
        }
        out
    }
}

/// Compares the owned `desired` body with a `live` one. `exclusive` makes undeclared children of
/// the kind's collections drift.
pub fn diff(desired: &Value, live: &Value, rules: &Rules, exclusive: bool) -> Vec<FieldChange> {
    let mut out = Vec::new();
    Differ {
        rules,
        exclusive,
        out: &mut out,
    }
    .value(&Path::default(), desired, live);
    out
}

struct Differ<'a> {
    rules: &'a Rules,
    exclusive: bool,
    out: &'a mut Vec<FieldChange>,
}

impl Differ<'_> {
    fn push(&mut self, path: &Path, op: Op, before: Option<&Value>, after: Option<&Value>) {
        self.out.push(FieldChange {
            path: path.render(),
            op,
            before: before.cloned(),
            after: after.cloned(),
        });
    }

    fn value(&mut self, path: &Path, desired: &Value, live: &Value) {
        match (desired, live) {
            (Value::Object(d), Value::Object(l)) => {
                for (k, dv) in d {
                    match get_key(l, k) {
                        Some(lv) => self.value(&path.key(k), dv, lv),
                        None if dv.is_null() => {}
                        None => self.push(&path.key(k), Op::Add, None, Some(dv)),
                    }
                }
            }
            (Value::Array(d), Value::Array(l)) => self.array(path, d, l),
            (d, l) if scalar_eq(d, l, path, self.rules) => {}
            (d, Value::Null) => self.push(path, Op::Add, None, Some(d)),
            (d, l) => self.push(path, Op::Change, Some(l), Some(d)),
        }
    }

    fn array(&mut self, path: &Path, desired: &[Value], live: &[Value]) {
        if let Some(key) = array_key(path, self.rules, desired, live) {
            for d in desired {
                let name = key_of(d, key);
                match live
                    .iter()
                    .find(|l| key_of(l, key).eq_ignore_ascii_case(&name))
                {
                    // The key already matched, ignoring case as ARM names do.
                    Some(l) => self.value(&path.elem(&name), &without(d, key), l),
                    None => self.push(&path.elem(&name), Op::Add, None, Some(d)),
                }
            }
            if self.exclusive && path.any(self.rules.collections) {
                for l in live {
                    let name = key_of(l, key);
                    if !desired
                        .iter()
                        .any(|d| key_of(d, key).eq_ignore_ascii_case(&name))
                    {
                        self.push(&path.elem(&name), Op::Remove, Some(l), None);
                    }
                }
            }
        } else if path.any(self.rules.unordered) {
            let same = desired.len() == live.len()
                && desired.iter().all(|d| {
                    live.iter()
                        .any(|l| scalar_eq(d, l, &path.elem("*"), self.rules))
                });
            if !same {
                self.push(
                    path,
                    Op::Change,
                    Some(&Value::Array(live.to_vec())),
                    Some(&Value::Array(desired.to_vec())),
                );
            }
        } else if desired.len() != live.len() {
            self.push(
                path,
                Op::Change,
                Some(&Value::Array(live.to_vec())),
                Some(&Value::Array(desired.to_vec())),
            );
        } else {
            for (i, (d, l)) in desired.iter().zip(live).enumerate() {
                self.value(&path.elem(&i.to_string()), d, l);
            }
        }
    }
}

/// ARM answers with the property names it was sent, but some services re-case them.
fn get_key<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn array_key<'r>(
    path: &Path,
    rules: &'r Rules,
    desired: &[Value],
    live: &[Value],
) -> Option<&'r str> {
    if let Some((_, key)) = rules.keyed.iter().find(|(p, _)| path.matches(p)) {
        return Some(key);
    }
    let named = |v: &Value| v.get("name").is_some_and(Value::is_string);
    let all_named =
        !(desired.is_empty() && live.is_empty()) && desired.iter().chain(live).all(named);
    all_named.then_some("name")
}

fn without(v: &Value, key: &str) -> Value {
    let mut v = v.clone();
    if let Value::Object(map) = &mut v {
        map.remove(key);
    }
    v
}

fn key_of(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn is_arm_id(s: &str) -> bool {
    s.len() > 15 && s[..15].eq_ignore_ascii_case("/subscriptions/")
}

fn scalar_eq(d: &Value, l: &Value, path: &Path, rules: &Rules) -> bool {
    match (d, l) {
        (Value::String(a), Value::String(b)) => {
            a == b
                || ((is_arm_id(a) || path.any(rules.case_insensitive)) && a.eq_ignore_ascii_case(b))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => d == l,
    }
}

/// Removes the fields matched by `patterns` (what ARM fills or owns), in place.
pub fn strip(value: &mut Value, patterns: &[&str]) {
    fn walk(path: &Path, value: &mut Value, patterns: &[&str]) {
        match value {
            Value::Object(map) => {
                map.retain(|k, _| !path.key(k).any(patterns));
                for (k, v) in map.iter_mut() {
                    walk(&path.key(k), v, patterns);
                }
            }
            Value::Array(items) => {
                for v in items.iter_mut() {
                    walk(&path.elem("*"), v, patterns);
                }
            }
            _ => {}
        }
    }
    walk(&Path::default(), value, patterns);
}

/// The body to PUT: the live body (read-only fields already stripped) with the desired parts laid
/// over it, so settings the manifest does not mention are kept. Under exclusive ownership a live
/// child of a collection that the manifest does not declare is left out.
pub fn merge(live: &Value, desired: &Value, rules: &Rules, exclusive: bool) -> Value {
    merge_at(&Path::default(), live, desired, rules, exclusive)
}

fn merge_at(path: &Path, live: &Value, desired: &Value, rules: &Rules, exclusive: bool) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            let mut out = l.clone();
            for (k, dv) in d {
                let existing = get_key(l, k).cloned();
                if let Some(live_key) = l.keys().find(|lk| lk.eq_ignore_ascii_case(k) && *lk != k) {
                    out.remove(&live_key.clone());
                }
                let merged = match existing {
                    Some(lv) => merge_at(&path.key(k), &lv, dv, rules, exclusive),
                    None => dv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(d)) => match array_key(path, rules, d, l) {
            Some(key) => {
                let drop_undeclared = exclusive && path.any(rules.collections);
                let mut out = Vec::new();
                for lv in l {
                    let name = key_of(lv, key);
                    match d
                        .iter()
                        .find(|dv| key_of(dv, key).eq_ignore_ascii_case(&name))
                    {
                        Some(dv) => out.push(merge_at(&path.elem(&name), lv, dv, rules, exclusive)),
                        None if drop_undeclared => {}
                        None => out.push(lv.clone()),
                    }
                }
                for dv in d {
                    let name = key_of(dv, key);
                    if !l
                        .iter()
                        .any(|lv| key_of(lv, key).eq_ignore_ascii_case(&name))
                    {
                        out.push(dv.clone());
                    }
                }
                Value::Array(out)
            }
            None => desired.clone(),
        },
        (_, d) => d.clone(),
    }
}

#[cfg(test)]
mod tests;
