//! Checks across resources: what no single body shows, such as a gateway backend that can only
//! resolve privately if its VNet is linked to a private DNS zone. Each check is a pure function
//! of the desired resources and what ARM returned; `CHECKS` lists them all.

mod gateway_secret_access;
mod private_dns_link;

pub use gateway_secret_access::parse_secret_uri;

use crate::kinds::Desired;
use crate::plan::{Finding, Live};
use std::collections::HashMap;

/// What ARM returned, by lower-cased ARM ID (`None`: 404).
pub type LiveMap = HashMap<String, Option<Live>>;

type Check = fn(&[Desired], &LiveMap) -> Vec<Finding>;

/// Every cross-resource check, in the order their findings are listed.
static CHECKS: &[Check] = &[
    private_dns_link::unlinked_backend_zones,
    gateway_secret_access::check,
];

pub fn run(desired: &[Desired], live: &LiveMap) -> Vec<Finding> {
    CHECKS
        .iter()
        .flat_map(|check| check(desired, live))
        .collect()
}
