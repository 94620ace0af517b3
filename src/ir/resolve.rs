//! The resolver's driver: collects declarations from every file, then resolves them in an
//! order where every reference target already has an id.

use std::collections::BTreeMap;

use super::model::*;
use super::{Graph, Ir, id32};
use crate::diagnostics::{Code, Diagnostic, did_you_mean};
use crate::source::Span;
use crate::syntax::ast;

/// A declaration with the doc comments written above it.
pub(super) struct Decl<'a, T> {
    pub node: &'a T,
    pub docs: &'a [String],
    pub span: Span,
}

// Manual impls: a derive would demand `T: Copy`, but only references are copied.
impl<T> Clone for Decl<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Decl<'_, T> {}

/// Declarations of one spec, by kind, in declaration order.
#[derive(Default)]
pub(super) struct Decls<'a> {
    pub services: Vec<Decl<'a, ast::Service>>,
    pub auths: Vec<Decl<'a, ast::SettingsItem>>,
    pub entities: Vec<Decl<'a, ast::Entity>>,
    pub mixins: BTreeMap<String, Decl<'a, ast::Entity>>,
    pub enums: Vec<Decl<'a, ast::Enum>>,
    pub aliases: BTreeMap<String, Decl<'a, ast::TypeAlias>>,
    pub resources: Vec<Decl<'a, ast::Resource>>,
    pub policies: BTreeMap<String, Decl<'a, ast::Policy>>,
    pub rates: Vec<Decl<'a, ast::SettingsItem>>,
    pub caches: Vec<Decl<'a, ast::SettingsItem>>,
    pub events: Vec<Decl<'a, ast::Event>>,
}

/// Name → id tables for everything that can be referenced.
#[derive(Default)]
pub(super) struct Names {
    pub entities: BTreeMap<String, EntityId>,
    pub enums: BTreeMap<String, EnumId>,
    pub resources: BTreeMap<String, ResourceId>,
    pub rates: BTreeMap<String, RateId>,
    pub caches: BTreeMap<String, CacheId>,
    pub events: BTreeMap<String, EventId>,
}

pub(super) struct Resolver<'a> {
    pub decls: Decls<'a>,
    pub pending_collections: Vec<super::entities::PendingCollection<'a>>,
    pub pending_directives: Vec<(EntityId, Vec<&'a ast::Member>)>,
    pub names: Names,
    pub diags: Vec<Diagnostic>,
    pub ir: Ir,
}

pub(super) fn resolve(files: &[ast::File]) -> (Ir, Vec<Diagnostic>) {
    let mut r = Resolver {
        decls: Decls::default(),
        pending_collections: Vec::new(),
        pending_directives: Vec::new(),
        names: Names::default(),
        diags: Vec::new(),
        ir: empty_ir(),
    };
    r.collect(files);
    r.assign_ids();
    r.resolve_enums();
    r.resolve_aliases();
    r.resolve_entities();
    r.check_reference_targets();
    r.resolve_collections();
    r.resolve_indexes();
    r.resolve_rates();
    r.resolve_events();
    r.resolve_policies();
    r.resolve_service();
    r.resolve_auth();
    r.resolve_resources();
    r.resolve_caches();
    r.ir.graph = Graph::build(&r.ir);
    r.diags.extend(r.ir.graph.cycle_errors(&r.ir));
    crate::diagnostics::sort(&mut r.diags);
    (r.ir, r.diags)
}

fn empty_ir() -> Ir {
    let span = Span::new(crate::source::FileId(0), 0, 0);
    Ir {
        service: Service {
            name: String::new(),
            docs: Vec::new(),
            version: String::new(),
            base_path: String::new(),
            databases: Vec::new(),
            database_url: Spanned {
                value: ConfigValue::Literal(Value::Null),
                span,
            },
            port: ConfigValue::Literal(Value::Int(8080)),
            cors_origins: None,
            profile: Profile::Production,
            json_case: JsonCase::Snake,
            error_format: ErrorFormat::Structured,
            default_rate: None,
            messages: BTreeMap::new(),
            acknowledged: Vec::new(),
            rule_levels: Vec::new(),
            settings: BTreeMap::new(),
            allows: Vec::new(),
            span,
        },
        auth: None,
        enums: Vec::new(),
        entities: Vec::new(),
        relations: Vec::new(),
        collections: Vec::new(),
        policies: Vec::new(),
        rates: Vec::new(),
        caches: Vec::new(),
        events: Vec::new(),
        resources: Vec::new(),
        graph: Graph::default(),
    }
}

