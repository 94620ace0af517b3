//! Response shapes: a resource's views and computed fields. A shape other than the plain
//! record gets a struct and a `present_<shape>` function in the resource's service module
//! that loads what the shape needs for a whole page at once (one query per collection,
//! count, `auth.user in ...` test or embedded resource, never one per record).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::authz;
use super::repo::{self, Condition, RepoSpec};
use super::types::{self, ident, type_ident};
use crate::ir::{
    CmpOp, CollectionId, CollectionKind, Computed, EntityId, Expr, FieldPath, FilterOp, Ir,
    Operation, ResourceId, Step,
};

/// What an operation answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The domain record itself.
    Record,
    /// A named view (`Some(index)`), or all visible fields with the computed ones (`None`).
    View(Option<usize>),
}

/// The shape of a resource's responses by default.
pub fn default_shape(ir: &Ir, resource: ResourceId) -> Shape {
    let r = ir.resource(resource);
    match r.default_view {
        Some(v) => Shape::View(Some(v)),
        None if !r.computed.is_empty() => Shape::View(None),
        None if has_written_collections(ir, r.entity) => Shape::View(None),
        None => Shape::Record,
    }
}

fn has_written_collections(ir: &Ir, entity: EntityId) -> bool {
    ir.entity(entity)
        .collections
        .iter()
        .any(|c| ir.collection(*c).write_by.is_some())
}

/// The shape an operation answers with.
pub fn shape_of(ir: &Ir, resource: ResourceId, op: &Operation) -> Shape {
    op.view
        .map_or_else(|| default_shape(ir, resource), |v| Shape::View(Some(v)))
}

/// One member of a shape, in response order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Item {
    Stored(usize),
    Collection(CollectionId),
    Computed(usize),
}

pub(crate) fn items(ir: &Ir, resource: ResourceId, view: Option<usize>) -> Vec<Item> {
    let r = ir.resource(resource);
    let entity = ir.entity(r.entity);
    match view {
        Some(v) => {
            let v = &r.views[v];
            let mut out: Vec<Item> = v
                .fields
                .iter()
                .filter(|i| !types::hidden(entity, **i, &entity.fields[**i]))
                .map(|i| Item::Stored(*i))
                .collect();
            out.extend(v.collections.iter().map(|c| Item::Collection(*c)));
            out.extend(v.computed.iter().map(|c| Item::Computed(*c)));
            out
        }
        None => {
            // Every visible field, a computed field of the same name in its place, then
            // the other computed fields.
            let mut out = Vec::new();
            let mut placed = Vec::new();
            for (i, f) in types::record_fields(entity) {
                if types::hidden(entity, i, f) {
                    continue;
                }
                match r.computed.iter().position(|c| c.name == f.name) {
                    Some(c) => {
                        out.push(Item::Computed(c));
                        placed.push(c);
                    }
                    None => out.push(Item::Stored(i)),
                }
            }
            // Collections clients write by value are read back the same way.
            out.extend(
                entity
                    .collections
                    .iter()
                    .filter(|c| ir.collection(**c).write_by.is_some())
                    .map(|c| Item::Collection(*c)),
            );
            out.extend(
                (0..r.computed.len())
                    .filter(|c| !placed.contains(c))
                    .map(Item::Computed),
            );
            out
        }
    }
}

/// The Rust names of a shape: its struct and its presenter.
pub fn names(ir: &Ir, resource: ResourceId, shape: Shape) -> (syn::Ident, syn::Ident) {
    let r = ir.resource(resource);
    let base = match shape {
        Shape::View(Some(v)) => r.views[v].name.clone(),
        _ => format!("{}_view", ir.entity(r.entity).name),
    };
    (
        type_ident(&base),
        format_ident!("present_{}", crate::ir::names::snake_case(&base)),
    )
}

/// Whether presenting the shape looks at the caller (so callers must pass it).
pub fn uses_caller(ir: &Ir, resource: ResourceId, shape: Shape) -> bool {
    let Shape::View(view) = shape else {
        return false;
    };
    let r = ir.resource(resource);
    items(ir, resource, view).iter().any(|item| match item {
        Item::Computed(c) => expr_uses_caller(ir, &r.computed[*c].expr),
        _ => false,
    })
}

