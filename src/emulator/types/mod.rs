//! Per-type ARM behaviour: the small [`ResourceKind`] trait (which fields the server fills, which
//! it ignores, whether writes are long-running, effects on other resources) and the table that
//! maps a resource type to its kind, with a generic fallback for types it does not name.

mod application_gateway;
mod generic;
mod key_vault;
mod peering;
mod private_dns_zone;
mod private_dns_zone_group;
mod private_endpoint;
mod role_assignment;
mod user_assigned_identity;

pub(crate) use user_assigned_identity::TENANT_ID;
mod virtual_network;
mod virtual_network_link;
mod waf_policy;

pub(crate) use key_vault::vault_uri;

use serde_json::{Map, Value};

use super::arm_error::ArmError;
use super::arm_id::ArmId;
use super::directory::Directory;
use super::store::Store;

/// Which writes of a type the Azure REST API specs mark `x-ms-long-running-operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LongRunning {
    pub put: bool,
    pub delete: bool,
}

/// What a kind may look at while it prepares a PUT body.
pub(crate) struct PutContext<'a> {
    pub store: &'a Store,
    /// Which principals role assignments can name.
    pub directory: &'a Directory,
    pub id: &'a ArmId,
    pub existing: Option<&'a Value>,
    pub query: &'a [(String, String)],
    /// The etag the resource will carry; nested sub-resources share it, as in real ARM.
    pub etag: &'a str,
}

impl PutContext<'_> {
    /// A boolean query flag such as `syncRemoteAddressSpace=true`.
    pub fn flag(&self, name: &str) -> bool {
        self.query
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(name) && v.eq_ignore_ascii_case("true"))
    }
}

/// One ARM resource type's server-side behaviour. Every method but the first two has a no-op
/// default, so a kind states only what differs from a plain resource.
pub(crate) trait ResourceKind: Sync {
    /// The `type` value GET returns for a resource with this ID.
    fn type_name(&self, id: &ArmId) -> String;

    fn long_running(&self) -> LongRunning;

    /// For types where a PUT cancels the PUT still running on the same resource (application
    /// gateways): the name ARM gives such operations in the cancellation message, for example
    /// `PutApplicationGatewayOperation`. `None`: a new write lets the running one finish first.
    fn superseding_put_operation(&self) -> Option<&'static str> {
        None
    }

    /// A fresh etag in the type's format: weak (`W/"..."`) for most, a bare GUID for Private DNS.
    fn fresh_etag(&self) -> String {
        new_etag()
    }

    /// Whether the spec gives the type a read-only `properties.resourceGuid`.
    fn has_resource_guid(&self) -> bool {
        false
    }

    /// Validates the client's body, drops fields the server owns and fills server defaults.
    fn prepare(&self, _ctx: &PutContext<'_>, _body: &mut Value) -> Result<(), ArmError> {
        Ok(())
    }

    /// Effects of a stored PUT on other resources (peering states, for example).
    fn after_put(&self, _store: &mut Store, _id: &ArmId) {}

    /// Effects of a finished DELETE on other resources; `doc` is the deleted document.
    fn after_delete(&self, _store: &mut Store, _doc: &Value) {}

    /// Adds what GET shows but the store keeps elsewhere: back-references and nested children.
    fn compose(&self, _store: &Store, _id: &ArmId, _doc: &mut Value) {}

    /// Takes nested child documents out of an injected document so they are stored on their own
    /// (a virtual network's inline peerings, for example).
    fn split_children(&self, _doc: &mut Value) -> Vec<Value> {
        Vec::new()
    }
}

static VIRTUAL_NETWORK: virtual_network::VirtualNetwork = virtual_network::VirtualNetwork;
static PEERING: peering::VirtualNetworkPeering = peering::VirtualNetworkPeering;
static WAF_POLICY: waf_policy::WafPolicy = waf_policy::WafPolicy;
static APPLICATION_GATEWAY: application_gateway::ApplicationGateway =
    application_gateway::ApplicationGateway;
static PRIVATE_ENDPOINT: private_endpoint::PrivateEndpoint = private_endpoint::PrivateEndpoint;
static PRIVATE_DNS_ZONE_GROUP: private_dns_zone_group::PrivateDnsZoneGroup =
    private_dns_zone_group::PrivateDnsZoneGroup;
static PRIVATE_DNS_ZONE: private_dns_zone::PrivateDnsZone = private_dns_zone::PrivateDnsZone;
static VIRTUAL_NETWORK_LINK: virtual_network_link::VirtualNetworkLink =
    virtual_network_link::VirtualNetworkLink;
static KEY_VAULT: key_vault::KeyVault = key_vault::KeyVault;
static USER_ASSIGNED_IDENTITY: user_assigned_identity::UserAssignedIdentity =
    user_assigned_identity::UserAssignedIdentity;
