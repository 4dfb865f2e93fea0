//! Parsing of ARM resource IDs into their parts: subscription, resource group, provider namespace
//! and the chain of (type, name) pairs, plus the lower-cased key the store is indexed by.

use std::fmt;

/// A resource ID below a resource group, e.g.
/// `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v/virtualNetworkPeerings/p`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ArmId {
    pub subscription: String,
    pub resource_group: String,
    pub namespace: String,
    /// (type segment, name) pairs from the top-level resource down to this one.
    pub segments: Vec<(String, String)>,
}

/// What an ARM path under `/subscriptions/...` addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArmPath {
    Resource(ArmId),
    /// A list of resources of one type: the parent (if any) and the type segment.
    Collection {
        parent: Option<ArmId>,
        scope: Scope,
        type_segment: String,
    },
    ResourceGroup {
        subscription: String,
        name: String,
    },
    Subscription {
        subscription: String,
    },
    /// `/subscriptions/{s}/providers/{ns}/locations/{loc}/operations|operationResults/{id}`.
    Operation {
        id: String,
        results: bool,
    },
}

/// Subscription, resource group and namespace of a collection without a parent resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scope {
    pub subscription: String,
    pub resource_group: String,
    pub namespace: String,
}

impl ArmId {
    /// Parses a full resource ID; `None` when it is not one (collections, groups, other paths).
    pub fn parse(id: &str) -> Option<ArmId> {
        match ArmPath::parse(id)? {
            ArmPath::Resource(id) => Some(id),
            _ => None,
        }
    }

    /// The store key: the ID lower-cased, since ARM IDs compare case-insensitively.
    pub fn key(&self) -> String {
        self.to_string().to_ascii_lowercase()
    }

    pub fn name(&self) -> &str {
        &self
            .segments
            .last()
            .expect("an ArmId has at least one segment")
            .1
    }

    /// `Microsoft.Network/virtualNetworks/virtualNetworkPeerings`, as spelt in the ID. An
    /// extension resource has its own provider's type:
    /// `.../vaults/kv/providers/Microsoft.Authorization/roleAssignments/g` is
    /// `Microsoft.Authorization/roleAssignments`.
    pub fn type_path(&self) -> String {
        let (mut out, types) = match self.extension_at() {
            Some(at) => (self.segments[at].1.clone(), &self.segments[at + 1..]),
            None => (self.namespace.clone(), &self.segments[..]),
        };
        for (t, _) in types {
            out.push('/');
            out.push_str(t);
        }
        out
    }

    /// Where an extension resource's own provider starts: the index of its `providers` segment.
    fn extension_at(&self) -> Option<usize> {
        self.segments
            .iter()
            .rposition(|(t, _)| t.eq_ignore_ascii_case("providers"))
    }

    /// The resource an extension resource (a role assignment, say) is attached to.
    pub fn extended(&self) -> Option<ArmId> {
        let at = self.extension_at()?;
        (at > 0).then(|| ArmId {
            segments: self.segments[..at].to_vec(),
            ..self.clone()
        })
    }

    /// The parent resource; for a top-level extension resource, the resource it extends.
    pub fn parent(&self) -> Option<ArmId> {
        if let Some(at) = self.extension_at()
            && at + 2 == self.segments.len()
        {
            return self.extended();
        }
        (self.segments.len() > 1).then(|| ArmId {
            segments: self.segments[..self.segments.len() - 1].to_vec(),
            ..self.clone()
        })
    }

    pub fn child(&self, type_segment: &str, name: &str) -> ArmId {
        let mut child = self.clone();
        child
            .segments
            .push((type_segment.to_owned(), name.to_owned()));
        child
    }

    /// Same resource, ignoring case.
    pub fn same_as(&self, other: &str) -> bool {
        self.to_string()
            .eq_ignore_ascii_case(other.trim_end_matches('/'))
    }
}

impl fmt::Display for ArmId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/subscriptions/{}/resourceGroups/{}/providers/{}",
            self.subscription, self.resource_group, self.namespace
        )?;
        for (t, n) in &self.segments {
            write!(f, "/{t}/{n}")?;
        }
        Ok(())
    }
}

