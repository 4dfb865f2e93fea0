//! The normaliser and the diff on arbitrary JSON, with every kind's rules: normalising is
//! idempotent, a body never differs from itself, and the merge that builds a PUT converges.
#![no_main]

use azrecon::diff::{diff, merge, strip};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Whether an array of named objects repeats a name: ARM never answers with one and the
/// manifest refuses them, so matching by name is undefined there.
fn repeats_a_name(v: &Value) -> bool {
    match v {
        Value::Array(items) => {
            let mut names: Vec<String> = items
                .iter()
                .filter_map(|i| i.get("name")?.as_str().map(str::to_ascii_lowercase))
                .collect();
            let count = names.len();
            names.sort();
            names.dedup();
            names.len() < count || items.iter().any(repeats_a_name)
        }
        Value::Object(map) => map.values().any(repeats_a_name),
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((split, rest)) = data.split_first() else {
        return;
    };
    let (a, b) = rest.split_at((*split as usize).min(rest.len()));
    let (Ok(live), Ok(desired)) = (
        serde_json::from_slice::<Value>(a),
        serde_json::from_slice::<Value>(b),
    ) else {
        return;
    };
    if repeats_a_name(&live) || repeats_a_name(&desired) {
        return;
    }
    for kind in azrecon::kinds::ALL {
        let normalised = |v: &Value| {
            let mut v = v.clone();
            strip(&mut v, kind.read_only());
            kind.normalize(&mut v);
            v
        };
        let once = normalised(&live);
        assert_eq!(normalised(&once), once, "{}", kind.name());
        for exclusive in [false, true] {
            assert!(diff(&once, &once, kind.rules(), exclusive).is_empty());
            let put = merge(&once, &desired, kind.rules(), exclusive);
            let left = diff(&desired, &put, kind.rules(), exclusive);
            assert!(left.is_empty(), "{}: {left:?}", kind.name());
        }
    }
});
