//! The edges of a graph file: checks that each is exactly one shape, then declares it.

use super::declare::{listing, Declarer, Mode};
use super::located::{Located, NodeList, Pos, Targets};
use super::spec::{CaseSpec, EdgeSpec};
use super::standin::FirstTarget;
use crate::router::{Comparison, FieldRouter, RouteTarget};
use crate::state::GraphState;

/// The name of the router a field route compiles to: `field:` + the field + the JSON pointer,
/// e.g. `field:decision/action` for `field: decision, pointer: /action`, or `field:approved`.
pub fn field_router_name(field: &str, pointer: Option<&str>) -> String {
    format!("field:{field}{}", pointer.unwrap_or_default())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Static,
    Join,
    Router,
    Field,
    Send,
}

impl Shape {
    fn describe(self) -> &'static str {
        match self {
            Self::Static => "a static edge (keys: from, to)",
            Self::Join => "a join (keys: join, to)",
            Self::Router => "a router edge (keys: from, router, targets)",
            Self::Field => "a field route (keys: from, field, pointer, cases, default)",
            Self::Send => "a send edge (keys: from, send, to)",
        }
    }

    fn allows(self, key: &str) -> bool {
        match self {
            Self::Static => matches!(key, "from" | "to"),
            Self::Join => matches!(key, "join" | "to"),
            Self::Router => matches!(key, "from" | "router" | "targets"),
            Self::Field => matches!(key, "from" | "field" | "pointer" | "cases" | "default"),
            Self::Send => matches!(key, "from" | "send" | "to"),
        }
    }
}

/// The keys an edge has, with their positions, in the order the format lists them.
fn keys(e: &EdgeSpec) -> Vec<(&'static str, Pos)> {
    [
        ("from", e.from.as_ref().map(|v| v.pos)),
        ("to", e.to.as_ref().map(|v| v.pos)),
        ("join", e.join.as_ref().map(|v| v.pos)),
        ("router", e.router.as_ref().map(|v| v.pos)),
        ("targets", e.targets.as_ref().map(|v| v.pos)),
        ("field", e.field.as_ref().map(|v| v.pos)),
        ("pointer", e.pointer.as_ref().map(|v| v.pos)),
        ("cases", e.cases.as_ref().map(|v| v.pos)),
        ("default", e.default.as_ref().map(|v| v.pos)),
        ("send", e.send.as_ref().map(|v| v.pos)),
    ]
    .into_iter()
    .filter_map(|(key, pos)| pos.map(|p| (key, p)))
    .collect()
}