impl ArmPath {
    /// Classifies a request path; `None` for anything outside the ARM namespace ARM would reject.
    pub fn parse(path: &str) -> Option<ArmPath> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let eq = |i: usize, word: &str| parts.get(i).is_some_and(|p| p.eq_ignore_ascii_case(word));
        if !eq(0, "subscriptions") || parts.len() < 2 {
            return None;
        }
        let subscription = parts[1].to_owned();
        if parts.len() == 2 {
            return Some(ArmPath::Subscription { subscription });
        }
        if eq(2, "providers") && eq(4, "locations") && parts.len() == 8 {
            let results = if eq(6, "operations") {
                false
            } else if eq(6, "operationResults") {
                true
            } else {
                return None;
            };
            return Some(ArmPath::Operation {
                id: parts[7].to_owned(),
                results,
            });
        }
        if !eq(2, "resourceGroups") || parts.len() < 4 {
            return None;
        }
        let resource_group = parts[3].to_owned();
        if parts.len() == 4 {
            return Some(ArmPath::ResourceGroup {
                subscription,
                name: resource_group,
            });
        }
        if !eq(4, "providers") || parts.len() < 7 {
            return None;
        }
        let namespace = parts[5].to_owned();
        let rest = &parts[6..];
        let segments: Vec<(String, String)> = rest
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (c[0].to_owned(), c[1].to_owned()))
            .collect();
        let scope = Scope {
            subscription,
            resource_group,
            namespace,
        };
        if rest.len().is_multiple_of(2) {
            return Some(ArmPath::Resource(ArmId {
                subscription: scope.subscription,
                resource_group: scope.resource_group,
                namespace: scope.namespace,
                segments,
            }));
        }
        let type_segment = rest[rest.len() - 1].to_owned();
        let parent = (!segments.is_empty()).then(|| ArmId {
            subscription: scope.subscription.clone(),
            resource_group: scope.resource_group.clone(),
            namespace: scope.namespace.clone(),
            segments,
        });
        Some(ArmPath::Collection {
            parent,
            scope,
            type_segment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEERING: &str = "/subscriptions/s1/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/v1/virtualNetworkPeerings/p1";

    #[test]
    fn parses_child_resource_ids() {
        let id = ArmId::parse(PEERING).unwrap();
        assert_eq!(id.name(), "p1");
        assert_eq!(
            id.type_path(),
            "Microsoft.Network/virtualNetworks/virtualNetworkPeerings"
        );
        assert_eq!(id.to_string(), PEERING);
        assert_eq!(id.key(), PEERING.to_ascii_lowercase());
        assert_eq!(id.parent().unwrap().name(), "v1");
        assert!(id.same_as(&PEERING.to_uppercase()));
    }

    #[test]
    fn classifies_collections_groups_and_operations() {
        let coll = ArmPath::parse(
            "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1/virtualNetworkPeerings",
        );
        assert!(matches!(
            coll,
            Some(ArmPath::Collection {
                parent: Some(_),
                ..
            })
        ));
        assert!(matches!(
            ArmPath::parse("/subscriptions/s1/resourceGroups/rg"),
            Some(ArmPath::ResourceGroup { .. })
        ));
        assert_eq!(
            ArmPath::parse(
                "/subscriptions/s1/providers/Microsoft.Network/locations/westeurope/operations/abc"
            ),
            Some(ArmPath::Operation {
                id: "abc".into(),
                results: false
            })
        );
        assert_eq!(ArmPath::parse("/other"), None);
    }

    #[test]
    fn extension_resources_have_their_own_type_and_extend_their_scope() {
        let vault = "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv";
        let on_vault = format!("{vault}/providers/Microsoft.Authorization/roleAssignments/g1");
        let id = ArmId::parse(&on_vault).unwrap();
        assert_eq!(id.type_path(), "Microsoft.Authorization/roleAssignments");
        assert_eq!(id.to_string(), on_vault);
        assert!(id.parent().unwrap().same_as(vault));
        let on_secret =
            format!("{vault}/secrets/cert/providers/Microsoft.Authorization/roleAssignments/g2");
        let id = ArmId::parse(&on_secret).unwrap();
        assert!(
            id.extended()
                .unwrap()
                .same_as(&format!("{vault}/secrets/cert"))
        );
        assert_eq!(id.name(), "g2");
    }
}
