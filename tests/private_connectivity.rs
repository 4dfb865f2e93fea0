//! Private connectivity end to end against the emulator: private endpoints to OpenAI accounts in
//! other subscriptions, privatelink zones, their VNet links and the endpoints' DNS zone groups.
//! Create, no-op and drift fixes per kind; a pending manual approval reported, not looped on; a
//! zone group owned by Azure Policy left alone; the gateway backend whose VNet has no zone link;
//! a manifest across three subscriptions; and the recorded traffic against the specs (oav).

mod common;

use azrecon::arm::{ArmClient, PutOptions};
use azrecon::engine::{self, Outcome, ResourceOutcome, RunOptions};
use azrecon::kinds::{ArmKind, Desired, Origin};
use azrecon::manifest::Policy;
use azrecon::plan::{Action, Plan, Severity, plan};
use common::*;
use serde_json::{Value, json};
use std::collections::HashMap;

const NETWORK: &str = "6f1c2a3b-0000-4000-8000-00000000a001";
const DEV: &str = "6f1c2a3b-0000-4000-8000-00000000d001";
const PRD: &str = "6f1c2a3b-0000-4000-8000-00000000f001";

fn opts() -> RunOptions {
    RunOptions {
        dry_run: false,
        allow_destructive: false,
        concurrency: 4,
        ..RunOptions::default()
    }
}

async fn run(arm: &ArmClient, desired: &[Desired]) -> (Plan, Vec<ResourceOutcome>) {
    let plan = engine::plan_live(arm, desired, 4).await.unwrap();
    let outcomes = engine::apply(arm, desired, &plan, opts()).await;
    (plan, outcomes)
}

fn outcome<'o>(outcomes: &'o [ResourceOutcome], address: &str) -> &'o Outcome {
    &outcomes
        .iter()
        .find(|o| o.address == address)
        .unwrap_or_else(|| panic!("no outcome for {address}"))
        .outcome
}

