//! Stage 2: syntax trees (with the stdlib files they use) → one resolved, typed IR.
//!
//! Entities, fields, relations, resources and policies live in typed arenas in declaration
//! order; a petgraph graph over entities answers the graph questions (migration order,
//! foreign-key cycles). Every problem found is reported; resolution never stops early.

mod dump;
mod entities;
mod exprs;
mod graph;
pub mod model;
pub mod names;
mod resolve;
mod resources;
mod settings;

pub(crate) use dump::auth_rule as rule_text;
pub use dump::dump;
pub use graph::{Graph, to_dot, to_mermaid};
pub use model::*;

use crate::diagnostics::Diagnostic;
use crate::syntax::ast;

/// The resolved spec.
#[derive(Debug, Clone)]
pub struct Ir {
    pub service: Service,
    pub auth: Option<Auth>,
    pub enums: Vec<Enum>,
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
    pub collections: Vec<Collection>,
    pub policies: Vec<Policy>,
    pub rates: Vec<RatePolicy>,
    pub caches: Vec<CachePolicy>,
    pub events: Vec<Event>,
    pub resources: Vec<Resource>,
    pub graph: Graph,
}

/// Resolves parsed files into the IR. The IR is complete as far as the spec allows even
/// when diagnostics are returned; callers stop before lowering if any is an error.
pub fn lower(files: &[ast::File]) -> (Ir, Vec<Diagnostic>) {
    resolve::resolve(files)
}

impl Ir {
    pub fn entity(&self, id: EntityId) -> &Entity {
        &self.entities[id.index()]
    }

    pub fn entity_id(&self, name: &str) -> Option<EntityId> {
        self.entities
            .iter()
            .position(|e| e.name == name)
            .map(|i| EntityId(u32::try_from(i).unwrap_or(u32::MAX)))
    }

    pub fn enum_(&self, id: EnumId) -> &Enum {
        &self.enums[id.index()]
    }

    pub fn relation(&self, id: RelationId) -> &Relation {
        &self.relations[id.index()]
    }

    pub fn collection(&self, id: CollectionId) -> &Collection {
        &self.collections[id.index()]
    }

    pub fn resource(&self, id: ResourceId) -> &Resource {
        &self.resources[id.index()]
    }

    pub fn rate(&self, id: RateId) -> &RatePolicy {
        &self.rates[id.index()]
    }

    pub fn cache(&self, id: CacheId) -> &CachePolicy {
        &self.caches[id.index()]
    }

    pub fn event(&self, id: EventId) -> &Event {
        &self.events[id.index()]
    }

    pub fn operation(&self, op: OpRef) -> &Operation {
        &self.resource(op.resource).operations[op.op]
    }

    /// Whether any operation publishes domain events, which gives the service an outbox.
    pub fn emits_events(&self) -> bool {
        self.resources
            .iter()
            .flat_map(|r| &r.operations)
            .any(|op| !op.emits.is_empty())
    }

    /// Relations declared by `entity` (its foreign keys).
    pub fn relations_from(
        &self,
        entity: EntityId,
    ) -> impl Iterator<Item = (RelationId, &Relation)> {
        self.relations
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.from == entity)
            .map(|(i, r)| (RelationId(id32(i)), r))
    }

    /// Relations pointing at `entity`: its inverse side.
    pub fn relations_to(&self, entity: EntityId) -> impl Iterator<Item = (RelationId, &Relation)> {
        self.relations
            .iter()
            .enumerate()
            .filter(move |(_, r)| r.to == entity)
            .map(|(i, r)| (RelationId(id32(i)), r))
    }

    /// Every operation, with its reference.
    pub fn operations(&self) -> impl Iterator<Item = (OpRef, &Resource, &Operation)> {
        self.resources.iter().enumerate().flat_map(|(ri, r)| {
            r.operations.iter().enumerate().map(move |(oi, op)| {
                (
                    OpRef {
                        resource: ResourceId(id32(ri)),
                        op: oi,
                    },
                    r,
                    op,
                )
            })
        })
    }

    /// Operations that write rows of `entity`: what a cached read of it must be invalidated by.
    pub fn writers_of(&self, entity: EntityId) -> Vec<OpRef> {
        self.operations()
            .filter(|(_, r, op)| {
                op.kind.writes()
                    && (r.entity == entity || op.link.as_ref().is_some_and(|l| l.through == entity))
            })
            .map(|(op, _, _)| op)
            .collect()
    }

    /// Entities in foreign-key dependency order: every entity after the ones it references.
    pub fn tables_in_dependency_order(&self) -> Vec<EntityId> {
        self.graph.dependency_order(self)
    }

    /// `resource.operation`, for messages and docs.
    pub fn op_name(&self, op: OpRef) -> String {
        format!(
            "{}.{}",
            self.resource(op.resource).name,
            self.operation(op).name
        )
    }

    /// `Entity.field.field` for a path, for messages and docs.
    pub fn path_name(&self, path: &FieldPath) -> String {
        let mut out = self.entity(path.root).name.clone();
        for step in &path.steps {
            out.push('.');
            out.push_str(self.step_name(*step));
        }
        out
    }

    pub fn step_name(&self, step: Step) -> &str {
        match step {
            Step::Field { entity, field } => &self.entity(entity).fields[field].name,
            Step::Collection(c) => &self.collection(c).name,
        }
    }
}

pub(crate) fn id32(i: usize) -> u32 {
    // Arenas are bounded by the size of the source text, far below u32::MAX.
    u32::try_from(i).unwrap_or(u32::MAX)
}