impl<'a> Resolver<'a> {
    pub fn error(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    fn collect(&mut self, files: &'a [ast::File]) {
        let mut seen: BTreeMap<(&'static str, String), Span> = BTreeMap::new();
        for item in files.iter().flat_map(|f| &f.items) {
            let docs = item.docs.as_slice();
            let span = item.span;
            let named = |kind: &'static str, name: &ast::Ident| Some((kind, name.clone()));
            let key = match &item.kind {
                ast::ItemKind::Use(_) => None,
                ast::ItemKind::Service(s) => {
                    self.decls.services.push(Decl {
                        node: s,
                        docs,
                        span,
                    });
                    None
                }
                ast::ItemKind::Entity(e) => {
                    self.decls.entities.push(Decl {
                        node: e,
                        docs,
                        span,
                    });
                    named("type", &e.name)
                }
                ast::ItemKind::Mixin(m) => {
                    self.decls
                        .mixins
                        .entry(m.name.name.clone())
                        .or_insert(Decl {
                            node: m,
                            docs,
                            span,
                        });
                    named("mixin", &m.name)
                }
                ast::ItemKind::Enum(e) => {
                    self.decls.enums.push(Decl {
                        node: e,
                        docs,
                        span,
                    });
                    named("type", &e.name)
                }
                ast::ItemKind::TypeAlias(a) => {
                    self.decls
                        .aliases
                        .entry(a.name.name.clone())
                        .or_insert(Decl {
                            node: a,
                            docs,
                            span,
                        });
                    named("type", &a.name)
                }
                ast::ItemKind::Resource(res) => {
                    self.decls.resources.push(Decl {
                        node: res,
                        docs,
                        span,
                    });
                    named("resource", &res.name)
                }
                ast::ItemKind::Policy(p) => {
                    self.decls
                        .policies
                        .entry(p.name.name.clone())
                        .or_insert(Decl {
                            node: p,
                            docs,
                            span,
                        });
                    named("policy", &p.name)
                }
                ast::ItemKind::Event(e) => {
                    self.decls.events.push(Decl {
                        node: e,
                        docs,
                        span,
                    });
                    named("event", &e.name)
                }
                ast::ItemKind::Settings(s) => self.collect_settings(s, docs, span),
            };
            if let Some((kind, ident)) = key {
                if let Some(first) = seen.get(&(kind, ident.name.clone())) {
                    self.duplicate(kind, &ident, *first);
                } else {
                    seen.insert((kind, ident.name.clone()), ident.span);
                }
            }
        }
        self.dedup_unnamed();
    }

    fn collect_settings(
        &mut self,
        s: &'a ast::SettingsItem,
        docs: &'a [String],
        span: Span,
    ) -> Option<(&'static str, ast::Ident)> {
        let decl = Decl {
            node: s,
            docs,
            span,
        };
        match s.kind {
            ast::SettingsKind::Auth => {
                if let Some(name) = &s.name {
                    self.error(
                        Diagnostic::error(
                            Code::BAD_VALUE,
                            name.span,
                            "the `auth` block takes no name",
                        )
                        .with_label("remove this name")
                        .with_help("write `auth { identity = User ... }`"),
                    );
                }
                self.decls.auths.push(decl);
                None
            }
            ast::SettingsKind::Rate | ast::SettingsKind::Cache => {
                let kind = s.kind.keyword();
                let Some(name) = &s.name else {
                    self.error(
                        Diagnostic::error(
                            Code::MISSING,
                            span,
                            format!("`{kind}` policy without a name"),
                        )
                        .with_label("name it")
                        .with_help(format!(
                            "write `{kind} name {{ ... }}`; operations refer to it by that name"
                        )),
                    );
                    return None;
                };
                if s.kind == ast::SettingsKind::Rate {
                    self.decls.rates.push(decl);
                } else {
                    self.decls.caches.push(decl);
                }
                Some((kind, name.clone()))
            }
        }
    }

    /// `service` and `auth` may appear once per spec.
    fn dedup_unnamed(&mut self) {
        if let [first, rest @ ..] = self.decls.services.as_slice() {
            let first = first.node.name.span;
            let extra: Vec<Span> = rest.iter().map(|d| d.node.name.span).collect();
            for span in extra {
                self.error(
                    Diagnostic::error(
                        Code::DUPLICATE,
                        span,
                        "a spec has exactly one `service` block",
                    )
                    .with_label("second service block")
                    .with_secondary(first, "first declared here")
                    .with_help("merge the settings into the first block"),
                );
            }
        }
        if let [first, rest @ ..] = self.decls.auths.as_slice() {
            let first = first.span;
            let extra: Vec<Span> = rest.iter().map(|d| d.span).collect();
            for span in extra {
                self.error(
                    Diagnostic::error(Code::DUPLICATE, span, "a spec has at most one `auth` block")
                        .with_label("second auth block")
                        .with_secondary(first, "first declared here")
                        .with_help("merge the settings into the first block"),
                );
            }
        }
    }

    pub fn duplicate(&mut self, kind: &str, name: &ast::Ident, first: Span) {
        self.error(
            Diagnostic::error(
                Code::DUPLICATE,
                name.span,
                match kind {
                    // Entities, enums and type aliases share one namespace.
                    "type" => format!("the name `{}` is declared twice", name.name),
                    _ => format!("{kind} `{}` is declared twice", name.name),
                },
            )
            .with_label("declared again here")
            .with_secondary(first, "first declared here")
            .with_help("rename one of them or remove the duplicate"),
        );
    }

    /// Gives every referenceable declaration its id before anything is resolved,
    /// so declarations may refer to each other in any order.
    fn assign_ids(&mut self) {
        for (i, d) in self.decls.entities.iter().enumerate() {
            self.names
                .entities
                .entry(d.node.name.name.clone())
                .or_insert(EntityId(id32(i)));
        }
        for (i, d) in self.decls.enums.iter().enumerate() {
            self.names
                .enums
                .entry(d.node.name.name.clone())
                .or_insert(EnumId(id32(i)));
        }
        // A resource whose entity is unknown gets no id: it is reported and left out of the IR.
        let unknown: Vec<&ast::Path> = self
            .decls
            .resources
            .iter()
            .map(|d| &d.node.entity)
            .filter(|p| !self.names.entities.contains_key(&p.dotted()))
            .collect();
        for path in unknown {
            self.lookup_entity(path);
        }
        self.decls
            .resources
            .retain(|d| self.names.entities.contains_key(&d.node.entity.dotted()));
        for (i, d) in self.decls.resources.iter().enumerate() {
            self.names
                .resources
                .entry(d.node.name.name.clone())
                .or_insert(ResourceId(id32(i)));
        }
        for (i, d) in self.decls.rates.iter().enumerate() {
            let name = d
                .node
                .name
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            self.names.rates.entry(name).or_insert(RateId(id32(i)));
        }
        for (i, d) in self.decls.caches.iter().enumerate() {
            let name = d
                .node
                .name
                .as_ref()
                .map(|n| n.name.clone())
                .unwrap_or_default();
            self.names.caches.entry(name).or_insert(CacheId(id32(i)));
        }
        for (i, d) in self.decls.events.iter().enumerate() {
            self.names
                .events
                .entry(d.node.name.name.clone())
                .or_insert(EventId(id32(i)));
        }
    }

    fn resolve_enums(&mut self) {
        let decls = self.decls.enums.clone();
        for d in decls {
            let mut variants: Vec<String> = Vec::new();
            let mut variant_docs = Vec::new();
            for v in &d.node.variants {
                if variants.contains(&v.name.name) {
                    let first = d
                        .node
                        .variants
                        .iter()
                        .find(|o| o.name.name == v.name.name)
                        .map_or(v.name.span, |o| o.name.span);
                    self.duplicate("variant", &v.name, first);
                } else {
                    variants.push(v.name.name.clone());
                    variant_docs.push(v.docs.clone());
                }
                self.reject_attrs(&v.attrs, "an enum variant");
            }
            if variants.is_empty() {
                self.error(
                    Diagnostic::error(
                        Code::MISSING,
                        d.node.name.span,
                        format!("enum `{}` has no variants", d.node.name.name),
                    )
                    .with_label("empty enum")
                    .with_help("list the variants: `enum Status { draft published }`"),
                );
            }
            self.reject_attrs(&d.node.attrs, "an enum");
            self.ir.enums.push(Enum {
                name: d.node.name.name.clone(),
                docs: d.docs.to_vec(),
                variants,
                variant_docs,
                span: d.node.name.span,
            });
        }
    }

    /// Reports every attribute as unknown where none are accepted.
    pub fn reject_attrs(&mut self, attrs: &[ast::Attribute], place: &str) {
        for a in attrs {
            self.unknown_attr(a, place, &[]);
        }
    }

    pub fn unknown_attr(&mut self, attr: &ast::Attribute, place: &str, known: &[&str]) {
        let help = did_you_mean(&attr.name.name, known.iter().copied()).unwrap_or_else(|| {
            if known.is_empty() {
                format!("{place} takes no attributes")
            } else {
                accepts(place, known.iter().map(|k| format!("@{k}")))
            }
        });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_ATTRIBUTE,
                attr.name.span,
                format!("unknown attribute `@{}` on {place}", attr.name.name),
            )
            .with_label("not known here")
            .with_help(help),
        );
    }