/// Paths of the ARM writes served since the log was last cleared.
fn written_paths(emu: &azrecon::emulator::Emulator) -> Vec<String> {
    emu.requests()
        .into_iter()
        .filter(|r| r.is_write())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn drifted(plan: &Plan) -> Vec<&str> {
    plan.resources
        .iter()
        .filter(|r| r.drifted())
        .map(|r| r.address.as_str())
        .collect()
}

const PE_KRC: &str = "PrivateEndpoint/pe-aoai-edge-krc";
const GROUP_KRC: &str = "PrivateEndpoint/pe-aoai-edge-krc:privateDnsZoneGroup";
const OPENAI_ZONE: &str = "PrivateDnsZone/privatelink.openai.azure.com";

#[tokio::test]
async fn zones_links_endpoints_and_zone_groups_are_created_in_order_then_cost_reads_only() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);

    let plan = engine::plan_live(&arm, &desired, 4).await.unwrap();
    let wave_of = |address: &str| {
        let i = plan
            .resources
            .iter()
            .position(|r| r.address == address)
            .unwrap();
        plan.waves.iter().position(|w| w.contains(&i)).unwrap()
    };
    let zone = wave_of(OPENAI_ZONE);
    let link = wave_of("VirtualNetworkLink/openai-hub-krc");
    let endpoint = wave_of(PE_KRC);
    let group = wave_of(GROUP_KRC);
    assert!(
        zone < link && link < endpoint && endpoint < group,
        "{zone} {link} {endpoint} {group}"
    );
    assert!(wave_of("CognitiveServicesAccount/aoai-edge-krc") < endpoint);
    let outcomes = engine::apply(&arm, &desired, &plan, opts()).await;
    assert_settled(&outcomes);

    // What ARM filled: the NIC, an address from the subnet, the account's FQDNs, the approval.
    let pe = emu.resource(&find(&desired, PE_KRC).id).unwrap();
    let props = &pe["properties"];
    assert!(
        props["networkInterfaces"][0]["id"]
            .as_str()
            .unwrap()
            .ends_with("/networkInterfaces/pe-aoai-edge-krc-nic")
    );
    let dns: Vec<&str> = props["customDnsConfigs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fqdn"].as_str().unwrap())
        .collect();
    assert_eq!(
        dns,
        [
            "aoai-edge-krc.openai.azure.com",
            "aoai-edge-krc.cognitiveservices.azure.com"
        ]
    );
    let ip = props["customDnsConfigs"][0]["ipAddresses"][0]
        .as_str()
        .unwrap();
    let hub = emu
        .resource(&find(&desired, "VirtualNetwork/vnet-hub-krc").id)
        .unwrap();
    let subnet = hub["properties"]["subnets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "snet-private-endpoints")
        .unwrap();
    let prefix: ipnet::Ipv4Net = subnet["properties"]["addressPrefix"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let address: std::net::Ipv4Addr = ip.parse().unwrap();
    assert!(prefix.contains(&address), "{ip} in {prefix}");
    assert_eq!(
        address.octets()[3],
        4,
        "the first address Azure does not reserve"
    );
    assert_eq!(
        props["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
            ["status"],
        "Approved"
    );

    // The zone group's records, and the A records it keeps in both zones.
    let group = emu.resource(&find(&desired, GROUP_KRC).id).unwrap();
    let records = &group["properties"]["privateDnsZoneConfigs"][0]["properties"]["recordSets"];
    assert_eq!(
        records[0]["fqdn"],
        "aoai-edge-krc.privatelink.openai.azure.com"
    );
    assert_eq!(records[0]["ipAddresses"][0], ip);
    for zone in [
        "privatelink.openai.azure.com",
        "privatelink.cognitiveservices.azure.com",
    ] {
        let zone_id = &find(&desired, &format!("PrivateDnsZone/{zone}")).id;
        let a = emu
            .resource(&format!("{zone_id}/A/aoai-edge-krc"))
            .unwrap_or_else(|| panic!("no A record in {zone}"));
        assert_eq!(a["properties"]["aRecords"][0]["ipv4Address"], ip);
        let zone_doc = emu.resource(zone_id).unwrap();
        assert_eq!(zone_doc["location"], "global");
        // The SOA record and one record per endpoint; one link per VNet.
        assert_eq!(zone_doc["properties"]["numberOfRecordSets"], 3);
        assert_eq!(zone_doc["properties"]["numberOfVirtualNetworkLinks"], 5);
    }
    let link = emu
        .resource(&find(&desired, "VirtualNetworkLink/openai-prd-krc").id)
        .unwrap();
    assert_eq!(link["properties"]["virtualNetworkLinkState"], "Completed");
    assert_eq!(link["properties"]["registrationEnabled"], false);

    emu.clear_log();
    let (plan, outcomes) = run(&arm, &desired).await;
    assert!(
        !plan.drifted(),
        "{}",
        azrecon::render::plan_text(&plan, Default::default())
    );
    assert_settled(&outcomes);
    assert_eq!(emu.writes(), 0);
    assert_eq!(emu.reads(), desired.len());
}

#[tokio::test]
async fn drift_of_each_kind_is_fixed_with_one_put_each() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    assert_settled(&run(&arm, &desired).await.1);

    let link = find(&desired, "VirtualNetworkLink/cogsvc-dev-krc");
    emu.update_raw(&link.id, |doc| {
        doc["properties"]["registrationEnabled"] = json!(true)
    });
    let pe = find(&desired, PE_KRC);
    let asg = format!(
        "/subscriptions/{NETWORK}/resourceGroups/rg-network-hub/providers/Microsoft.Network/applicationSecurityGroups/asg-portal"
    );
    emu.update_raw(&pe.id, |doc| {
        doc["properties"]["applicationSecurityGroups"] = json!([{ "id": asg }])
    });
    let group = find(&desired, GROUP_KRC);
    emu.update_raw(&group.id, |doc| {
        doc["properties"]["privateDnsZoneConfigs"]
            .as_array_mut()
            .unwrap()
            .truncate(1)
    });
    let zone = find(
        &desired,
        "PrivateDnsZone/privatelink.cognitiveservices.azure.com",
    );
    emu.update_raw(&zone.id, |doc| doc["location"] = json!("koreacentral"));

    emu.clear_log();
    let (plan, outcomes) = run(&arm, &desired).await;
    assert_eq!(
        drifted(&plan),
        [
            "PrivateDnsZone/privatelink.cognitiveservices.azure.com",
            "VirtualNetworkLink/cogsvc-dev-krc",
            PE_KRC,
            GROUP_KRC
        ]
    );
    let group_plan = plan
        .resources
        .iter()
        .find(|r| r.address == GROUP_KRC)
        .unwrap();
    assert_eq!(
        group_plan.changes[0].path,
        "properties.privateDnsZoneConfigs[privatelink-cognitiveservices-azure-com]"
    );
    assert_settled(&outcomes);
    assert_eq!(emu.writes(), 4, "{:#?}", written_paths(&emu));
    assert_eq!(
        emu.resource(&link.id).unwrap()["properties"]["registrationEnabled"],
        false
    );
    assert_eq!(
        emu.resource(&pe.id).unwrap()["properties"]["applicationSecurityGroups"],
        json!([])
    );
    let zone_id = &zone.id;
    assert!(
        emu.resource(&format!("{zone_id}/A/aoai-edge-krc"))
            .is_some(),
        "the restored zone config brings its record back"
    );
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

#[tokio::test]
async fn a_deleted_zone_is_created_again_with_its_links_and_records() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = example_manifest();
    seed_existing(&emu, &desired);
    assert_settled(&run(&arm, &desired).await.1);
    let zone = find(&desired, OPENAI_ZONE);
    arm.delete(&zone.id, "2020-06-01").await.unwrap();
    assert!(
        emu.resource(&format!("{}/A/aoai-edge-krc", zone.id))
            .is_none()
    );

    let (plan, outcomes) = run(&arm, &desired).await;
    let creates: Vec<_> = plan
        .resources
        .iter()
        .filter(|r| r.action == Action::Create)
        .map(|r| r.address.as_str())
        .collect();
    assert_eq!(creates.len(), 6, "the zone and its five links: {creates:?}");
    // The zone groups still name the zone; their records are gone with it, which they do not
    // show in their own body, so they are unchanged.
    assert_settled(&outcomes);
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

const MANUAL: &str = r#"
version: 1
subscriptions:
  network: 6f1c2a3b-0000-4000-8000-00000000a001
  prd: 6f1c2a3b-0000-4000-8000-00000000f001
defaults: { subscription: network, resourceGroup: rg-network-hub, location: koreacentral }
resources:
  VirtualNetwork:
    - name: vnet-hub-krc
      spec: { addressSpace: [10.10.0.0/16] }
  CognitiveServicesAccount:
    - { name: aoai-partner, subscription: prd, resourceGroup: rg-prd-openai }
  PrivateEndpoint:
    - name: pe-aoai-partner
      spec:
        account: aoai-partner
        subnet: { virtualNetwork: vnet-hub-krc, subnet: snet-private-endpoints }
        ipConfigurations:
          - { name: ipconfig-account, privateIpAddress: 10.10.1.20 }
        approval: manual
        requestMessage: azrecon network team, for the OpenAI edge gateway
"#;

#[tokio::test]
async fn a_pending_manual_approval_is_reported_and_never_looped_on() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = manifest(MANUAL);
    seed_existing(&emu, &desired);
    let pe = find(&desired, "PrivateEndpoint/pe-aoai-partner");

    let (_, outcomes) = run(&arm, &desired).await;
    // Created: what is left is for the account's owner, which no write could fix.
    assert!(matches!(
        outcome(&outcomes, &pe.address),
        Outcome::Converged { writes: 1 }
    ));
    let live = emu.resource(&pe.id).unwrap();
    let connection = &live["properties"]["manualPrivateLinkServiceConnections"][0];
    assert_eq!(
        connection["properties"]["privateLinkServiceConnectionState"]["status"],
        "Pending"
    );
    assert_eq!(
        connection["properties"]["requestMessage"],
        "azrecon network team, for the OpenAI edge gateway"
    );
    assert_eq!(
        live["properties"]["customDnsConfigs"][0]["ipAddresses"][0],
        "10.10.1.20"
    );

    for _ in 0..2 {
        emu.clear_log();
        let (plan, outcomes) = run(&arm, &desired).await;
        assert!(
            plan.drifted(),
            "pending approval is drift (a dry run exits 2)"
        );
        let planned = plan
            .resources
            .iter()
            .find(|r| r.address == pe.address)
            .unwrap();
        assert!(planned.changes.is_empty());
        assert!(planned.put.is_none());
        let message = &planned.status[0].message;
        assert!(
            message.contains("Pending") && message.contains("owner of aoai-partner must approve"),
            "{message}"
        );
        assert!(matches!(outcome(&outcomes, &pe.address), Outcome::Reported));
        assert_eq!(emu.writes(), 0, "{:#?}", written_paths(&emu));
    }

    for (status, says) in [
        ("Rejected", "was Rejected"),
        ("Disconnected", "is Disconnected"),
    ] {
        emu.update_raw(&pe.id, |doc| {
            doc["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]
                ["privateLinkServiceConnectionState"] =
                json!({"status": status, "description": "not for this tenant", "actionsRequired": "None"})
        });
        emu.clear_log();
        let (plan, _) = run(&arm, &desired).await;
        let planned = plan
            .resources
            .iter()
            .find(|r| r.address == pe.address)
            .unwrap();
        assert!(
            planned.status[0].message.contains(says),
            "{:?}",
            planned.status
        );
        assert!(planned.status[0].message.contains("not for this tenant"));
        assert_eq!(emu.writes(), 0);
    }

    // The owner approves: no drift left.
    emu.update_raw(&pe.id, |doc| {
        doc["properties"]["manualPrivateLinkServiceConnections"][0]["properties"]
            ["privateLinkServiceConnectionState"]["status"] = json!("Approved")
    });
    assert!(
        !engine::plan_live(&arm, &desired, 4)
            .await
            .unwrap()
            .drifted()
    );
}

const POLICY_GROUP: &str = r#"
version: 1
subscriptions:
  network: 6f1c2a3b-0000-4000-8000-00000000a001
  prd: 6f1c2a3b-0000-4000-8000-00000000f001
defaults: { subscription: network, resourceGroup: rg-network-hub, location: koreacentral }
resources:
  VirtualNetwork:
    - name: vnet-hub-krc
  CognitiveServicesAccount:
    - { name: aoai-edge-krc, subscription: prd, resourceGroup: rg-prd-openai }
  PrivateDnsZone:
    - { name: privatelink.openai.azure.com, resourceGroup: rg-network-dns }
    - { name: privatelink.cognitiveservices.azure.com, resourceGroup: rg-network-dns }
  PrivateEndpoint:
    - name: pe-aoai-edge-krc
      spec:
        account: aoai-edge-krc
        subnet: { virtualNetwork: vnet-hub-krc, subnet: snet-private-endpoints }
        privateDnsZoneGroup:
          name: deployedByPolicy
          zones: [privatelink.openai.azure.com, privatelink.cognitiveservices.azure.com]
          managedBy: policy
"#;

#[tokio::test]
async fn a_zone_group_managed_by_policy_is_reported_never_written() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = manifest(POLICY_GROUP);
    seed_existing(&emu, &desired);
    let group = find(&desired, GROUP_KRC);
    assert_eq!(group.policy, Policy::Observe);

    // Policy has not deployed it yet: its absence is reported, and it is not created.
    let (plan, outcomes) = run(&arm, &desired).await;
    let planned = plan
        .resources
        .iter()
        .find(|r| r.address == GROUP_KRC)
        .unwrap();
    assert_eq!(planned.action, Action::Create);
    assert!(!planned.writable());
    assert!(planned.warnings[0].contains("Azure Policy"));
    assert!(matches!(outcome(&outcomes, GROUP_KRC), Outcome::Reported));
    let touched_group = |emu: &azrecon::emulator::Emulator| {
        written_paths(emu)
            .iter()
            .any(|p| p.contains("/privateDnsZoneGroups/"))
    };
    assert!(!touched_group(&emu));
    assert!(emu.resource(&group.id).is_none());

    // Policy deploys it, with one zone only: unlike the manifest, and still left alone.
    let zone = find(&desired, OPENAI_ZONE);
    arm.put(
        &group.id,
        "2024-01-01",
        &json!({"properties": {"privateDnsZoneConfigs": [
            {"name": "openai", "properties": {"privateDnsZoneId": zone.id}}
        ]}}),
        &PutOptions::default(),
    )
    .await
    .unwrap();
    for _ in 0..2 {
        emu.clear_log();
        let (plan, outcomes) = run(&arm, &desired).await;
        assert!(
            !plan.drifted(),
            "{}",
            azrecon::render::plan_text(&plan, Default::default())
        );
        assert!(matches!(outcome(&outcomes, GROUP_KRC), Outcome::Unchanged));
        assert!(!touched_group(&emu));
        assert_eq!(emu.writes(), 0);
    }
}

/// A stand-in for the gateway kind: the check only reads the kind's name and its ARM body.
struct Gateway;

impl ArmKind for Gateway {
    fn name(&self) -> &'static str {
        "ApplicationGateway"
    }
    fn arm_type(&self) -> &'static str {
        "Microsoft.Network/applicationGateways"
    }
    fn api_version(&self) -> &'static str {
        "2024-01-01"
    }
    fn read_only(&self) -> &'static [&'static str] {
        &[]
    }
    fn rules(&self) -> &'static azrecon::diff::Rules {
        static RULES: azrecon::diff::Rules = azrecon::diff::Rules {
            keyed: &[],
            unordered: &[],
            case_insensitive: &[],
            collections: &[],
        };
        &RULES
    }
}

