//! Types without behaviour of their own: a table of the ones the project manages (their `type`
//! spelling and which writes the Azure REST API specs mark long-running) and a plain synchronous
//! fallback for any other type, whose `type` is taken from the request path.

use super::{LongRunning, ResourceKind};
use crate::emulator::arm_id::ArmId;

/// A resource type whose only server-side work is the common one (id, name, type, etag,
/// provisioningState).
#[derive(Debug)]
pub(crate) struct Generic {
    /// The `type` value; `None` means "as spelt in the request path".
    type_name: Option<&'static str>,
    long_running: LongRunning,
    resource_guid: bool,
}

const LRO: LongRunning = LongRunning {
    put: true,
    delete: true,
};
const SYNC: LongRunning = LongRunning {
    put: false,
    delete: false,
};

/// (lower-cased type path, kind). Long-running flags follow the specs of the api-versions the
/// project uses.
static TABLE: &[(&str, Generic)] = &[(
    "microsoft.network/publicipaddresses",
    Generic {
        type_name: Some("Microsoft.Network/publicIPAddresses"),
        long_running: LRO,
        resource_guid: true,
    },
)];

static FALLBACK: Generic = Generic {
    type_name: None,
    long_running: SYNC,
    resource_guid: false,
};

pub(super) fn lookup(type_path_lower: &str) -> &'static Generic {
    TABLE
        .iter()
        .find(|(path, _)| *path == type_path_lower)
        .map_or(&FALLBACK, |(_, kind)| kind)
}

impl ResourceKind for Generic {
    fn type_name(&self, id: &ArmId) -> String {
        self.type_name.map_or_else(|| id.type_path(), str::to_owned)
    }

    fn long_running(&self) -> LongRunning {
        self.long_running
    }

    fn has_resource_guid(&self) -> bool {
        self.resource_guid
    }
}
