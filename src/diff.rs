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

/// One step of the path being visited. Names borrow from the bodies, so walking allocates
/// nothing until a difference is recorded.
#[derive(Clone, Copy, Debug)]
enum Seg<'a> {
    Key(&'a str),
    /// An array element named by its key value.
    Named(&'a str),
    /// An array element named by its position.
    Index(usize),
}

/// The path being visited: a stack the walkers push to and pop from.
#[derive(Debug, Default)]
struct Path<'a>(Vec<Seg<'a>>);

impl<'a> Path<'a> {
    /// Whether the path is exactly `pattern` (`a.b[].c`, `*` for any key), without allocating.
    fn matches(&self, pattern: &str) -> bool {
        let mut i = 0;
        for part in pattern.split('.') {
            let (key, elems) = match part.find("[]") {
                Some(at) => (&part[..at], (part.len() - at) / 2),
                None => (part, 0),
            };
            if !key.is_empty() {
                match self.0.get(i) {
                    Some(Seg::Key(k)) if key == "*" || key == *k => i += 1,
                    _ => return false,
                }
            }
            for _ in 0..elems {
                match self.0.get(i) {
                    Some(Seg::Named(_) | Seg::Index(_)) => i += 1,
                    _ => return false,
                }
            }
        }
        i == self.0.len()
    }

    fn any(&self, patterns: &[&str]) -> bool {
        patterns.iter().any(|p| self.matches(p))
    }

    fn render(&self) -> String {
        let mut out = String::new();
        for seg in &self.0 {
            let _ = match seg {
                Seg::Key(k) if out.is_empty() => write!(out, "{k}"),
                Seg::Key(k) => write!(out, ".{k}"),
                Seg::Named(n) => write!(out, "[{n}]"),
                Seg::Index(i) => write!(out, "[{i}]"),
            };
        }
        out
    }

    /// Runs `f` with `seg` pushed.
    fn with<T>(&mut self, seg: Seg<'a>, f: impl FnOnce(&mut Self) -> T) -> T {
        self.0.push(seg);
        let out = f(self);
        self.0.pop();
        out
    }
}

/// Compares the owned `desired` body with a `live` one. `exclusive` makes undeclared children of
/// the kind's collections drift.
pub fn diff(desired: &Value, live: &Value, rules: &Rules, exclusive: bool) -> Vec<FieldChange> {
    let mut out = Vec::new();
    let mut differ = Differ {
        rules,
        exclusive,
        out: &mut out,
    };
    differ.value(&mut Path::default(), desired, live, None);
    out
}

struct Differ<'r> {
    rules: &'r Rules,
    exclusive: bool,
    out: &'r mut Vec<FieldChange>,
}

impl Differ<'_> {
    fn push(&mut self, path: &Path<'_>, op: Op, before: Option<&Value>, after: Option<&Value>) {
        self.out.push(FieldChange {
            path: path.render(),
            op,
            before: before.cloned(),
            after: after.cloned(),
        });
    }

    /// `skip` names a field already matched by an array key (ignoring case, as ARM names are).
    fn value<'a>(
        &mut self,
        path: &mut Path<'a>,
        desired: &'a Value,
        live: &'a Value,
        skip: Option<&str>,
    ) {
        match (desired, live) {
            (Value::Object(d), Value::Object(l)) => {
                for (k, dv) in d {
                    if skip == Some(k.as_str()) {
                        continue;
                    }
                    path.with(Seg::Key(k), |path| match get_key(l, k) {
                        Some(lv) => self.value(path, dv, lv, None),
                        None if dv.is_null() => {}
                        None => self.push(path, Op::Add, None, Some(dv)),
                    });
                }
            }
            (Value::Array(d), Value::Array(l)) => self.array(path, desired, d, live, l),
            (d, l) if scalar_eq(d, l, path, self.rules) => {}
            (d, Value::Null) => self.push(path, Op::Add, None, Some(d)),
            (d, l) => self.push(path, Op::Change, Some(l), Some(d)),
        }
    }

    fn array<'a>(
        &mut self,
        path: &mut Path<'a>,
        dv: &Value,
        desired: &'a [Value],
        lv: &Value,
        live: &'a [Value],
    ) {
        if let Some(key) = array_key(path, self.rules, desired, live) {
            let index = KeyIndex::new(live, key);
            for (i, d) in desired.iter().enumerate() {
                let seg = element(d, key, i);
                path.with(seg, |path| match index.find(key_of(d, key)) {
                    Some(l) => self.value(path, d, l, Some(key)),
                    None => self.push(path, Op::Add, None, Some(d)),
                });
            }
            if self.exclusive && path.any(self.rules.collections) {
                let declared = KeyIndex::new(desired, key);
                for (i, l) in live.iter().enumerate() {
                    if declared.find(key_of(l, key)).is_none() {
                        path.with(element(l, key, i), |path| {
                            self.push(path, Op::Remove, Some(l), None)
                        });
                    }
                }
            }
        } else if path.any(self.rules.unordered) {
            let same = desired.len() == live.len()
                && path.with(Seg::Index(0), |path| {
                    desired
                        .iter()
                        .all(|d| live.iter().any(|l| scalar_eq(d, l, path, self.rules)))
                });
            if !same {
                self.push(path, Op::Change, Some(lv), Some(dv));
            }
        } else if desired.len() != live.len() {
            self.push(path, Op::Change, Some(lv), Some(dv));
        } else {
            for (i, (d, l)) in desired.iter().zip(live).enumerate() {
                path.with(Seg::Index(i), |path| self.value(path, d, l, None));
            }
        }
    }
}