static GATEWAY: Gateway = Gateway;

/// A gateway in `vnet`'s `snet-agw` with one backend pool of `fqdns`, as ARM's body shapes it.
fn gateway(vnet_id: &str, fqdns: &[&str]) -> Desired {
    let addresses: Vec<Value> = fqdns.iter().map(|f| json!({ "fqdn": f })).collect();
    Desired {
        address: "ApplicationGateway/agw-openai-edge".into(),
        kind: &GATEWAY,
        id: format!(
            "/subscriptions/{NETWORK}/resourceGroups/rg-network-hub/providers/Microsoft.Network/applicationGateways/agw-openai-edge"
        ),
        body: json!({"properties": {
            "gatewayIPConfigurations": [{"name": "gw-ip", "properties": {"subnet": {"id": format!("{vnet_id}/subnets/snet-agw")}}}],
            "backendAddressPools": [{"name": "pool-aoai", "properties": {"backendAddresses": addresses}}],
        }}),
        policy: Policy::Manage,
        existing_only: false,
        depends_on: Vec::new(),
        origin: Origin {
            file: "edge.yaml".into(),
            pos: Default::default(),
        },
        exclusive: true,
        warnings: Vec::new(),
    }
}

#[test]
fn a_gateway_backend_without_a_zone_link_is_a_finding_before_apply() {
    // The example's own gateway, if any, is replaced by one whose backends the test chooses.
    let mut desired: Vec<Desired> = example_manifest()
        .into_iter()
        .filter(|d| d.kind.name() != "ApplicationGateway")
        .collect();
    let hub = find(&desired, "VirtualNetwork/vnet-hub-krc").id.clone();
    desired.push(gateway(
        &hub,
        &[
            "aoai-edge-krc.openai.azure.com",
            "aoai-edge-eus2.cognitiveservices.azure.com",
            "api.example.com",
        ],
    ));
    let empty = HashMap::new();
    assert!(
        plan(&desired, &empty).findings.is_empty(),
        "the hub is linked to both zones: {:?}",
        plan(&desired, &empty).findings
    );

    // Without the hub's link to the openai zone, only that backend is found, before any write.
    let unlinked: Vec<Desired> = desired
        .iter()
        .filter(|d| d.address != "VirtualNetworkLink/openai-hub-krc")
        .cloned()
        .collect();
    let findings = plan(&unlinked, &empty).findings;
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].severity, Severity::Drift);
    assert_eq!(findings[0].subject, "ApplicationGateway/agw-openai-edge");
    assert!(
        findings[0]
            .message
            .contains("aoai-edge-krc.openai.azure.com")
            && findings[0].message.contains("privatelink.openai.azure.com")
            && findings[0].message.contains("vnet-hub-krc"),
        "{}",
        findings[0].message
    );
    assert!(plan(&unlinked, &empty).drifted());

    // A link azrecon only observes counts when it exists, not when it is merely declared.
    let mut observed = desired.clone();
    let link = observed
        .iter_mut()
        .find(|d| d.address == "VirtualNetworkLink/openai-hub-krc")
        .unwrap();
    link.policy = Policy::Observe;
    let link_id = link.id.to_ascii_lowercase();
    assert_eq!(plan(&observed, &empty).findings.len(), 1);
    let live = HashMap::from([(
        link_id,
        Some(azrecon::plan::Live {
            body: json!({}),
            etag: None,
        }),
    )]);
    assert!(plan(&observed, &live).findings.is_empty());
}

