//! Properties of the pure core, over every resource of the example manifest with its kind's own
//! rules: a body never differs from itself; normalising a live body is idempotent; and for any
//! drift generated on a desired body, one apply (the merge that builds the PUT) converges, so the
//! next plan has nothing left to change. Case counts stay modest; a long run is
//! `PROPTEST_CASES=100000 cargo test --test properties`.

mod common;

use azrecon::diff::{diff, merge, strip};
use azrecon::kinds::Desired;
use azrecon::plan::{Live, plan_resource};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::OnceLock;

fn desired() -> &'static [Desired] {
    static DESIRED: OnceLock<Vec<Desired>> = OnceLock::new();
    DESIRED.get_or_init(common::example_manifest)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    }
}

/// Small JSON values: scalars, and arrays and objects of them a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-zA-Z0-9 ./-]{0,12}".prop_map(Value::String),
        prop_oneof![Just("Enabled"), Just("enabled"), Just("203.0.113.10")].prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}|name|properties", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// One change another writer (or ARM) might make somewhere in a body.
#[derive(Clone, Debug)]
enum Drift {
    /// Replace the value at the node.
    Set(Value),
    /// Remove the node from its object or array.
    Remove,
    /// Add a field to an object node (or an element to an array node).
    Add(String, Value),
    /// Reverse an array node.
    Reverse,
}

fn drift() -> impl Strategy<Value = (usize, Drift)> {
    let change = prop_oneof![
        json_value().prop_map(Drift::Set),
        Just(Drift::Remove),
        ("[a-z]{1,8}", json_value()).prop_map(|(k, v)| Drift::Add(k, v)),
        Just(Drift::Reverse),
    ];
    (any::<usize>(), change)
}

/// The paths of every node below the root, depth first.
fn nodes(value: &Value, path: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => Vec::new(),
    };
    for (key, child) in children {
        path.push(key);
        out.push(path.clone());
        nodes(child, path, out);
        path.pop();
    }
}

fn apply_drift(body: &mut Value, (selector, drift): &(usize, Drift)) {
    let mut all = Vec::new();
    nodes(body, &mut Vec::new(), &mut all);
    if all.is_empty() {
        return;
    }
    let path = &all[selector % all.len()];
    let (last, parent_path) = path.split_last().unwrap();
    let pointer = |p: &[String]| {
        p.iter()
            .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
            .collect::<String>()
    };
    let Some(parent) = body.pointer_mut(&pointer(parent_path)) else {
        return;
    };
    match drift {
        Drift::Set(v) => match parent {
            Value::Object(map) => {
                map.insert(last.clone(), v.clone());
            }
            Value::Array(items) => items[last.parse::<usize>().unwrap()] = v.clone(),
            _ => {}
        },
        Drift::Remove => match parent {
            Value::Object(map) => {
                map.remove(last);
            }
            Value::Array(items) => {
                items.remove(last.parse::<usize>().unwrap());
            }
            _ => {}
        },
        Drift::Add(key, v) => match parent.pointer_mut(&pointer(std::slice::from_ref(last))) {
            Some(Value::Object(map)) => {
                map.insert(key.clone(), v.clone());
            }
            Some(Value::Array(items)) => items.push(v.clone()),
            _ => {}
        },
        Drift::Reverse => {
            if let Some(Value::Array(items)) =
                parent.pointer_mut(&pointer(std::slice::from_ref(last)))
            {
                items.reverse();
            }
        }
    }
}

/// A live body as the planner sees it: read-only fields stripped, ARM's defaults normalised.
fn normalised(d: &Desired, live: &Value) -> Value {
    let mut body = live.clone();
    strip(&mut body, d.kind.read_only());
    d.kind.normalize(&mut body);
    body
}

/// Whether an array of named objects repeats a name (ignoring case). ARM never answers with
/// one, and the manifest refuses duplicate names; matching by name is undefined there.
fn repeats_a_name(v: &Value) -> bool {
    match v {
        Value::Array(items) => {
            let names: Vec<String> = items
                .iter()
                .filter_map(|i| i.get("name")?.as_str().map(str::to_ascii_lowercase))
                .collect();
            let mut unique = names.clone();
            unique.sort();
            unique.dedup();
            unique.len() < names.len() || items.iter().any(repeats_a_name)
        }
        Value::Object(map) => map.values().any(repeats_a_name),
        _ => false,
    }
}

/// Found by the long run of the properties below: a live body of an unexpected shape made the
/// gateway's normaliser panic (indexing into an array as into an object).
#[test]
fn normalising_a_body_of_any_shape_never_panics() {
    let shapes = [
        json!([]),
        json!("text"),
        json!({ "properties": [] }),
        json!({ "properties": { "probes": [1, { "properties": [] }, { "properties": { "match": 5 } }] } }),
        json!({ "properties": { "httpListeners": [{ "properties": { "hostName": 1 } }], "sslCertificates": [[]] } }),
    ];
    for d in desired() {
        for shape in &shapes {
            let once = normalised(d, shape);
            assert_eq!(normalised(d, &once), once, "{}", d.address);
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_body_never_differs_from_itself(x in json_value(), exclusive in any::<bool>()) {
        prop_assume!(!repeats_a_name(&x));
        for d in desired() {
            prop_assert!(diff(&x, &x, d.kind.rules(), exclusive).is_empty());
        }
    }

    #[test]
    fn desired_bodies_never_differ_from_themselves(i in any::<usize>()) {
        let d = &desired()[i % desired().len()];
        prop_assert!(diff(&d.body, &d.body, d.kind.rules(), d.exclusive).is_empty());
    }

    #[test]
    fn normalising_twice_equals_normalising_once(
        i in any::<usize>(),
        drifts in prop::collection::vec(drift(), 0..4),
    ) {
        let d = &desired()[i % desired().len()];
        let mut live = d.body.clone();
        drifts.iter().for_each(|change| apply_drift(&mut live, change));
        let once = normalised(d, &live);
        prop_assert_eq!(normalised(d, &once), once);
    }

    #[test]
    fn one_apply_converges_and_the_next_plan_is_empty(
        i in any::<usize>(),
        drifts in prop::collection::vec(drift(), 1..4),
    ) {
        let d = &desired()[i % desired().len()];
        let mut live = d.body.clone();
        drifts.iter().for_each(|change| apply_drift(&mut live, change));
        let rules = d.kind.rules();
        let put = merge(&normalised(d, &live), &d.body, rules, d.exclusive);
        let left = diff(&d.body, &put, rules, d.exclusive);
        prop_assert!(left.is_empty(), "{}: {:#?}\nlive {:#}\nput {:#}", d.address, left, live, put);
        let next = plan_resource(d, Some(&Live { body: put, etag: None }));
        prop_assert!(next.changes.is_empty(), "{}: {:#?}", d.address, next.changes);
    }
}