fn expr_uses_caller(ir: &Ir, e: &Expr) -> bool {
    match e {
        Expr::Caller(_) => true,
        Expr::Compare { lhs, rhs, .. } => expr_uses_caller(ir, lhs) || expr_uses_caller(ir, rhs),
        Expr::And(v) | Expr::Or(v) => v.iter().any(|e| expr_uses_caller(ir, e)),
        Expr::Not(e) => expr_uses_caller(ir, e),
        Expr::Embed { resource, .. } => uses_caller(ir, *resource, default_shape(ir, *resource)),
        _ => false,
    }
}

/// The struct and presenter of one shape of a resource; the repository functions they
/// call are recorded in `repos`.
pub fn presenter(
    ir: &Ir,
    resource: ResourceId,
    view: Option<usize>,
    repos: &mut Vec<(EntityId, RepoSpec)>,
) -> Result<TokenStream, String> {
    let r = ir.resource(resource);
    let entity_id = r.entity;
    let entity = ir.entity(entity_id);
    let record = type_ident(&entity.name);
    let pk = types::primary_key(entity).ok_or("a view of an entity without a one-column key")?;
    let pk_name = ident(&pk.name);
    let key_ty = types::value_type(ir, &pk.ty);
    let (name, present) = names(ir, resource, Shape::View(view));
    let uses_caller = uses_caller(ir, resource, Shape::View(view));
    let mut fields = Vec::new();
    let mut loads = Vec::new();
    let mut inits = Vec::new();
    let mut needs_keys = false;
    let mut fallible = false;
    for item in items(ir, resource, view) {
        let code = match item {
            Item::Stored(i) => {
                let f = &entity.fields[i];
                let field = ident(&f.name);
                let ty = types::field_type(ir, f);
                let rename = types::serde_rename(ir, f);
                let doc = types::docs(&f.docs);
                ItemCode {
                    decl: quote!(#doc #rename pub #field: #ty,),
                    load: None,
                    needs_keys: false,
                    init: quote!(#field: record.#field,),
                    fallible: false,
                }
            }
            Item::Collection(c) => collection_item(ir, c, &pk_name, repos)?,
            Item::Computed(k) => computed_item(ir, entity_id, &r.computed[k], &pk_name, repos)?,
        };
        fields.push(code.decl);
        loads.extend(code.load);
        inits.push(code.init);
        needs_keys |= code.needs_keys;
        fallible |= code.fallible;
    }
    let keys = needs_keys.then(
        || quote!(let keys: Vec<#key_ty> = records.iter().map(|record| record.#pk_name).collect();),
    );
    let state = if loads.is_empty() {
        quote!(_state: &AppState,)
    } else {
        quote!(state: &AppState,)
    };
    let caller = uses_caller.then(|| quote!(caller: Option<&Caller>,));
    let doc = format!(
        " The {} of a `{}` as responses carry it.",
        view.map_or_else(
            || "default shape".to_string(),
            |v| format!("`{}` view", r.views[v].name)
        ),
        entity.name
    );
    let present_doc =
        format!(" Shapes records as `{name}`, loading related data for all of them at once.");
    let shaped = if fallible {
        quote!(records.into_iter().map(|record| Ok(#name { #(#inits)* })).collect())
    } else {
        quote!(Ok(records.into_iter().map(|record| #name { #(#inits)* }).collect()))
    };
    Ok(quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, serde::Serialize)]
        pub struct #name {
            #(#fields)*
        }

        #[doc = #present_doc]
        pub async fn #present(#state #caller records: Vec<#record>) -> Result<Vec<#name>, AppError> {
            #keys
            #(#loads)*
            #shaped
        }
    })
}

/// One member of a shape: its struct field, what to load for the page, and its value per
/// record.
struct ItemCode {
    decl: TokenStream,
    load: Option<TokenStream>,
    needs_keys: bool,
    init: TokenStream,
    /// The value can fail (a referenced row missing), so records map to `Result`.
    fallible: bool,
}

/// A collection in a view: the related rows' `@write_by` values (or keys).
fn collection_item(
    ir: &Ir,
    c: CollectionId,
    pk_name: &syn::Ident,
    repos: &mut Vec<(EntityId, RepoSpec)>,
) -> Result<ItemCode, String> {
    let collection = ir.collection(c);
    let owner = collection.owner;
    let name = ident(&collection.name);
    let rename = types::collection_rename(ir, c);
    let value_ty =
        repo::collection_value_type(ir, c).ok_or("a collection of a composite-key entity")?;
    authz::spec_of(repos, owner).add_collection(c);
    let module = repo::module(ir, owner);
    let load_fn = format_ident!("{}_of", collection.name);
    let var = format_ident!("{}_by_key", collection.name);
    Ok(ItemCode {
        decl: quote!(#rename pub #name: Vec<#value_ty>,),
        load: Some(quote! {
            let mut #var = crate::service::group(crate::repo::#module::#load_fn(&state.db, &keys).await?);
        }),
        needs_keys: true,
        init: quote!(#name: #var.remove(&record.#pk_name).unwrap_or_default(),),
        fallible: false,
    })
}

/// A computed field.
fn computed_item(
    ir: &Ir,
    entity: EntityId,
    computed: &Computed,
    pk_name: &syn::Ident,
    repos: &mut Vec<(EntityId, RepoSpec)>,
) -> Result<ItemCode, String> {
    let field = ident(&computed.name);
    let json = types::json_case(ir, &computed.name);
    let rename = (json != computed.name).then(|| quote!(#[serde(rename = #json)]));
    let module = repo::module(ir, entity);
    let unsupported = || format!("the computed field `{}`", computed.name);
    let item = |ty: TokenStream, load: Option<TokenStream>, needs_keys: bool, init: TokenStream| {
        ItemCode {
            decl: quote!(#rename pub #field: #ty,),
            load,
            needs_keys,
            init,
            fallible: false,
        }
    };
    match &computed.expr {
        // `auth.user in favorites.user`: the records whose related rows include the caller.
        Expr::Compare {
            op: CmpOp::In,
            lhs,
            rhs,
        } if matches!(lhs.as_ref(), Expr::Caller(steps) if steps.is_empty()) => {
            let Expr::Field(path) = rhs.as_ref() else {
                return Err(unsupported());
            };
            let path = ending_at_key(ir, path).ok_or_else(unsupported)?;
            let condition = Condition::new(path, FilterOp::Eq);
            let variant = condition.variant(ir);
            let spec = authz::spec_of(repos, entity);
            spec.add_condition(condition);
            spec.matching = true;
            let var = format_ident!("{}_keys", computed.name);
            Ok(item(
                quote!(bool),
                Some(quote! {
                    let #var = match caller {
                        Some(c) => crate::repo::#module::matching(&state.db, &keys, &crate::repo::#module::Filter::#variant(c.id)).await?,
                        None => std::collections::HashSet::new(),
                    };
                }),
                true,
                quote!(#field: #var.contains(&record.#pk_name),),
            ))
        }
        // `count(favorites)`.
        Expr::Count(path) => {
            let [Step::Collection(c)] = path.steps.as_slice() else {
                return Err(unsupported());
            };
            authz::spec_of(repos, entity).add_count(*c);
            let load_fn = format_ident!("count_{}", ir.collection(*c).name);
            let var = format_ident!("{}_by_key", computed.name);
            Ok(item(
                quote!(i64),
                Some(quote! {
                    let #var: std::collections::HashMap<_, i64> = crate::repo::#module::#load_fn(&state.db, &keys).await?.into_iter().collect();
                }),
                true,
                quote!(#field: #var.get(&record.#pk_name).copied().unwrap_or(0),),
            ))
        }
        // `embed(author, profiles)`: the related record in the other resource's shape.
        Expr::Embed { path, resource } => embed_item(ir, entity, computed, path, *resource, repos),
        // `artist == auth.user`: per record, no query.
        Expr::Compare { op, lhs, rhs } if matches!(op, CmpOp::Eq | CmpOp::Ne) => {
            let path = match (lhs.as_ref(), rhs.as_ref()) {
                (Expr::Field(p), Expr::Caller(s)) | (Expr::Caller(s), Expr::Field(p))
                    if s.is_empty() =>
                {
                    p
                }
                _ => return Err(unsupported()),
            };
            let [Step::Field { field: f, .. }] = path.steps.as_slice() else {
                return Err(unsupported());
            };
            let fname = ident(&ir.entity(entity).fields[*f].name);
            let compare = if *op == CmpOp::Eq {
                quote!(caller.is_some_and(|c| record.#fname == c.id))
            } else {
                quote!(!caller.is_some_and(|c| record.#fname == c.id))
            };
            Ok(item(quote!(bool), None, false, quote!(#field: #compare,)))
        }
        _ => Err(unsupported()),
    }
}

/// `embed(ref_field, resource)`: loads the referenced rows of the page in one query and
/// shapes them as that resource does.
fn embed_item(
    ir: &Ir,
    entity: EntityId,
    computed: &Computed,
    path: &FieldPath,
    resource: ResourceId,
    repos: &mut Vec<(EntityId, RepoSpec)>,
) -> Result<ItemCode, String> {
    let unsupported = || format!("the computed field `{}`", computed.name);
    let [
        Step::Field {
            field: ref_field, ..
        },
    ] = path.steps.as_slice()
    else {
        return Err(unsupported());
    };
    let f = &ir.entity(entity).fields[*ref_field];
    let crate::ir::FieldType::Ref(target) = f.ty else {
        return Err(unsupported());
    };
    let target_entity = ir.entity(target);
    let target_pk = ident(
        &types::primary_key(target_entity)
            .ok_or_else(unsupported)?
            .name,
    );
    authz::spec_of(repos, target).find_many = true;
    let target_module = repo::module(ir, target);
    let shape = default_shape(ir, resource);
    let target_resource = ident(&ir.resource(resource).name);
    let ref_name = ident(&f.name);
    let field = ident(&computed.name);
    let json = types::json_case(ir, &computed.name);
    let rename = (json != computed.name).then(|| quote!(#[serde(rename = #json)]));
    let ids = format_ident!("{}_ids", computed.name);
    let rows = format_ident!("{}_rows", computed.name);
    let row_keys = format_ident!("{}_keys", computed.name);
    let var = format_ident!("{}_by_key", computed.name);
    let (ty, shaped) = match shape {
        Shape::Record => {
            let record = type_ident(&target_entity.name);
            (quote!(crate::domain::#record), quote!(#rows))
        }
        Shape::View(_) => {
            let (ty, present) = names(ir, resource, shape);
            let caller = uses_caller(ir, resource, shape).then(|| quote!(caller,));
            (
                quote!(crate::service::#target_resource::#ty),
                quote!(crate::service::#target_resource::#present(state, #caller #rows).await?),
            )
        }
    };
    let (collect_ids, value, value_ty) = if f.optional {
        (
            quote!(records.iter().filter_map(|record| record.#ref_name).collect()),
            quote!(record.#ref_name.and_then(|key| #var.get(&key).cloned())),
            quote!(Option<#ty>),
        )
    } else {
        (
            quote!(records.iter().map(|record| record.#ref_name).collect()),
            quote! {
                #var.get(&record.#ref_name).cloned().ok_or_else(|| AppError::Internal("a referenced row is missing".to_owned()))?
            },
            ty,
        )
    };
    Ok(ItemCode {
        decl: quote!(#rename pub #field: #value_ty,),
        load: Some(quote! {
            let #ids: Vec<_> = #collect_ids;
            let #rows = crate::repo::#target_module::find_many(&state.db, &#ids).await?;
            let #row_keys: Vec<_> = #rows.iter().map(|row| row.#target_pk).collect();
            let #var: std::collections::HashMap<_, _> = #row_keys.into_iter().zip(#shaped).collect();
        }),
        needs_keys: false,
        init: quote!(#field: #value,),
        fallible: !f.optional,
    })
}

/// A path that ends at a collection of rows gets a last step to those rows' key, so it
/// can be compared with the caller's id.
fn ending_at_key(ir: &Ir, path: &FieldPath) -> Option<FieldPath> {
    let mut steps = path.steps.clone();
    if let Some(Step::Collection(c)) = steps.last() {
        let target = match &ir.collection(*c).kind {
            CollectionKind::Inverse { relation } => ir.relation(*relation).from,
            CollectionKind::ManyToMany { far, .. } => ir.relation(*far).to,
        };
        let pk = *ir.entity(target).primary_key.first()?;
        steps.push(Step::Field {
            entity: target,
            field: pk,
        });
    }
    Some(FieldPath {
        root: path.root,
        steps,
    })
}
