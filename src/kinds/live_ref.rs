//! Values of a desired body that only ARM knows, such as the principal ID ARM gives a managed
//! identity, which a role assignment or an access policy must name.
//!
//! Expansion cannot know them, so it writes a reference in their place ([`live_ref`]): a string
//! naming the resource and a JSON pointer into its body, readable as is in a plan
//! (`(known after apply: <id>#/properties/principalId)`). References are resolved against what
//! ARM returned: the planner resolves them from the live state it read, and the executor from a
//! fresh GET when the referenced resource was only created earlier in the same run.
//!
//! A resource that reads an identity's principal grants that identity something; resources that
//! use the identity come after every grant to it ([`grants_before_use`]), so that a gateway is
//! written only once its identity may read its certificate.

use super::Desired;
use serde_json::Value;
use std::collections::HashMap;

const OPEN: &str = "(known after apply: ";
const CLOSE: &str = ")";

/// A reference to the value at `pointer` (RFC 6901) in the body of the resource `id`.
pub fn live_ref(id: &str, pointer: &str) -> Value {
    Value::String(format!("{OPEN}{id}#{pointer}{CLOSE}"))
}

/// The (resource ID, pointer) a value refers to, when it is a reference.
pub fn parse(value: &Value) -> Option<(&str, &str)> {
    value
        .as_str()?
        .strip_prefix(OPEN)?
        .strip_suffix(CLOSE)?
        .rsplit_once('#')
}

/// Whether `value` is a reference into the resource `id`.
pub fn refers_to(value: &Value, id: &str) -> bool {
    parse(value).is_some_and(|(r, _)| r.eq_ignore_ascii_case(id))
}

/// Every resource ID the body refers to, once each, in order of appearance.
pub fn referenced_ids(body: &Value) -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => map.values().for_each(|v| walk(v, out)),
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            other => {
                if let Some((id, _)) = parse(other)
                    && !out.iter().any(|o| o.eq_ignore_ascii_case(id))
                {
                    out.push(id.to_owned());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(body, &mut out);
    out
}

/// Replaces every reference whose resource `live` knows (by ID, any casing) with the value found
/// there. References to resources it does not know, or to values they lack, stay as they are.
pub fn resolve(body: &mut Value, live: &dyn Fn(&str) -> Option<Value>) {
    match body {
        Value::Object(map) => map.values_mut().for_each(|v| resolve(v, live)),
        Value::Array(items) => items.iter_mut().for_each(|v| resolve(v, live)),
        other => {
            let found = parse(other).and_then(|(id, pointer)| {
                live(id)?.pointer(pointer).filter(|v| !v.is_null()).cloned()
            });
            if let Some(found) = found {
                *other = found;
            }
        }
    }
}

/// Orders every grant to an identity (a resource whose body refers to the identity) before every
/// other resource that depends on that identity.
pub(super) fn grants_before_use(desired: &mut [Desired]) {
    let mut grants: HashMap<String, Vec<String>> = HashMap::new();
    for d in desired.iter() {
        for identity in referenced_ids(&d.body) {
            grants
                .entry(identity.to_ascii_lowercase())
                .or_default()
                .push(d.id.clone());
        }
    }
    for d in desired.iter_mut() {
        let refs: Vec<String> = referenced_ids(&d.body)
            .iter()
            .map(|r| r.to_ascii_lowercase())
            .collect();
        let mut after = Vec::new();
        for dep in &d.depends_on {
            let dep = dep.to_ascii_lowercase();
            if refs.contains(&dep) {
                continue; // a grant itself
            }
            for grant in grants.get(&dep).into_iter().flatten() {
                let mut known = d.depends_on.iter().chain(&after);
                if !grant.eq_ignore_ascii_case(&d.id)
                    && !known.any(|k| k.eq_ignore_ascii_case(grant))
                {
                    after.push(grant.clone());
                }
            }
        }
        d.depends_on.extend(after);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ID: &str = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-agw";

    #[test]
    fn references_round_trip_and_resolve_from_live_bodies() {
        let mut body = json!({
            "properties": {
                "principalId": live_ref(ID, "/properties/principalId"),
                "other": "plain",
                "list": [live_ref("/subscriptions/s/x", "/properties/principalId")],
            }
        });
        assert_eq!(
            parse(&body["properties"]["principalId"]),
            Some((ID, "/properties/principalId"))
        );
        assert!(refers_to(
            &body["properties"]["principalId"],
            &ID.to_uppercase()
        ));
        assert_eq!(
            referenced_ids(&body),
            vec![ID.to_owned(), "/subscriptions/s/x".to_owned()]
        );
        let live = json!({ "properties": { "principalId": "p-1" } });
        resolve(&mut body, &|id: &str| {
            id.eq_ignore_ascii_case(ID).then(|| live.clone())
        });
        assert_eq!(body["properties"]["principalId"], "p-1");
        assert_eq!(body["properties"]["other"], "plain");
        assert!(
            parse(&body["properties"]["list"][0]).is_some(),
            "unknown resources stay referenced"
        );
    }
}

#[cfg(test)]
mod ordering_tests {
    use super::*;
    use crate::kinds::expand;
    use crate::manifest::load_str;

    #[test]
    fn users_of_an_identity_come_after_every_grant_to_it() {
        let manifest = load_str(
            "m.yaml",
            r#"
version: 1
subscriptions: { s: 6f1c2a3b-0000-4000-8000-00000000a001 }
defaults: { subscription: s, resourceGroup: rg, location: koreacentral }
resources:
  UserAssignedIdentity: [{ name: id-agw }]
  KeyVault: [{ name: kv-agw, spec: { tenantId: 7a2b3c4d-0000-4000-8000-00000000beef } }]
  RoleAssignment: [{ name: read, spec: { identity: id-agw, vault: kv-agw } }]
"#,
        )
        .unwrap();
        let mut desired = expand(&manifest).unwrap();
        let identity = desired[0].id.clone();
        let assignment = desired[2].id.clone();
        // A resource that uses the identity (a gateway, say) without reading its principal.
        let mut user = desired[0].clone();
        user.id = format!("{identity}-user");
        user.depends_on = vec![identity.clone()];
        desired.push(user);
        grants_before_use(&mut desired);
        assert_eq!(desired[3].depends_on, vec![identity.clone(), assignment]);
        assert_eq!(
            desired[2].depends_on.len(),
            2,
            "a grant does not wait for itself"
        );
    }
}
