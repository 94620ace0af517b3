//! The entity graph: an index over relations for migration order, foreign-key cycles and
//! cascade reach, and its Graphviz / Mermaid renderings for `svcc graph`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use super::model::*;
use super::{Ir, id32};
use crate::diagnostics::{Code, Diagnostic};

/// Entities as nodes, one edge per foreign key from the referencing entity to the referenced.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    inner: DiGraph<EntityId, RelationId>,
}

impl Graph {
    pub(super) fn build(ir: &Ir) -> Self {
        let mut inner = DiGraph::with_capacity(ir.entities.len(), ir.relations.len());
        for i in 0..ir.entities.len() {
            inner.add_node(EntityId(id32(i)));
        }
        for (i, r) in ir.relations.iter().enumerate() {
            inner.add_edge(node(r.from), node(r.to), RelationId(id32(i)));
        }
        Self { inner }
    }

    /// Referenced entities before referencing ones; ties and cycles in declaration order.
    pub(super) fn dependency_order(&self, ir: &Ir) -> Vec<EntityId> {
        let mut done: BTreeSet<usize> = BTreeSet::new();
        let mut order = Vec::with_capacity(ir.entities.len());
        while order.len() < ir.entities.len() {
            let ready = (0..ir.entities.len())
                .filter(|i| !done.contains(i))
                .find(|&i| {
                    self.inner
                        .edges(NodeIndex::new(i))
                        .all(|e| e.target().index() == i || done.contains(&e.target().index()))
                });
            // In a cycle nothing is ready: take the first remaining entity; its foreign key
            // to a later table is added once that table exists.
            let next = ready.or_else(|| (0..ir.entities.len()).find(|i| !done.contains(i)));
            let Some(next) = next else { break };
            done.insert(next);
            order.push(EntityId(id32(next)));
        }
        order
    }

    /// Cycles of required references: no row of any entity in them can be inserted first.
    pub(super) fn cycle_errors(&self, ir: &Ir) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for scc in tarjan_scc(&self.inner) {
            let members: BTreeSet<usize> = scc.iter().map(|n| n.index()).collect();
            let inner: Vec<RelationId> = self
                .inner
                .edge_references()
                .filter(|e| {
                    members.contains(&e.source().index()) && members.contains(&e.target().index())
                })
                .map(|e| *e.weight())
                .collect();
            let cyclic = members.len() > 1 || !inner.is_empty();
            if !cyclic || inner.iter().any(|r| ir.relation(*r).optional) {
                continue;
            }
            let Some(&first) = inner.iter().min() else {
                continue;
            };
            let mut names: Vec<&str> = members
                .iter()
                .map(|i| ir.entities[*i].name.as_str())
                .collect();
            // Show the loop closing: `Team → Player → Team`.
            if let Some(first) = names.first().copied() {
                names.push(first);
            }
            let mut d = Diagnostic::error(Code::FK_CYCLE, ir.relation(first).span, format!("required references form a cycle: {}", names.join(" → ")))
                .with_label("every reference in the cycle is required")
                .with_help("make one reference optional (`ref X?` with `@on_delete(set_null)`) so a first row can be inserted");
            for r in inner.iter().filter(|r| **r != first) {
                d = d.with_secondary(ir.relation(*r).span, "also part of the cycle");
            }
            out.push(d);
        }
        out
    }

    /// Entities whose rows a delete of `entity` removes through `on_delete(cascade)`.
    pub fn cascade_reach(&self, ir: &Ir, entity: EntityId) -> Vec<EntityId> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![entity];
        while let Some(current) = stack.pop() {
            for e in self
                .inner
                .edges_directed(node(current), petgraph::Direction::Incoming)
            {
                let rel = ir.relation(*e.weight());
                if rel.on_delete == Some(OnDelete::Cascade) && seen.insert(rel.from) {
                    stack.push(rel.from);
                }
            }
        }
        seen.into_iter().collect()
    }
}

fn node(id: EntityId) -> NodeIndex {
    NodeIndex::new(id.index())
}

/// The entity graph in Graphviz DOT.
pub fn to_dot(ir: &Ir) -> String {
    let mut out = format!(
        "digraph {} {{\n  rankdir=LR;\n  node [shape=record];\n",
        quote(&ir.service.name)
    );
    for e in &ir.entities {
        let columns: Vec<String> = e
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, super::dump::type_name(ir, f)))
            .collect();
        let _ = writeln!(
            out,
            "  {} [label=\"{{{}|{}}}\"];",
            quote(&e.name),
            e.name,
            columns.join("\\l").replace('"', "\\\"") + "\\l"
        );
    }
    for r in &ir.relations {
        let field = &ir.entity(r.from).fields[r.field].name;
        let action = r.on_delete.map_or("unspecified", OnDelete::as_str);
        let _ = writeln!(
            out,
            "  {} -> {} [label=\"{field} ({action})\"];",
            quote(&ir.entity(r.from).name),
            quote(&ir.entity(r.to).name)
        );
    }
    out.push_str("}\n");
    out
}

/// The entity graph as a Mermaid ER diagram.
pub fn to_mermaid(ir: &Ir) -> String {
    let mut out = String::from("erDiagram\n");
    for e in &ir.entities {
        let _ = writeln!(out, "  {} {{", e.name);
        for f in &e.fields {
            let key = if f.flags.primary {
                " PK"
            } else if f.relation.is_some() {
                " FK"
            } else if f.flags.unique {
                " UK"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "    {} {}{key}",
                super::dump::type_name(ir, f).replace(['(', ')', ',', ' ', '?'], "_"),
                f.column
            );
        }
        out.push_str("  }\n");
    }
    for r in &ir.relations {
        let cardinality = if r.optional { "|o--o{" } else { "||--o{" };
        let field = &ir.entity(r.from).fields[r.field].name;
        let _ = writeln!(
            out,
            "  {} {cardinality} {} : {field}",
            ir.entity(r.to).name,
            ir.entity(r.from).name
        );
    }
    out
}

fn quote(name: &str) -> String {
    format!("\"{name}\"")
}