/// The children of a keyed array by their key, ignoring case.
struct KeyIndex<'a>(std::collections::HashMap<String, &'a Value>);

impl<'a> KeyIndex<'a> {
    fn new(items: &'a [Value], key: &str) -> Self {
        KeyIndex(
            items
                .iter()
                .map(|v| (key_of(v, key).to_ascii_lowercase(), v))
                .collect(),
        )
    }
    fn find(&self, name: &str) -> Option<&'a Value> {
        self.0.get(&name.to_ascii_lowercase()).copied()
    }
}

fn element<'a>(v: &'a Value, key: &str, index: usize) -> Seg<'a> {
    match v.get(key) {
        Some(Value::String(s)) => Seg::Named(s),
        _ => Seg::Index(index),
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
    path: &Path<'_>,
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

fn key_of<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn is_arm_id(s: &str) -> bool {
    s.len() > 15 && s.is_char_boundary(15) && s[..15].eq_ignore_ascii_case("/subscriptions/")
}

fn scalar_eq(d: &Value, l: &Value, path: &Path<'_>, rules: &Rules) -> bool {
    match (d, l) {
        (Value::String(a), Value::String(b)) => {
            a == b
                || (a.eq_ignore_ascii_case(b) && (is_arm_id(a) || path.any(rules.case_insensitive)))
        }
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => d == l,
    }
}

/// Removes the fields matched by `patterns` (what ARM fills or owns), in place. Each pattern is
/// followed down the value, so the cost is that of the fields it names, not of the whole body.
pub fn strip(value: &mut Value, patterns: &[&str]) {
    #[derive(Clone, Copy)]
    enum Step<'p> {
        Key(&'p str),
        AnyKey,
        Elems,
    }
    fn remove(value: &mut Value, steps: &[Step<'_>]) {
        match (steps, value) {
            ([Step::Key(k)], Value::Object(map)) => {
                map.remove(*k);
            }
            ([Step::AnyKey], Value::Object(map)) => map.clear(),
            ([Step::Key(k), rest @ ..], Value::Object(map)) => {
                if let Some(v) = map.get_mut(*k) {
                    remove(v, rest);
                }
            }
            ([Step::AnyKey, rest @ ..], Value::Object(map)) => {
                map.values_mut().for_each(|v| remove(v, rest));
            }
            ([Step::Elems, rest @ ..], Value::Array(items)) => {
                items.iter_mut().for_each(|v| remove(v, rest));
            }
            _ => {}
        }
    }
    for pattern in patterns {
        let mut steps = Vec::new();
        for part in pattern.split('.') {
            let (key, elems) = match part.find("[]") {
                Some(at) => (&part[..at], (part.len() - at) / 2),
                None => (part, 0),
            };
            match key {
                "" => {}
                "*" => steps.push(Step::AnyKey),
                k => steps.push(Step::Key(k)),
            }
            steps.extend(std::iter::repeat_n(Step::Elems, elems));
        }
        remove(value, &steps);
    }
}

/// The body to PUT: the live body (read-only fields already stripped) with the desired parts laid
/// over it, so settings the manifest does not mention are kept. Under exclusive ownership a live
/// child of a collection that the manifest does not declare is left out.
pub fn merge(live: &Value, desired: &Value, rules: &Rules, exclusive: bool) -> Value {
    merge_at(&mut Path::default(), live, desired, rules, exclusive)
}

fn merge_at<'a>(
    path: &mut Path<'a>,
    live: &'a Value,
    desired: &'a Value,
    rules: &Rules,
    exclusive: bool,
) -> Value {
    match (live, desired) {
        (Value::Object(l), Value::Object(d)) => {
            // Live keys keep their order; a key both have takes the desired spelling.
            let mut out = Map::with_capacity(l.len() + d.len());
            for (lk, lv) in l {
                match d
                    .get_key_value(lk)
                    .or_else(|| d.iter().find(|(dk, _)| dk.eq_ignore_ascii_case(lk)))
                {
                    Some((dk, dv)) => {
                        let merged = path.with(Seg::Key(dk), |path| {
                            merge_at(path, lv, dv, rules, exclusive)
                        });
                        out.insert(dk.clone(), merged);
                    }
                    None => {
                        out.insert(lk.clone(), lv.clone());
                    }
                }
            }
            for (dk, dv) in d {
                if get_key(l, dk).is_none() {
                    out.insert(dk.clone(), dv.clone());
                }
            }
            Value::Object(out)
        }
        (Value::Array(l), Value::Array(d)) => match array_key(path, rules, d, l) {
            Some(key) => {
                let drop_undeclared = exclusive && path.any(rules.collections);
                let declared = KeyIndex::new(d, key);
                let existing = KeyIndex::new(l, key);
                let mut out = Vec::with_capacity(l.len() + d.len());
                for (i, lv) in l.iter().enumerate() {
                    match declared.find(key_of(lv, key)) {
                        Some(dv) => out.push(path.with(element(lv, key, i), |path| {
                            merge_at(path, lv, dv, rules, exclusive)
                        })),
                        None if drop_undeclared => {}
                        None => out.push(lv.clone()),
                    }
                }
                out.extend(
                    d.iter()
                        .filter(|dv| existing.find(key_of(dv, key)).is_none())
                        .cloned(),
                );
                Value::Array(out)
            }
            None => desired.clone(),
        },
        (_, d) => d.clone(),
    }
}

#[cfg(test)]
mod tests;