const THREE_SUBSCRIPTIONS: &str = r#"
version: 1
subscriptions:
  network: 6f1c2a3b-0000-4000-8000-00000000a001
  dev: 6f1c2a3b-0000-4000-8000-00000000d001
  prd: 6f1c2a3b-0000-4000-8000-00000000f001
defaults: { location: koreacentral }
resources:
  VirtualNetwork:
    - { name: vnet-hub-krc, subscription: network, resourceGroup: rg-network-hub }
    - { name: vnet-dev-krc, subscription: dev, resourceGroup: rg-dev-network }
    - { name: vnet-prd-krc, subscription: prd, resourceGroup: rg-prd-network }
  CognitiveServicesAccount:
    - { name: aoai-edge-krc, subscription: prd, resourceGroup: rg-prd-openai }
    - { name: aoai-dev-krc, subscription: dev, resourceGroup: rg-dev-openai }
  PrivateDnsZone:
    - { name: privatelink.openai.azure.com, subscription: network, resourceGroup: rg-network-dns }
  VirtualNetworkLink:
    - { name: hub, spec: { zone: privatelink.openai.azure.com, virtualNetwork: vnet-hub-krc } }
    - { name: dev, spec: { zone: privatelink.openai.azure.com, virtualNetwork: vnet-dev-krc } }
    - { name: prd, spec: { zone: privatelink.openai.azure.com, virtualNetwork: vnet-prd-krc } }
  PrivateEndpoint:
    # In the network subscription, to an account in PRD.
    - name: pe-aoai-edge-krc
      subscription: network
      resourceGroup: rg-network-hub
      spec:
        account: aoai-edge-krc
        subnet: { virtualNetwork: vnet-hub-krc, subnet: snet-private-endpoints }
        privateDnsZoneGroup: { zones: [privatelink.openai.azure.com] }
    # In DEV, to DEV's account, with its records in the network subscription's zone.
    - name: pe-aoai-dev-krc
      subscription: dev
      resourceGroup: rg-dev-network
      spec:
        account: aoai-dev-krc
        subnet: { virtualNetwork: vnet-dev-krc, subnet: snet-private-endpoints }
        privateDnsZoneGroup: { zones: [privatelink.openai.azure.com] }