    /// Parses an `@allow(CODE, reason: "...")`.
    pub fn allow(&mut self, attr: &ast::Attribute) -> Option<Allow> {
        let args = attr.args.as_deref().unwrap_or_default();
        let code = args
            .first()
            .filter(|a| a.name.is_none())
            .and_then(|a| match &a.value.kind {
                ast::ExprKind::Path(p) => p.single().map(|i| i.name.clone()),
                ast::ExprKind::Literal(ast::Literal::Str(s)) => Some(s.value.clone()),
                _ => None,
            });
        let Some(code) = code else {
            self.error(
                Diagnostic::error(Code::BAD_ARGUMENTS, attr.span, "`@allow` needs a rule code")
                    .with_label("no rule code")
                    .with_help("write `@allow(SVC201, reason: \"why this is safe\")`"),
            );
            return None;
        };
        let mut reason = None;
        for arg in args.iter().skip(1) {
            match (&arg.name, &arg.value.kind) {
                (Some(n), ast::ExprKind::Literal(ast::Literal::Str(s))) if n.name == "reason" => {
                    reason = Some(s.value.clone())
                }
                _ => self.error(
                    Diagnostic::error(
                        Code::BAD_ARGUMENTS,
                        arg.span,
                        "unexpected argument to `@allow`",
                    )
                    .with_label("expected `reason: \"...\"`")
                    .with_help("write `@allow(SVC201, reason: \"why this is safe\")`"),
                ),
            }
        }
        Some(Allow {
            code,
            reason,
            span: attr.span,
        })
    }

    /// Suggests the closest declared name of a kind.
    pub fn suggest<'n>(
        name: &str,
        candidates: impl IntoIterator<Item = &'n String>,
    ) -> Option<String> {
        did_you_mean(name, candidates.into_iter().map(String::as_str))
    }

    pub fn lookup_entity(&mut self, path: &ast::Path) -> Option<EntityId> {
        let name = path.dotted();
        if let Some(id) = self.names.entities.get(&name) {
            return Some(*id);
        }
        let help = Self::suggest(&name, self.names.entities.keys()).unwrap_or_else(|| {
            "declare it with `entity Name { ... }` or import the file that does with `use`"
                .to_string()
        });
        self.error(
            Diagnostic::error(
                Code::UNKNOWN_ENTITY,
                path.span,
                format!("unknown entity `{name}`"),
            )
            .with_label("not declared")
            .with_help(help),
        );
        None
    }
}

/// `{place} accepts `a`, `b``, for help lines listing what is allowed.
pub(super) fn accepts(
    place: &str,
    items: impl IntoIterator<Item = impl std::fmt::Display>,
) -> String {
    let listed: Vec<String> = items.into_iter().map(|i| format!("`{i}`")).collect();
    format!("{place} accepts {}", listed.join(", "))
}