impl<S: GraphState> Declarer<'_, S> {
    pub(super) fn edge(&mut self, edge: &Located<EdgeSpec>) {
        if !self.edge_shape(edge) {
            // left out, or partly: its problems are reported, their consequences are not
            self.suspects.edges_dropped = true;
        }
    }

    /// Declares the edge; false when it (or part of it) could not be declared.
    fn edge_shape(&mut self, edge: &Located<EdgeSpec>) -> bool {
        let e = &edge.value;
        let keys = keys(e);
        let markers: Vec<(&str, Pos)> = keys
            .iter()
            .copied()
            .filter(|(k, _)| matches!(*k, "join" | "router" | "field" | "send"))
            .collect();
        if let [(first, _), (second, pos), ..] = markers[..] {
            self.problem(
                pos,
                format!("an edge has `{first}` and `{second}`: give each edge exactly one of `join`, `router`, `field` or `send` (or none, for a static edge)"),
            );
            return false;
        }
        let shape = match markers.first().map(|(k, _)| *k) {
            Some("join") => Shape::Join,
            Some("router") => Shape::Router,
            Some("field") => Shape::Field,
            Some("send") => Shape::Send,
            _ => Shape::Static,
        };
        let mut ok = true;
        for (key, pos) in &keys {
            if !shape.allows(key) {
                self.problem(
                    *pos,
                    format!("key `{key}` does not belong in {}", shape.describe()),
                );
                ok = false;
            }
        }
        if !ok {
            return false;
        }
        let from = || e.from.as_ref().ok_or("from");
        let result = match shape {
            Shape::Static => {
                e.to.as_ref()
                    .ok_or("to")
                    .and_then(|to| Ok(self.static_edge(from()?, to)))
            }
            Shape::Join => {
                e.to.as_ref()
                    .ok_or("to")
                    .map(|to| self.join(edge.pos, e, to))
            }
            Shape::Router => match (from(), &e.router, &e.targets) {
                (Ok(from), Some(router), Some(targets)) => {
                    self.router_edge(from, router, targets);
                    Ok(true)
                }
                (Err(missing), ..) => Err(missing),
                (_, None, _) => Err("router"),
                (_, _, None) => Err("targets"),
            },
            Shape::Field => from().map(|from| self.field_edge(edge.pos, from, e)),
            Shape::Send => match (from(), &e.send, &e.to) {
                (Ok(from), Some(send), Some(to)) => Ok(self.send_edge(edge.pos, from, send, to)),
                (Err(missing), ..) => Err(missing),
                (_, None, _) => Err("send"),
                (_, _, None) => Err("to"),
            },
        };
        result.unwrap_or_else(|missing| {
            self.problem(
                edge.pos,
                format!("missing key `{missing}` in {}", shape.describe()),
            );
            false
        })
    }

    fn static_edge(&mut self, from: &Located<String>, to: &Located<NodeList>) -> bool {
        self.refer(from);
        let targets = to.items();
        if targets.is_empty() {
            self.problem(to.pos, "`to` lists no nodes: give at least one");
            return false;
        }
        for target in &targets {
            self.refer(target);
            self.graph
                .add_edge(from.value.clone(), target.value.clone());
        }
        true
    }

    fn join(&mut self, pos: Pos, e: &EdgeSpec, to: &Located<NodeList>) -> bool {
        let targets = to.items();
        let [target] = &targets[..] else {
            self.problem(
                to.pos,
                "a join leads to exactly one node: `to` must be a single name",
            );
            return false;
        };
        let sources = e.join.as_ref().map(|j| j.value.clone()).unwrap_or_default();
        self.refer_all(&sources);
        self.refer(target);
        self.index.joins.push((target.value.clone(), pos));
        self.graph
            .add_join(sources.into_iter().map(|s| s.value), target.value.clone());
        true
    }

    fn router_edge(
        &mut self,
        from: &Located<String>,
        router: &Located<String>,
        targets: &Located<Targets>,
    ) {
        self.refer(from);
        let targets: Vec<RouteTarget> = match &targets.value {
            Targets::List(nodes) => {
                self.refer_all(nodes);
                nodes
                    .iter()
                    .map(|n| RouteTarget::from(n.value.clone()))
                    .collect()
            }
            Targets::Map(entries) => entries
                .iter()
                .map(|(label, node)| {
                    self.refer(node);
                    RouteTarget::from((label.value.clone(), node.value.clone()))
                })
                .collect(),
        };
        self.index
            .routers
            .push((from.value.clone(), router.value.clone(), router.pos));
        let name = router.value.clone();
        match self.registry.shared_router(&name) {
            Some(found) => {
                self.graph
                    .add_conditional_edges(from.value.clone(), name, found, targets);
            }
            None => {
                if self.mode == Mode::Strict {
                    let message = format!(
                        "unknown router `{name}`; {}",
                        listing("routers", self.registry.routers(), "Registry::router")
                    );
                    self.problem(router.pos, message);
                }
                let first = FirstTarget(targets.first().map(|t| t.label.clone()));
                self.graph
                    .add_conditional_edges(from.value.clone(), name, first, targets);
            }
        }
    }

    fn field_edge(&mut self, pos: Pos, from: &Located<String>, e: &EdgeSpec) -> bool {
        let (Some(field), Some(cases)) = (&e.field, &e.cases) else {
            let missing = if e.field.is_none() { "field" } else { "cases" };
            self.problem(
                pos,
                format!("missing key `{missing}` in {}", Shape::Field.describe()),
            );
            return false;
        };
        self.refer(from);
        let fields: Vec<&str> = S::fields().iter().map(|f| f.name).collect();
        // a hand-written state may list no fields; its routes are then checked only at run time
        if self.mode == Mode::Strict && !fields.is_empty() && !fields.contains(&field.as_str()) {
            let message = format!(
                "the state has no field `{}`; its fields: {}",
                field.value,
                fields.join(", ")
            );
            self.problem(field.pos, message);
        }
        let pointer = e.pointer.as_ref().map(|p| p.value.clone());
        if let Some(p) = &e.pointer {
            if !p.value.is_empty() && !p.value.starts_with('/') {
                self.problem(
                    p.pos,
                    format!(
                        "`{}` is not a JSON pointer: start it with `/`, as in `/action`",
                        p.value
                    ),
                );
            }
        }
        let name = field_router_name(&field.value, pointer.as_deref());
        let mut router = FieldRouter::<S>::new(field.value.clone(), pointer);
        let mut labels: Vec<String> = Vec::new();
        let mut complete = true;
        for case in &cases.value {
            let Some(when) = self.comparison(case) else {
                complete = false;
                continue;
            };
            self.refer(&case.value.to);
            let to = case.value.to.value.clone();
            router = router.case(when, to.clone());
            if !labels.contains(&to) {
                labels.push(to);
            }
        }
        if let Some(default) = &e.default {
            self.refer(default);
            router = router.otherwise(default.value.clone());
            if !labels.contains(&default.value) {
                labels.push(default.value.clone());
            }
        }
        self.index
            .routers
            .push((from.value.clone(), name.clone(), field.pos));
        self.graph
            .add_conditional_edges(from.value.clone(), name, router, labels);
        complete
    }

    fn comparison(&mut self, case: &Located<CaseSpec>) -> Option<Comparison> {
        let c = &case.value;
        let mut found: Vec<(&str, Comparison)> = Vec::new();
        if let Some(v) = &c.equals {
            found.push(("equals", Comparison::Equals(v.value.clone())));
        }
        if let Some(v) = &c.not_equals {
            found.push(("not_equals", Comparison::NotEquals(v.value.clone())));
        }
        if let Some(v) = &c.in_ {
            found.push(("in", Comparison::In(v.value.clone())));
        }
        for (key, value, make) in [
            ("gt", &c.gt, Comparison::Gt as fn(f64) -> Comparison),
            ("gte", &c.gte, Comparison::Gte),
            ("lt", &c.lt, Comparison::Lt),
            ("lte", &c.lte, Comparison::Lte),
        ] {
            if let Some(v) = value {
                found.push((key, make(v.value)));
            }
        }
        if let Some(truthy) = &c.truthy {
            if !truthy.value {
                self.problem(truthy.pos, "`truthy: false` is not a comparison: write `truthy: true`, and route the other values with a later case or `default`");
                return None;
            }
            found.push(("truthy", Comparison::Truthy));
        }
        match found.len() {
            1 => found.pop().map(|(_, comparison)| comparison),
            0 => {
                self.problem(case.pos, "a case needs one comparison: equals, not_equals, in, gt, gte, lt, lte or truthy");
                None
            }
            _ => {
                let keys: Vec<String> = found.iter().map(|(k, _)| format!("`{k}`")).collect();
                self.problem(
                    case.pos,
                    format!("a case has {}: give each case exactly one comparison (split it into several cases)", keys.join(" and ")),
                );
                None
            }
        }
    }

    fn send_edge(
        &mut self,
        pos: Pos,
        from: &Located<String>,
        send: &Located<String>,
        to: &Located<NodeList>,
    ) -> bool {
        let targets = to.items();
        let [target] = &targets[..] else {
            self.problem(
                to.pos,
                "a send edge leads to exactly one map node: `to` must be a single name",
            );
            return false;
        };
        self.refer(from);
        self.refer(target);
        let name = send.value.as_str();
        self.index.sends.push((
            from.value.clone(),
            name.to_owned(),
            target.value.clone(),
            pos,
        ));
        if self
            .registry
            .add_send(&mut self.graph, from.as_str(), name, target.as_str())
        {
            return true;
        }
        if self.mode == Mode::Strict {
            let message = format!(
                "unknown send `{name}`; {}",
                listing("sends", self.registry.sends(), "Registry::send")
            );
            self.problem(send.pos, message);
            self.suspects.sends.insert(name.to_owned());
        }
        self.graph
            .add_send(from.value.clone(), name, target.value.clone(), |_: &S| {
                Vec::<serde_json::Value>::new()
            });
        true
    }
}
