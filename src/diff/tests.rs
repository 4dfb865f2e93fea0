use super::*;
use serde_json::json;

static NONE: Rules = Rules {
    keyed: &[],
    unordered: &[],
    case_insensitive: &[],
    collections: &[],
};

static WAFISH: Rules = Rules {
    keyed: &[("sets", "type")],
    unordered: &["rules[].values"],
    case_insensitive: &["rules[].action"],
    collections: &["rules", "sets"],
};

/// One row: desired, live, rules, exclusive, and the expected changes as `op path` strings.
fn check(desired: Value, live: Value, rules: &Rules, exclusive: bool, expected: &[&str]) {
    let got: Vec<String> = diff(&desired, &live, rules, exclusive)
        .iter()
        .map(|c| format!("{:?} {}", c.op, c.path).to_lowercase())
        .collect();
    assert_eq!(got, expected, "desired {desired} live {live}");
}

#[test]
fn subset_comparison_ignores_what_arm_adds() {
    check(
        json!({"a": 1}),
        json!({"a": 1, "etag": "x", "b": {"c": 2}}),
        &NONE,
        true,
        &[],
    );
    check(
        json!({"a": {"b": 1}}),
        json!({"a": {"b": 1, "c": 3}}),
        &NONE,
        true,
        &[],
    );
}

#[test]
fn scalars_numbers_and_missing_fields() {
    check(json!({"a": 1}), json!({"a": 2}), &NONE, true, &["change a"]);
    check(json!({"a": 1}), json!({"a": 1.0}), &NONE, true, &[]);
    check(json!({"a": 1}), json!({}), &NONE, true, &["add a"]);
    check(json!({"a": 1}), json!({"a": null}), &NONE, true, &["add a"]);
    check(json!({"a": null}), json!({}), &NONE, true, &[]);
    check(
        json!({"a": true}),
        json!({"a": "true"}),
        &NONE,
        true,
        &["change a"],
    );
}

#[test]
fn arm_ids_compare_ignoring_case_and_other_strings_do_not() {
    let id = "/subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/V";
    check(
        json!({"id": id}),
        json!({"id": id.to_lowercase()}),
        &NONE,
        true,
        &[],
    );
    check(
        json!({"host": "Api.Example.com"}),
        json!({"host": "api.example.com"}),
        &NONE,
        true,
        &["change host"],
    );
}

#[test]
fn declared_enums_compare_ignoring_case() {
    check(
        json!({"rules": [{"name": "r", "action": "Block"}]}),
        json!({"rules": [{"name": "r", "action": "block"}]}),
        &WAFISH,
        true,
        &[],
    );
}

#[test]
fn named_arrays_match_by_name_not_position() {
    let desired = json!({"rules": [{"name": "a", "p": 1}, {"name": "b", "p": 2}]});
    check(
        desired.clone(),
        json!({"rules": [{"name": "B", "p": 2}, {"name": "a", "p": 1}]}),
        &WAFISH,
        true,
        &[],
    );
    check(
        desired,
        json!({"rules": [{"name": "b", "p": 3}, {"name": "a", "p": 1}]}),
        &WAFISH,
        true,
        &["change rules[b].p"],
    );
}

#[test]
fn undeclared_children_are_drift_only_under_exclusive_ownership() {
    let desired = json!({"rules": [{"name": "a"}]});
    let live = json!({"rules": [{"name": "a"}, {"name": "portal"}]});
    check(
        desired.clone(),
        live.clone(),
        &WAFISH,
        true,
        &["remove rules[portal]"],
    );
    check(desired, live, &WAFISH, false, &[]);
    check(
        json!({"other": [{"name": "a"}]}),
        json!({"other": [{"name": "a"}, {"name": "x"}]}),
        &WAFISH,
        true,
        &[],
    );
}

#[test]
fn missing_children_are_added() {
    check(
        json!({"rules": [{"name": "a"}]}),
        json!({"rules": []}),
        &WAFISH,
        true,
        &["add rules[a]"],
    );
}

#[test]
fn arrays_keyed_by_another_field() {
    check(
        json!({"sets": [{"type": "OWASP", "v": "3.2"}]}),
        json!({"sets": [{"type": "Microsoft_BotManagerRuleSet", "v": "1.0"}, {"type": "owasp", "v": "3.1"}]}),
        &WAFISH,
        true,
        &[
            "change sets[owasp].v",
            "remove sets[microsoft_botmanagerruleset]",
        ],
    );
}

#[test]
fn unordered_lists_compare_as_sets() {
    let desired = json!({"rules": [{"name": "r", "values": ["1.1.1.1", "2.2.2.0/24"]}]});
    check(
        desired.clone(),
        json!({"rules": [{"name": "r", "values": ["2.2.2.0/24", "1.1.1.1"]}]}),
        &WAFISH,
        true,
        &[],
    );
    check(
        desired,
        json!({"rules": [{"name": "r", "values": ["1.1.1.1", "9.9.9.9"]}]}),
        &WAFISH,
        true,
        &["change rules[r].values"],
    );
}

#[test]
fn ordered_lists_compare_by_position() {
    check(
        json!({"l": [1, 2]}),
        json!({"l": [2, 1]}),
        &NONE,
        true,
        &["change l[0]", "change l[1]"],
    );
    check(
        json!({"l": [1, 2]}),
        json!({"l": [1]}),
        &NONE,
        true,
        &["change l"],
    );
}

#[test]
fn strip_removes_read_only_paths_at_any_depth() {
    let mut v = json!({"etag": "x", "properties": {"provisioningState": "Succeeded", "rules": [{"name": "a", "etag": "y"}], "keep": 1}});
    strip(
        &mut v,
        &[
            "etag",
            "properties.provisioningState",
            "properties.rules[].etag",
        ],
    );
    assert_eq!(
        v,
        json!({"properties": {"rules": [{"name": "a"}], "keep": 1}})
    );
}

#[test]
fn merge_keeps_unmentioned_settings_and_foreign_children_when_shared() {
    let live = json!({"location": "x", "tags": {"t": 1}, "rules": [{"name": "portal", "p": 9}, {"name": "a", "p": 1, "extra": true}]});
    let desired = json!({"rules": [{"name": "a", "p": 2}, {"name": "b", "p": 3}]});
    assert_eq!(
        merge(&live, &desired, &WAFISH, false),
        json!({"location": "x", "tags": {"t": 1}, "rules": [{"name": "portal", "p": 9}, {"name": "a", "p": 2, "extra": true}, {"name": "b", "p": 3}]})
    );
    assert_eq!(
        merge(&live, &desired, &WAFISH, true),
        json!({"location": "x", "tags": {"t": 1}, "rules": [{"name": "a", "p": 2, "extra": true}, {"name": "b", "p": 3}]})
    );
}

#[test]
fn merged_body_has_no_drift_left() {
    let live = json!({"rules": [{"name": "a", "p": 1, "values": ["x"]}], "other": 5});
    let desired = json!({"rules": [{"name": "a", "p": 2, "values": ["y", "x"]}]});
    let merged = merge(&live, &desired, &WAFISH, true);
    assert!(diff(&desired, &merged, &WAFISH, true).is_empty());
}
