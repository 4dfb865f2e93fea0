//! The topology as a picture (Mermaid or Graphviz DOT): the domains the gateway listens for,
//! the gateway, its listeners and path rules, the backend pools they route to, the private
//! endpoints those backends resolve to, and the accounts behind them; VNets with the peerings
//! between them; everything grouped by subscription. With a plan, what drifted is coloured.
//!
//! Pure: desired ARM bodies (and a plan) in, text out. The picture is read from the desired
//! bodies, so it shows what the manifest says, whatever ARM holds.

use crate::kinds::Desired;
use crate::plan::{Action, Plan};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

/// How a node or edge compares with live state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    Clean,
    Drift,
    Create,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A host name on the internet.
    Domain,
    /// An Azure resource.
    Resource,
    /// A part of a resource (a listener, a path rule, a backend pool).
    Part,
}

struct Node {
    lines: Vec<String>,
    shape: Shape,
    /// Subscription ID (lower case) the node is drawn in.
    subscription: Option<String>,
    mark: Mark,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Line {
    /// Traffic flows from one to the other.
    Flow,
    /// Both ways (a peering).
    Both,
    /// One is placed in the other (a subnet of a VNet).
    Placement,
}

struct Edge {
    from: usize,
    to: usize,
    label: Option<String>,
    line: Line,
    mark: Mark,
}

#[derive(Default)]
struct Picture {
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
    edges: Vec<Edge>,
}

impl Picture {
    /// The node for `key`, added on first use; a later, stronger mark wins.
    fn node(
        &mut self,
        key: &str,
        lines: Vec<String>,
        shape: Shape,
        subscription: Option<String>,
        mark: Mark,
    ) -> usize {
        if let Some(&i) = self.index.get(key) {
            if mark != Mark::Clean && self.nodes[i].mark == Mark::Clean {
                self.nodes[i].mark = mark;
            }
            return i;
        }
        self.nodes.push(Node {
            lines,
            shape,
            subscription,
            mark,
        });
        self.index.insert(key.to_owned(), self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize, label: Option<String>, line: Line, mark: Mark) {
        let duplicate = self
            .edges
            .iter()
            .any(|e| e.from == from && e.to == to && e.label == label);
        if !duplicate {
            self.edges.push(Edge {
                from,
                to,
                label,
                line,
                mark,
            });
        }
    }
}

/// What the plan says about each resource, by lower-cased ID.
struct Drift<'p> {
    by_id: HashMap<String, &'p crate::plan::ResourcePlan>,
}

impl<'p> Drift<'p> {
    fn new(plan: Option<&'p Plan>) -> Self {
        Drift {
            by_id: plan
                .map(|p| {
                    p.resources
                        .iter()
                        .map(|r| (r.id.to_ascii_lowercase(), r))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    fn of(&self, id: &str) -> Mark {
        match self.by_id.get(&id.to_ascii_lowercase()).map(|r| r.action) {
            None | Some(Action::NoOp) => Mark::Clean,
            Some(Action::Create) => Mark::Create,
            Some(_) => Mark::Drift,
        }
    }

    /// The mark of a named part of a resource: its resource's when the resource is created,
    /// drift when a changed field lies under `collection[name]`.
    fn of_part(&self, id: &str, collection: &str, name: &str) -> Mark {
        let Some(r) = self.by_id.get(&id.to_ascii_lowercase()) else {
            return Mark::Clean;
        };
        if r.action == Action::Create {
            return Mark::Create;
        }
        let needle = format!("{collection}[{name}]");
        if r.changes.iter().any(|c| c.path.contains(&needle)) {
            Mark::Drift
        } else {
            Mark::Clean
        }
    }
}

fn last_segment(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// The subscription ID (lower case) of an ARM ID.
fn subscription_of(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let rest = lower.strip_prefix("/subscriptions/")?;
    Some(rest.split('/').next()?.to_owned())
}

/// The VNet ID of an ID under it (a subnet, a peering), lower case.
fn vnet_of(id: &str) -> Option<String> {
    let lower = id.to_ascii_lowercase();
    let at = lower.find("/providers/microsoft.network/virtualnetworks/")?;
    let tail = &lower[at..];
    let parts: Vec<&str> = tail.split('/').collect();
    (parts.len() >= 5).then(|| format!("{}{}", &lower[..at], parts[..5].join("/")))
}

fn names(items: &Value) -> impl Iterator<Item = (&str, &Value)> {
    items.as_array().into_iter().flatten().filter_map(|item| {
        item.get("name")
            .and_then(Value::as_str)
            .map(|n| (n, &item["properties"]))
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// Renders the topology of `desired`. `aliases` names subscriptions (ID in lower case to the
/// manifest's alias); `plan`, when given, colours what drifted.
pub fn topology(
    desired: &[Desired],
    aliases: &BTreeMap<String, String>,
    plan: Option<&Plan>,
    format: GraphFormat,
) -> String {
    let picture = build(desired, &Drift::new(plan));
    match format {
        GraphFormat::Mermaid => mermaid(&picture, aliases),
        GraphFormat::Dot => dot(&picture, aliases),
    }
}

fn build(desired: &[Desired], drift: &Drift<'_>) -> Picture {
    let mut p = Picture::default();
    let by_kind = |name: &'static str| desired.iter().filter(move |d| d.kind.name() == name);
    // VNets first, so they keep their manifest order.
    for d in by_kind("VirtualNetwork") {
        vnet(&mut p, &d.id, drift);
    }
    for gw in by_kind("ApplicationGateway") {
        gateway(&mut p, gw, desired, drift);
    }
    for pe in by_kind("PrivateEndpoint") {
        private_endpoint(&mut p, pe, drift);
    }
    peerings(&mut p, desired, drift);
    p
}

fn vnet(p: &mut Picture, id: &str, drift: &Drift<'_>) -> usize {
    p.node(
        &id.to_ascii_lowercase(),
        vec![last_segment(id).to_owned(), "VNet".into()],
        Shape::Resource,
        subscription_of(id),
        drift.of(id),
    )
}

fn gateway(p: &mut Picture, gw: &Desired, desired: &[Desired], drift: &Drift<'_>) {
    let props = &gw.body["properties"];
    let sub = subscription_of(&gw.id);
    let g = p.node(
        &gw.id.to_ascii_lowercase(),
        vec![
            last_segment(&gw.id).to_owned(),
            "Application Gateway".into(),
        ],
        Shape::Resource,
        sub.clone(),
        drift.of(&gw.id),
    );
    let part = |p: &mut Picture, collection: &str, name: &str, what: String| {
        p.node(
            &format!("{}/{collection}/{name}", gw.id.to_ascii_lowercase()),
            vec![name.to_owned(), what],
            Shape::Part,
            sub.clone(),
            drift.of_part(&gw.id, collection, name),
        )
    };
    for config in props["gatewayIPConfigurations"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(vnet_id) = config["properties"]["subnet"]["id"]
            .as_str()
            .and_then(vnet_of)
        {
            let v = vnet(p, &vnet_id, drift);
            p.edge(g, v, None, Line::Placement, Mark::Clean);
        }
    }
    if let Some(policy) = props["firewallPolicy"]["id"].as_str() {
        let w = p.node(
            &policy.to_ascii_lowercase(),
            vec![last_segment(policy).to_owned(), "WAF policy".into()],
            Shape::Resource,
            subscription_of(policy),
            drift.of(policy),
        );
        p.edge(g, w, None, Line::Placement, Mark::Clean);
    }
    let mut listeners = HashMap::new();
    for (name, lp) in names(&props["httpListeners"]) {
        let mut hosts = strings(&lp["hostNames"]);
        hosts.extend(lp["hostName"].as_str().map(str::to_owned));
        let l = part(p, "httpListeners", name, "listener".into());
        for host in hosts {
            let d = p.node(
                &format!("domain/{host}"),
                vec![host.clone()],
                Shape::Domain,
                None,
                Mark::Clean,
            );
            p.edge(d, g, None, Line::Flow, Mark::Clean);
        }
        p.edge(g, l, None, Line::Flow, Mark::Clean);
        listeners.insert(name.to_ascii_lowercase(), l);
    }
    let mut pools = HashMap::new();
    for (name, pp) in names(&props["backendAddressPools"]) {
        let b = part(p, "backendAddressPools", name, "backend pool".into());
        pools.insert(name.to_ascii_lowercase(), b);
        for address in pp["backendAddresses"].as_array().into_iter().flatten() {
            let Some(fqdn) = address["fqdn"].as_str() else {
                continue;
            };
            // A backend reaches an account through its private endpoint when the account's
            // host name resolves to it: `<account>.<service domain>`.
            let account = fqdn.split('.').next().unwrap_or_default();
            for pe in desired
                .iter()
                .filter(|d| d.kind.name() == "PrivateEndpoint")
            {
                let connects = pe.body["properties"]["privateLinkServiceConnections"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c["properties"]["privateLinkServiceId"].as_str())
                    .any(|id| last_segment(id).eq_ignore_ascii_case(account));
                if connects {
                    let e = private_endpoint_node(p, pe, drift);
                    p.edge(b, e, Some(fqdn.to_owned()), Line::Flow, Mark::Clean);
                }
            }
        }
    }
    let pool_of = |v: &Value| {
        v["id"]
            .as_str()
            .and_then(|id| pools.get(&last_segment(id).to_ascii_lowercase()).copied())
    };
    let mut maps: HashMap<String, Vec<(usize, Option<usize>)>> = HashMap::new();
    for (map_name, mp) in names(&props["urlPathMaps"]) {
        let mut routes = Vec::new();
        for (rule, rp) in names(&mp["pathRules"]) {
            let paths = strings(&rp["paths"]).join(" ");
            let r = part(p, "pathRules", rule, format!("path {paths}"));
            routes.push((r, pool_of(&rp["backendAddressPool"])));
        }
        if let Some(default_pool) = pool_of(&mp["defaultBackendAddressPool"]) {
            let r = part(p, "urlPathMaps", map_name, "default route".into());
            routes.push((r, Some(default_pool)));
        }
        maps.insert(map_name.to_ascii_lowercase(), routes);
    }
    for (_, rp) in names(&props["requestRoutingRules"]) {
        let Some(&l) = rp["httpListener"]["id"]
            .as_str()
            .and_then(|id| listeners.get(&last_segment(id).to_ascii_lowercase()))
        else {
            continue;
        };
        let routes = match rp["urlPathMap"]["id"].as_str() {
            Some(id) => maps
                .get(&last_segment(id).to_ascii_lowercase())
                .cloned()
                .unwrap_or_default(),
            None => vec![(l, pool_of(&rp["backendAddressPool"]))],
        };
        for (route, pool) in routes {
            if route != l {
                p.edge(l, route, None, Line::Flow, Mark::Clean);
            }
            if let Some(pool) = pool {
                p.edge(route, pool, None, Line::Flow, Mark::Clean);
            }
        }
    }
}

fn private_endpoint_node(p: &mut Picture, pe: &Desired, drift: &Drift<'_>) -> usize {
    p.node(
        &pe.id.to_ascii_lowercase(),
        vec![last_segment(&pe.id).to_owned(), "private endpoint".into()],
        Shape::Resource,
        subscription_of(&pe.id),
        drift.of(&pe.id),
    )
}

fn private_endpoint(p: &mut Picture, pe: &Desired, drift: &Drift<'_>) {
    let e = private_endpoint_node(p, pe, drift);
    let props = &pe.body["properties"];
    if let Some(vnet_id) = props["subnet"]["id"].as_str().and_then(vnet_of) {
        let v = vnet(p, &vnet_id, drift);
        p.edge(e, v, None, Line::Placement, Mark::Clean);
    }
    for connection in props["privateLinkServiceConnections"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let Some(account) = connection["properties"]["privateLinkServiceId"].as_str() else {
            continue;
        };
        let a = p.node(
            &account.to_ascii_lowercase(),
            vec![last_segment(account).to_owned(), "account".into()],
            Shape::Resource,
            subscription_of(account),
            drift.of(account),
        );
        let groups = strings(&connection["properties"]["groupIds"]).join(", ");
        p.edge(
            e,
            a,
            (!groups.is_empty()).then_some(groups),
            Line::Flow,
            Mark::Clean,
        );
    }
}

/// One edge per peering pair, between the two VNets, marked when either side drifted.
fn peerings(p: &mut Picture, desired: &[Desired], drift: &Drift<'_>) {
    let mut pairs: Vec<(String, Vec<&Desired>)> = Vec::new();
    for d in desired
        .iter()
        .filter(|d| d.kind.name() == "VirtualNetworkPeering")
    {
        let name = d.address.split_once('/').map_or(&*d.address, |(_, n)| n);
        let name = name.split(':').next().unwrap_or(name).to_owned();
        match pairs.iter_mut().find(|(n, _)| *n == name) {
            Some((_, sides)) => sides.push(d),
            None => pairs.push((name, vec![d])),
        }
    }
    for (name, sides) in pairs {
        let first = sides[0];
        let (Some(local), Some(remote)) = (
            vnet_of(&first.id),
            first.body["properties"]["remoteVirtualNetwork"]["id"].as_str(),
        ) else {
            continue;
        };
        let marks: Vec<Mark> = sides.iter().map(|s| drift.of(&s.id)).collect();
        let mark = if marks.contains(&Mark::Drift) {
            Mark::Drift
        } else if marks.contains(&Mark::Create) {
            Mark::Create
        } else {
            Mark::Clean
        };
        let a = vnet(p, &local, drift);
        let b = vnet(p, remote, drift);
        p.edge(a, b, Some(name), Line::Both, mark);
    }
}

/// Subscriptions in order of first appearance, with their nodes.
fn groups(p: &Picture) -> (Vec<usize>, Vec<(String, Vec<usize>)>) {
    let mut loose = Vec::new();
    let mut grouped: Vec<(String, Vec<usize>)> = Vec::new();
    for (i, n) in p.nodes.iter().enumerate() {
        match &n.subscription {
            None => loose.push(i),
            Some(sub) => match grouped.iter_mut().find(|(s, _)| s == sub) {
                Some((_, members)) => members.push(i),
                None => grouped.push((sub.clone(), vec![i])),
            },
        }
    }
    (loose, grouped)
}

fn subscription_title(sub: &str, aliases: &BTreeMap<String, String>) -> String {
    match aliases.get(sub) {
        Some(alias) => format!("subscription {alias} ({sub})"),
        None => format!("subscription {sub}"),
    }
}

fn mermaid(p: &Picture, aliases: &BTreeMap<String, String>) -> String {
    let mut out = String::from("flowchart LR\n");
    let label = |n: &Node| n.lines.join("<br/>").replace('"', "#quot;");
    let node = |out: &mut String, indent: &str, i: usize| {
        let n = &p.nodes[i];
        let text = label(n);
        let _ = match n.shape {
            Shape::Domain => writeln!(out, "{indent}n{i}([\"{text}\"])"),
            Shape::Resource => writeln!(out, "{indent}n{i}[\"{text}\"]"),
            Shape::Part => writeln!(out, "{indent}n{i}(\"{text}\")"),
        };
    };
    let (loose, grouped) = groups(p);
    for i in loose {
        node(&mut out, "  ", i);
    }
    for (g, (sub, members)) in grouped.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph s{g}[\"{}\"]",
            subscription_title(sub, aliases)
        );
        for &i in members {
            node(&mut out, "    ", i);
        }
        out.push_str("  end\n");
    }
    for e in &p.edges {
        let arrow = match (e.line, &e.label) {
            (Line::Flow, None) => "-->".to_owned(),
            (Line::Flow, Some(l)) => format!("-->|\"{}\"|", l.replace('"', "#quot;")),
            (Line::Both, None) => "<-->".to_owned(),
            (Line::Both, Some(l)) => format!("<-->|\"{}\"|", l.replace('"', "#quot;")),
            (Line::Placement, _) => "-.-".to_owned(),
        };
        let _ = writeln!(out, "  n{} {arrow} n{}", e.from, e.to);
    }
    let marked = |mark: Mark| -> Vec<String> {
        (0..p.nodes.len())
            .filter(|&i| p.nodes[i].mark == mark)
            .map(|i| format!("n{i}"))
            .collect()
    };
    let (drifted, created) = (marked(Mark::Drift), marked(Mark::Create));
    if !drifted.is_empty() {
        out.push_str("  classDef drift fill:#fde2e2,stroke:#c62828,stroke-width:2px\n");
        let _ = writeln!(out, "  class {} drift", drifted.join(","));
    }
    if !created.is_empty() {
        out.push_str(
            "  classDef create fill:#e3f4e1,stroke:#2e7d32,stroke-width:2px,stroke-dasharray:5 3\n",
        );
        let _ = writeln!(out, "  class {} create", created.join(","));
    }
    for (i, e) in p.edges.iter().enumerate() {
        let style = match e.mark {
            Mark::Clean => continue,
            Mark::Drift => "stroke:#c62828,stroke-width:3px",
            Mark::Create => "stroke:#2e7d32,stroke-width:3px,stroke-dasharray:5 3",
        };
        let _ = writeln!(out, "  linkStyle {i} {style}");
    }
    out
}

fn dot(p: &Picture, aliases: &BTreeMap<String, String>) -> String {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from(
        "digraph azrecon {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=Helvetica];\n  edge [fontname=Helvetica, fontsize=10];\n",
    );
    let node = |out: &mut String, indent: &str, i: usize| {
        let n = &p.nodes[i];
        let shape = match n.shape {
            Shape::Domain => ", shape=ellipse",
            Shape::Resource => "",
            Shape::Part => ", style=\"rounded,filled,dashed\"",
        };
        let colour = match n.mark {
            Mark::Clean => "",
            Mark::Drift => ", fillcolor=\"#fde2e2\", color=\"#c62828\", penwidth=2",
            Mark::Create => ", fillcolor=\"#e3f4e1\", color=\"#2e7d32\", penwidth=2",
        };
        let lines: Vec<String> = n.lines.iter().map(|l| quote(l)).collect();
        let _ = writeln!(
            out,
            "{indent}n{i} [label=\"{}\"{shape}{colour}];",
            lines.join("\\n")
        );
    };
    let (loose, grouped) = groups(p);
    for i in loose {
        node(&mut out, "  ", i);
    }
    for (g, (sub, members)) in grouped.iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{g} {{\n    label=\"{}\";\n    style=rounded;",
            quote(&subscription_title(sub, aliases))
        );
        for &i in members {
            node(&mut out, "    ", i);
        }
        out.push_str("  }\n");
    }
    for e in &p.edges {
        let mut attrs = Vec::new();
        if let Some(l) = &e.label {
            attrs.push(format!("label=\"{}\"", quote(l)));
        }
        match e.line {
            Line::Flow => {}
            Line::Both => attrs.push("dir=both".into()),
            Line::Placement => attrs.push("style=dotted, arrowhead=none".into()),
        }
        match e.mark {
            Mark::Clean => {}
            Mark::Drift => attrs.push("color=\"#c62828\", penwidth=2".into()),
            Mark::Create => attrs.push("color=\"#2e7d32\", penwidth=2, style=dashed".into()),
        }
        let attrs = if attrs.is_empty() {
            String::new()
        } else {
            format!(" [{}]", attrs.join(", "))
        };
        let _ = writeln!(out, "  n{} -> n{}{attrs};", e.from, e.to);
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_give_their_subscription_and_vnet() {
        let subnet = "/subscriptions/ABC/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/Hub/subnets/s";
        assert_eq!(subscription_of(subnet).as_deref(), Some("abc"));
        assert_eq!(
            vnet_of(subnet).as_deref(),
            Some(
                "/subscriptions/abc/resourcegroups/rg/providers/microsoft.network/virtualnetworks/hub"
            )
        );
        assert_eq!(vnet_of("/subscriptions/abc"), None);
    }
}