"#;

#[tokio::test]
async fn one_manifest_converges_resources_in_three_subscriptions() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = manifest(THREE_SUBSCRIPTIONS);
    seed_existing(&emu, &desired);
    let (_, outcomes) = run(&arm, &desired).await;
    assert_settled(&outcomes);

    let subscription_of = |path: &str| path.split('/').nth(2).unwrap_or_default().to_string();
    let mut written: Vec<String> = written_paths(&emu)
        .iter()
        .map(|p| subscription_of(p))
        .collect();
    written.sort();
    written.dedup();
    assert_eq!(
        written,
        [NETWORK, DEV],
        "writes land where the resources live"
    );
    let read: Vec<String> = emu
        .requests()
        .iter()
        .filter(|r| r.is_read())
        .map(|r| r.path.split('/').nth(2).unwrap_or_default().to_string())
        .collect();
    for sub in [NETWORK, DEV, PRD] {
        assert!(read.iter().any(|s| s == sub), "no read in {sub}");
    }

    // DEV's endpoint has its record in the network subscription's zone.
    let zone = find(&desired, OPENAI_ZONE);
    let a = emu
        .resource(&format!("{}/A/aoai-dev-krc", zone.id))
        .unwrap();
    let dev_pe = emu
        .resource(&find(&desired, "PrivateEndpoint/pe-aoai-dev-krc").id)
        .unwrap();
    assert_eq!(
        a["properties"]["aRecords"][0]["ipv4Address"],
        dev_pe["properties"]["customDnsConfigs"][0]["ipAddresses"][0]
    );
    assert_eq!(
        dev_pe["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceId"],
        json!(find(&desired, "CognitiveServicesAccount/aoai-dev-krc").id)
    );

    emu.clear_log();
    let (plan, _) = run(&arm, &desired).await;
    assert!(!plan.drifted());
    assert_eq!(emu.writes(), 0);
}