static ROLE_ASSIGNMENT: role_assignment::RoleAssignment = role_assignment::RoleAssignment;

/// The kind for a resource ID: a dedicated module, an entry of the generic table, or the plain
/// synchronous fallback.
pub(crate) fn kind_for(id: &ArmId) -> &'static dyn ResourceKind {
    let type_path = id.type_path().to_ascii_lowercase();
    match type_path.as_str() {
        "microsoft.network/virtualnetworks" => &VIRTUAL_NETWORK,
        "microsoft.network/virtualnetworks/virtualnetworkpeerings" => &PEERING,
        "microsoft.network/applicationgatewaywebapplicationfirewallpolicies" => &WAF_POLICY,
        "microsoft.network/applicationgateways" => &APPLICATION_GATEWAY,
        "microsoft.network/privateendpoints" => &PRIVATE_ENDPOINT,
        "microsoft.network/privateendpoints/privatednszonegroups" => &PRIVATE_DNS_ZONE_GROUP,
        "microsoft.network/privatednszones" => &PRIVATE_DNS_ZONE,
        "microsoft.network/privatednszones/virtualnetworklinks" => &VIRTUAL_NETWORK_LINK,
        "microsoft.keyvault/vaults" => &KEY_VAULT,
        "microsoft.managedidentity/userassignedidentities" => &USER_ASSIGNED_IDENTITY,
        "microsoft.authorization/roleassignments" => &ROLE_ASSIGNMENT,
        other => generic::lookup(other),
    }
}

/// `properties` of a body, created empty when the client sent none.
pub(crate) fn properties_mut(body: &mut Value) -> &mut Map<String, Value> {
    let object = body
        .as_object_mut()
        .expect("PUT bodies are checked to be objects");
    let props = object
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()));
    if !props.is_object() {
        *props = Value::Object(Map::new());
    }
    props.as_object_mut().expect("just made an object")
}

/// Sets `key` to `value` unless the client already sent it.
pub(crate) fn default_to(map: &mut Map<String, Value>, key: &str, value: Value) {
    if !map.contains_key(key) {
        map.insert(key.to_owned(), value);
    }
}

/// The objects of an array property, skipping anything that is not an object.
pub(crate) fn objects_mut<'a>(
    map: &'a mut Map<String, Value>,
    key: &str,
) -> impl Iterator<Item = &'a mut Map<String, Value>> + 'a {
    map.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// `properties.<key>.id` of a document, for references such as `remoteVirtualNetwork`.
pub(crate) fn reference_id<'a>(doc: &'a Value, key: &str) -> Option<&'a str> {
    doc.get("properties")?.get(key)?.get("id")?.as_str()
}

/// A UUID that is always the same for `seed` (case-insensitive), for server-assigned IDs that
/// must not change between reads.
pub(crate) fn stable_uuid(seed: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        seed.to_ascii_lowercase().as_bytes(),
    )
    .to_string()
}

/// Drops the etag the common PUT handling gives every resource, for types whose specs have
/// none.
pub(crate) fn strip_etag(store: &mut Store, id: &ArmId) {
    if let Some(doc) = store.get_mut(id).and_then(Value::as_object_mut) {
        doc.remove("etag");
    }
}

/// Drops the etag and provisioning state the common PUT handling gives every resource, for
/// types whose specs have neither.
pub(crate) fn strip_etag_and_state(store: &mut Store, id: &ArmId) {
    strip_etag(store, id);
    if let Some(props) = store
        .get_mut(id)
        .and_then(|doc| doc.get_mut("properties"))
        .and_then(Value::as_object_mut)
    {
        props.remove("provisioningState");
    }
}

/// A fresh weak etag, as ARM writes them.
pub(crate) fn new_etag() -> String {
    format!("W/\"{}\"", uuid::Uuid::new_v4())
}

/// Applies `update` to a stored document and gives it a new etag if anything changed; nested
/// sub-resources that shared the old etag get the new one too.
pub(crate) fn update_stored(store: &mut Store, id: &ArmId, update: impl FnOnce(&mut Value)) {
    if let Some(doc) = store.get_mut(id) {
        let before = doc.clone();
        update(doc);
        // A type without etags (a key vault, say) does not gain one.
        if *doc != before
            && let Some(old) = before.get("etag").filter(|e| e.is_string())
        {
            let new = Value::String(kind_for(id).fresh_etag());
            replace_etag(doc, old, &new);
            doc["etag"] = new;
        }
    }
}

fn replace_etag(value: &mut Value, old: &Value, new: &Value) {
    match value {
        Value::Object(map) => map.iter_mut().for_each(|(key, child)| {
            if key == "etag" && child == old {
                *child = new.clone();
            } else {
                replace_etag(child, old, new);
            }
        }),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| replace_etag(item, old, new)),
        _ => {}
    }
}