#[tokio::test]
async fn private_dns_puts_honour_if_match_and_if_none_match() {
    let emu = emulator().await;
    let arm = client(&emu);
    let zone = format!(
        "/subscriptions/{NETWORK}/resourceGroups/rg-network-dns/providers/Microsoft.Network/privateDnsZones/privatelink.openai.azure.com"
    );
    let body = json!({ "location": "Global" });
    let create_only = PutOptions {
        if_none_match: Some("*".into()),
        ..Default::default()
    };
    let created = arm
        .put(&zone, "2020-06-01", &body, &create_only)
        .await
        .unwrap();
    assert_eq!(created["location"], "global");
    let refused = arm
        .put(&zone, "2020-06-01", &body, &create_only)
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(412));

    let etag = arm
        .get(&zone, "2020-06-01")
        .await
        .unwrap()
        .unwrap()
        .etag
        .unwrap();
    assert!(
        !etag.starts_with("W/"),
        "Private DNS etags are bare: {etag}"
    );
    let stale = PutOptions {
        if_match: Some("00000000-0000-0000-0000-000000000000".into()),
        ..Default::default()
    };
    let refused = arm
        .put(&zone, "2020-06-01", &body, &stale)
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(412));
    let current = PutOptions {
        if_match: Some(etag),
        ..Default::default()
    };
    arm.put(&zone, "2020-06-01", &body, &current).await.unwrap();

    let regional = json!({ "location": "koreacentral" });
    let refused = arm
        .put(&zone, "2020-06-01", &regional, &PutOptions::default())
        .await
        .unwrap_err();
    assert_eq!(refused.status(), Some(400));
}

#[tokio::test]
async fn vnet_link_writes_are_long_running() {
    let emu = emulator().await;
    let arm = client(&emu);
    let desired = manifest(THREE_SUBSCRIPTIONS);
    seed_existing(&emu, &desired);
    assert_settled(&run(&arm, &desired).await.1);
    let link_put = emu
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT" && r.path.contains("/virtualNetworkLinks/"))
        .unwrap();
    assert!(link_put.response_header("azure-asyncoperation").is_some());
    assert_eq!(
        link_put.response_body.unwrap()["properties"]["virtualNetworkLinkState"],
        "InProgress"
    );
}

/// Validates the recorded traffic of a private-connectivity run against the Azure REST API specs
/// with Microsoft's oav. Needs npm and the oav-check script:
/// `OAV_CHECK=/path/to/oav-check cargo test --test private_connectivity -- --ignored`.
#[tokio::test]
#[ignore = "needs the oav-check script (OAV_CHECK) and npm"]
async fn recorded_traffic_passes_oav() {
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in [THREE_SUBSCRIPTIONS, MANUAL].into_iter().enumerate() {
        let emu = emulator().await;
        let arm = client(&emu);
        let desired = manifest(text);
        seed_existing(&emu, &desired);
        assert_settled(&run(&arm, &desired).await.1);
        if let Some(zone) = desired.iter().find(|d| d.address == OPENAI_ZONE) {
            arm.get(&format!("{}/A/aoai-edge-krc", zone.id), "2020-06-01")
                .await
                .unwrap()
                .expect("the zone group's A record");
            let group = find(
                &desired,
                "PrivateEndpoint/pe-aoai-dev-krc:privateDnsZoneGroup",
            );
            arm.delete(&group.id, "2024-01-01").await.unwrap();
        }
        emu.write_traffic(&dir.path().join(i.to_string())).unwrap();
    }
    let kept = oav::prune(dir.path());
    assert!(kept >= 10, "{kept} exchanges to validate");
    oav::assert_valid(dir.path());
}
