//! One spec resource → `src/service/<resource>.rs` (authorization, server-set values,
//! calls into the repository) and `src/http/<resource>.rs` (routes, request parsing and
//! validation, response shape). An operation svcc cannot generate yet answers 501 and the
//! build warns about it (W002), so nothing is silently missing.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::authz::{self, Subject};
use super::events;
use super::file;
use super::input::{self, Mode};
use super::repo::{self, Condition, RepoSpec};
use super::types::{self, ident, type_ident};
use super::view::{self, Shape};
use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::ir::{
    AutoValue, CmpOp, Entity, EntityId, Expr, FieldPath, FieldType, FilterOp, Ir, Method, OpKind,
    Operation, Resource, ResourceId, SortDir, Step,
};

/// The generated code of one resource.
#[derive(Debug, Default)]
pub struct ResourceCode {
    pub service: TokenStream,
    pub http: TokenStream,
    /// `src/handlers/<resource>.rs`, written once, when the resource has actions.
    pub handlers: Option<TokenStream>,
    pub warnings: Vec<Diagnostic>,
    /// Indexes of the operations that answer 501 because they are not generated.
    pub skipped: Vec<usize>,
}

struct Op<'a> {
    ir: &'a Ir,
    resource_id: ResourceId,
    resource: &'a Resource,
    entity: &'a Entity,
    op: &'a Operation,
    /// The operation's position in its resource.
    op_index: usize,
    repos: &'a mut Vec<(EntityId, RepoSpec)>,
    /// Presenters generated so far (by view), shared by the resource's operations.
    presenters: &'a mut Vec<(Option<usize>, TokenStream)>,
}

/// What one operation contributes.
struct Generated {
    service: TokenStream,
    handler: TokenStream,
}

pub fn resource(ir: &Ir, id: ResourceId, repos: &mut Vec<(EntityId, RepoSpec)>) -> ResourceCode {
    let resource = ir.resource(id);
    let entity = ir.entity(resource.entity);
    let module = ident(&resource.name);
    let record = type_ident(&entity.name);
    let mut code = ResourceCode::default();
    let mut services = Vec::new();
    let mut handlers = Vec::new();
    let mut routes: Vec<(String, Vec<(Method, syn::Ident)>)> = Vec::new();
    let mut user_handlers = Vec::new();
    let mut presenters: Vec<(Option<usize>, TokenStream)> = Vec::new();
    authz::spec_of(repos, resource.entity).add_lookup(resource.key);
    for (index, op) in resource.operations.iter().enumerate() {
        let name = ident(&op.name);
        // A link answers POST (link) and DELETE (unlink) on its path.
        let mut methods = vec![(op.method, name.clone())];
        if op.kind == OpKind::Link {
            methods = vec![(Method::Post, name.clone()), (Method::Delete, name.clone())];
        }
        let generated = {
            let mut ctx = Op {
                ir,
                resource_id: id,
                resource,
                entity,
                op,
                op_index: index,
                repos: &mut *repos,
                presenters: &mut presenters,
            };
            ctx.generate()
        };
        match generated {
            Ok(g) => {
                services.push(g.service);
                handlers.push(g.handler);
                if op.kind == OpKind::Link {
                    methods[1].1 = unlink_name(op);
                }
                if op.kind == OpKind::Action
                    && let Some(h) = &op.handler
                {
                    user_handlers.push(user_handler(ir, resource, op, h));
                }
            }
            Err(reason) => {
                code.skipped.push(index);
                handlers.push(not_generated(resource, op, &reason));
                let mut d = Diagnostic::error(
                    Code::NOT_GENERATED,
                    op.span,
                    format!(
                        "`{}.{}` is not generated yet: {reason}",
                        resource.name, op.name
                    ),
                )
                .with_label("answers 501 Not Implemented")
                .with_help("the service builds and runs; this endpoint returns 501 until svcc generates it");
                d.severity = Severity::Warning;
                code.warnings.push(d);
            }
        }
        let path = format!("{}{}", ir.service.base_path.trim_end_matches('/'), op.path);
        match routes.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => existing.extend(methods),
            None => routes.push((path, methods)),
        }
    }
    let route_calls = routes.iter().map(|(path, methods)| {
        let chain = methods.iter().enumerate().map(|(n, (method, handler))| {
            let m = format_ident!("{}", method.as_str().to_ascii_lowercase());
            if n == 0 {
                quote!(routing::#m(#handler))
            } else {
                quote!(.#m(#handler))
            }
        });
        quote!(.route(#path, #(#chain)*))
    });
    let header = format!(" HTTP endpoints of the `{}` resource.", resource.name);
    let service_header = format!(
        " The `{}` resource's operations: authorization, server-set values, persistence.",
        resource.name
    );
    let repo_mod = repo::module(ir, resource.entity);
    let resource_docs = types::docs(&resource.docs);
    let router_and_handlers = quote! {
        #resource_docs
        pub fn router() -> Router<AppState> {
            Router::new()
                #(#route_calls)*
        }

        #(#handlers)*
    };
    // One scan of the handlers finds both the imports and the field patterns they use.
    let patterned: Vec<(usize, String)> = (entity.fields.iter().enumerate())
        .filter(|(_, f)| f.pattern.is_some())
        .map(|(i, f)| (i, input::pattern_static(f).to_string()))
        .collect();
    let http_candidates = [
        (
            "Router",
            quote!(
                use axum::Router;
            ),
        ),
        (
            "State",
            quote!(
                use axum::extract::State;
            ),
        ),
        (
            "StatusCode",
            quote!(
                use axum::http::StatusCode;
            ),
        ),
        (
            "into_response",
            quote!(
                use axum::response::IntoResponse;
            ),
        ),
        (
            "Response",
            quote!(
                use axum::response::Response;
            ),
        ),
        (
            "routing",
            quote!(
                use axum::routing;
            ),
        ),
        (
            "Caller",
            quote!(
                use crate::auth::Caller;
            ),
        ),
        (
            "MaybeCaller",
            quote!(
                use crate::auth::MaybeCaller;
            ),
        ),
        (
            "AppError",
            quote!(
                use crate::error::AppError;
            ),
        ),
        (
            "AppJson",
            quote!(
                use crate::extract::AppJson;
            ),
        ),
        (
            "AppPath",
            quote!(
                use crate::extract::AppPath;
            ),
        ),
        (
            "AppQuery",
            quote!(
                use crate::extract::AppQuery;
            ),
        ),
        (
            "respond",
            quote!(
                use crate::http::respond;
            ),
        ),
        (
            "respond_list",
            quote!(
                use crate::http::respond_list;
            ),
        ),
        ("service", quote!(use crate::service::#module as service;)),
        (
            "AppState",
            quote!(
                use crate::state::AppState;
            ),
        ),
    ];
    let names: Vec<&str> = (http_candidates.iter().map(|(name, _)| *name))
        .chain(patterned.iter().map(|(_, name)| name.as_str()))
        .collect();
    let found = file::mentions(&router_and_handlers, &names);
    let (imported, patterns) = found.split_at(http_candidates.len());
    let http_imports = imports_found(&http_candidates, imported);
    let checked: Vec<usize> = (patterned.iter().zip(patterns))
        .filter(|(_, found)| **found)
        .map(|((i, _), _)| *i)
        .collect();
    let statics = input::pattern_statics(entity, &checked);
    code.http = quote! {
        #![doc = #header]

        #http_imports

        #statics
        #router_and_handlers
    };
    // Other resources embed this one in its default shape, so that presenter always exists.
    if let Shape::View(view) = view::default_shape(ir, id)
        && !presenters.iter().any(|(v, _)| *v == view)
        && let Ok(code) = view::presenter(ir, id, view, repos)
    {
        presenters.push((view, code));
    }
    let presenters = presenters.into_iter().map(|(_, code)| code);
    let services = quote!(#(#presenters)* #(#services)*);
    let service_candidates = [
        (
            "Caller",
            quote!(
                use crate::auth::Caller;
            ),
        ),
        (&record.to_string(), quote!(use crate::domain::#record;)),
        (
            "AppError",
            quote!(
                use crate::error::AppError;
            ),
        ),
        ("repo", quote!(use crate::repo::#repo_mod as repo;)),
        (
            "AppState",
            quote!(
                use crate::state::AppState;
            ),
        ),
    ];
    let names: Vec<&str> = service_candidates.iter().map(|(name, _)| *name).collect();
    let service_imports = imports_found(&service_candidates, &file::mentions(&services, &names));
    code.service = quote! {
        #![doc = #service_header]

        #service_imports

        #services
    };
    if !user_handlers.is_empty() {
        let header = format!(
            " Hand-written actions of the `{}` resource. svcc created this file once and never\n overwrites it: it is yours. The generated code loads and authorizes the record, then\n calls these functions; an action that publishes events gets the transaction they are\n recorded in, for its own writes. A changed signature is a compile error here.",
            resource.name
        );
        let tx = resource
            .operations
            .iter()
            .any(|op| op.kind == OpKind::Action && !op.emits.is_empty())
            .then(|| {
                quote!(
                    use crate::db::Tx;
                )
            });
        code.handlers = Some(quote! {
            #![doc = #header]

            use crate::auth::Caller;
            #tx
            use crate::domain::#record;
            use crate::error::AppError;
            use crate::state::AppState;

            #(#user_handlers)*
        });
    }
    code
}

fn user_handler(ir: &Ir, resource: &Resource, op: &Operation, handler: &str) -> TokenStream {
    let entity = ir.entity(resource.entity);
    let record = type_ident(&entity.name);
    let var = ident(&crate::ir::names::snake_case(&entity.name));
    let name = ident(handler);
    let doc = format!(
        " `{} {}`: the `{}` action. Replace the body with the business logic.",
        op.method.as_str(),
        op.path,
        op.name
    );
    let what = format!("{}.{} is not implemented yet", resource.name, op.name);
    let unused = format_ident!("_{}", var);
    // An action that publishes events runs in the transaction that records them, so its
    // writes and its events commit together.
    let tx = (!op.emits.is_empty()).then(|| quote!(_tx: &mut Tx,));
    quote! {
        #[doc = #doc]
        pub async fn #name(_state: &AppState, _caller: Option<&Caller>, #tx #unused: #record) -> Result<#record, AppError> {
            Err(AppError::NotImplemented(#what))
        }
    }
}

/// Records the published events in the transaction, commits, and wakes the dispatcher.
fn commit(published: &[TokenStream]) -> TokenStream {
    let wake = (!published.is_empty()).then(|| quote!(state.events_ready.notify_one();));
    quote! {
        #(#published)*
        tx.commit().await?;
        #wake
    }
}

fn not_generated(resource: &Resource, op: &Operation, reason: &str) -> TokenStream {
    let name = ident(&op.name);
    let doc = format!(
        " `{} {}`: not generated yet ({reason}); answers 501.",
        op.method.as_str(),
        op.path
    );
    let what = format!("{}.{} is not generated yet", resource.name, op.name);
    quote! {
        #[doc = #doc]
        async fn #name() -> AppError {
            AppError::NotImplemented(#what)
        }
    }
}

/// `unfollow` for the `follow` link: the handler and service function that remove it.
fn unlink_name(op: &Operation) -> syn::Ident {
    format_ident!("un{}", op.name)
}

/// The value a record operation ends with.
enum Value {
    /// An expression of the record.
    Plain(TokenStream),
    /// An expression of `Result<record, AppError>`.
    Fallible(TokenStream),
}

/// A `{name}` in an operation's path.
enum Param {
    /// The parent record's key (`/orders/{order}/items`): field of this entity, parent.
    Parent { field: usize, parent: ResourceId },
    /// This record's key.
    Key,
}

impl Op<'_> {
    fn generate(&mut self) -> Result<Generated, String> {
        let auth = self
            .op
            .auth
            .as_ref()
            .ok_or_else(|| "the operation declares no auth".to_string())?;
        if self.resource.singleton && matches!(self.op.kind, OpKind::List | OpKind::Create) {
            return Err("lists and creates on a singleton resource".into());
        }
        for c in &self.op.collections {
            repo::collection_write_sql(self.ir, *c)
                .ok_or("writing this collection (many-to-many by a unique value is supported)")?;
        }
        if !self.op.emits.is_empty()
            && matches!(self.op.kind, OpKind::List | OpKind::Get | OpKind::Link)
        {
            return Err("publishing events from reads and links".into());
        }
        let params = self.params()?;
        let rule = auth.value.clone();
        match self.op.kind {
            OpKind::List => self.list(&params, &rule),
            OpKind::Get | OpKind::Delete | OpKind::Action => self.record_op(&params, &rule),
            OpKind::Create => self.create(&params, &rule),
            OpKind::Update => self.update(&params, &rule),
            OpKind::Link => self.link(&params, &rule),
        }
    }

    fn params(&self) -> Result<Vec<Param>, String> {
        let mut out = Vec::new();
        for name in path_params(&self.op.path) {
            if let Some((field, parent)) = self
                .resource
                .parents
                .iter()
                .find(|(f, _)| self.entity.fields[*f].name == name)
            {
                out.push(Param::Parent {
                    field: *field,
                    parent: *parent,
                });
            } else if self.entity.fields[self.resource.key].name == name || name == "id" {
                out.push(Param::Key);
            } else {
                return Err(format!("the path parameter `{{{name}}}`"));
            }
        }
        Ok(out)
    }

    /// Handler extractor and service arguments for the path parameters.
    fn path_args(&self, params: &[Param]) -> (TokenStream, Vec<TokenStream>, Vec<TokenStream>) {
        if params.is_empty() {
            return (quote!(), Vec::new(), Vec::new());
        }
        let names = self.param_names(params);
        let tys: Vec<TokenStream> = params
            .iter()
            .map(|p| match p {
                Param::Parent { parent, .. } => {
                    let parent = self.ir.resource(*parent);
                    let pe = self.ir.entity(parent.entity);
                    types::value_type(self.ir, &pe.fields[parent.key].ty)
                }
                Param::Key => types::value_type(self.ir, &self.entity.fields[self.resource.key].ty),
            })
            .collect();
        let extractor = quote!(AppPath((#(#names,)*)): AppPath<(#(#tys,)*)>,);
        let args = names.iter().map(|n| quote!(&#n)).collect();
        let service_params = names
            .iter()
            .zip(&tys)
            .map(|(n, t)| quote!(#n: &#t))
            .collect();
        (extractor, args, service_params)
    }

    /// Loads each parent by its key (404 when missing) into `parent_<field>`.
    fn resolve_parents(&mut self, params: &[Param]) -> Vec<TokenStream> {
        let mut out = Vec::new();
        for p in params {
            if let Param::Parent { field, parent } = p {
                let parent = self.ir.resource(*parent);
                let var = parent_var(self.entity, *field);
                let key = ident(&self.entity.fields[*field].name);
                let repo = repo::module(self.ir, parent.entity);
                let find = repo::find_fn(self.ir.entity(parent.entity), parent.key);
                authz::spec_of(self.repos, parent.entity).add_lookup(parent.key);
                out.push(quote! {
                    let #var = crate::repo::#repo::#find(&state.db, #key).await?.ok_or(AppError::NotFound)?;
                });
            }
        }
        out
    }

    /// `record.order != parent_order.id` for each parent: any of them means not found.
    fn parent_checks(&self, params: &[Param], record: &TokenStream) -> Vec<TokenStream> {
        params
            .iter()
            .filter_map(|p| match p {
                Param::Parent { field, parent } => {
                    let pe = self.ir.entity(self.ir.resource(*parent).entity);
                    let pk = ident(&types::primary_key(pe)?.name);
                    let var = parent_var(self.entity, *field);
                    let name = ident(&self.entity.fields[*field].name);
                    Some(if self.entity.fields[*field].optional {
                        quote!(#record.#name != Some(#var.#pk))
                    } else {
                        quote!(#record.#name != #var.#pk)
                    })
                }
                Param::Key => None,
            })
            .collect()
    }

    fn handler_head(
        &self,
        params: &[Param],
    ) -> (syn::Ident, TokenStream, TokenStream, Vec<TokenStream>) {
        let name = ident(&self.op.name);
        let doc = {
            let mut lines = vec![format!(" `{} {}`", self.op.method.as_str(), self.op.path)];
            lines.extend(self.op.docs.iter().map(|d| format!(" {}", d.trim())));
            quote!(#(#[doc = #lines])*)
        };
        let (extractor, args, _) = self.path_args(params);
        (name, doc, extractor, args)
    }

    fn list(&mut self, params: &[Param], rule: &crate::ir::AuthRule) -> Result<Generated, String> {
        let list = self
            .op
            .list
            .as_ref()
            .ok_or("a list without list settings")?;
        let rule = authz::on_list(rule)?;
        let ir = self.ir;
        let entity_id = self.resource.entity;
        // Filters from the query string.
        let mut param_fields = Vec::new();
        let mut param_steps = Vec::new();
        for filter in &list.filters {
            let condition = Condition::new(filter.path.clone(), filter.op);
            let f = condition
                .last_field(ir)
                .ok_or_else(|| format!("the filter `{}`", filter.param))?;
            for d in crate::lower::sql::dialects(ir) {
                repo::condition_sql(ir, &condition, d)
                    .ok_or_else(|| format!("the filter `{}`", filter.param))?;
            }
            let variant = condition.variant(ir);
            let pname = ident(&names_safe(&filter.param));
            let pstr = &filter.param;
            let rename = (pname != filter.param.as_str()).then(|| quote!(#[serde(rename = #pstr)]));
            let (raw, step) = if let FieldType::Enum(_) = f.ty {
                (
                    quote!(String),
                    quote! {
                        if let Some(v) = self.#pname.as_deref()
                            && let Some(v) = errors.parse(#pstr, v)
                        {
                            filters.push(repo::Filter::#variant(v));
                        }
                    },
                )
            } else {
                (
                    types::value_type(ir, &f.ty),
                    quote! {
                        if let Some(v) = self.#pname {
                            filters.push(repo::Filter::#variant(v));
                        }
                    },
                )
            };
            param_fields.push(quote!(#rename pub #pname: Option<#raw>,));
            param_steps.push(step);
            authz::spec_of(self.repos, entity_id).add_condition(condition);
        }
        // Sorting.
        let pk_index = self
            .entity
            .primary_key
            .first()
            .copied()
            .ok_or("an entity without a key")?;
        let (default_field, default_desc) =
            list.default_sort.as_ref().map_or((pk_index, false), |s| {
                (s.value.0, s.value.1 == SortDir::Desc)
            });
        let mut sortable: Vec<usize> = list.sort.iter().map(|s| s.value).collect();
        let spec = authz::spec_of(self.repos, entity_id);
        spec.list = true;
        spec.add_sort(default_field);
        for s in &sortable {
            spec.add_sort(*s);
        }
        sortable.dedup();
        let mut sort_arms = Vec::new();
        let mut accepted = Vec::new();
        for s in &sortable {
            let f = &self.entity.fields[*s];
            let json = types::json_name(ir, f);
            let desc = format!("-{json}");
            let v = type_ident(&f.name);
            sort_arms.push(quote!(Some(#json) => Some((repo::Sort::#v, false)),));
            sort_arms.push(quote!(Some(#desc) => Some((repo::Sort::#v, true)),));
            accepted.push(json);
            accepted.push(desc);
        }
        let default_variant = type_ident(&self.entity.fields[default_field].name);
        let sort_error = format!("must be one of: {}", accepted.join(", "));
        let page = proc_macro2::Literal::u32_unsuffixed(list.page_size.unwrap_or(20));
        let max = proc_macro2::Literal::u32_unsuffixed(list.max_page_size.unwrap_or(100));
        let filters_binding = if param_steps.is_empty() {
            quote!(let filters = Vec::new();)
        } else {
            quote!(let mut filters = Vec::new();)
        };
        let params_ty = format_ident!("{}Params", type_ident(&self.op.name));
        let params_doc = format!(
            " Query parameters of `{} {}`.",
            self.op.method.as_str(),
            self.op.path
        );

        // Service.
        let (_, _, service_params) = self.path_args(params);
        let resolve = self.resolve_parents(params);
        let parent_filters: Vec<TokenStream> = params
            .iter()
            .filter_map(|p| match p {
                Param::Parent { field, parent } => Some((*field, *parent)),
                Param::Key => None,
            })
            .map(|(field, parent)| {
                let condition = Condition::new(field_path(entity_id, field), FilterOp::Eq);
                let variant = condition.variant(ir);
                authz::spec_of(self.repos, entity_id).add_condition(condition);
                let pe = ir.entity(ir.resource(parent).entity);
                let pk = types::primary_key(pe).map(|f| ident(&f.name));
                let var = parent_var(self.entity, field);
                quote!(query.filters.push(repo::Filter::#variant(#var.#pk));)
            })
            .collect();
        let lift = &rule.lift;
        let restrict = if rule.owners.is_empty() {
            if authz::is_literal(lift, false) {
                return Err("list rules no caller can pass (API keys)".into());
            }
            authz::guard(
                lift,
                quote!(crate::service::deny(caller, AppError::Forbidden)),
            )
        } else {
            let owners: Vec<TokenStream> = rule
                .owners
                .iter()
                .map(|path| {
                    let condition = Condition::new(path.clone(), FilterOp::Eq);
                    let variant = condition.variant(ir);
                    authz::spec_of(self.repos, entity_id).add_condition(condition);
                    quote!(repo::Filter::#variant(c.id))
                })
                .collect();
            let owned = match owners.as_slice() {
                [one] => one.clone(),
                _ => quote!(repo::Filter::AnyOf(vec![#(#owners),*])),
            };
            let restrict = quote! {
                let Some(c) = caller else {
                    return Err(AppError::Unauthorized);
                };
                query.filters.push(#owned);
            };
            if authz::is_literal(lift, false) {
                restrict
            } else {
                quote! {
                    let unrestricted = #lift;
                    if !unrestricted {
                        #restrict
                    }
                }
            }
        };
        let name = ident(&self.op.name);
        let service_doc = format!(
            " One page of `{}` rows the caller may see, and how many match.",
            self.entity.name
        );
        let scope = match &list.scope {
            Some(expr) => {
                let condition = scope_condition(entity_id, expr)?;
                let variant = condition.variant(ir);
                authz::spec_of(self.repos, entity_id).add_condition(condition);
                Some(quote! {
                    let Some(c) = caller else {
                        return Err(AppError::Unauthorized);
                    };
                    query.filters.push(repo::Filter::#variant(c.id));
                })
            }
            None => None,
        };
        let (item, list_tail) = self.finish_list()?;
        let mut_query = if parent_filters.is_empty() && rule.owners.is_empty() && scope.is_none() {
            quote!(query)
        } else {
            quote!(mut query)
        };
        let body = quote! {
            #(#resolve)*
            #(#parent_filters)*
            #restrict
            #scope
            #list_tail
        };
        let (caller_param, caller_extractor, caller_arg) = self.caller_parts(&body);
        let service = quote! {
            #[doc = #service_doc]
            pub async fn #name(state: &AppState, #caller_param #(#service_params,)* #mut_query: repo::ListQuery) -> Result<(Vec<#item>, i64), AppError> {
                #body
            }
        };

        // Handler.
        let self_repo = repo::module(ir, entity_id);
        let (hname, doc, extractor, args) = self.handler_head(params);
        let envelope = option_str(
            self.op
                .envelope
                .as_ref()
                .or(self.resource.list_envelope.as_ref()),
        );
        let count = option_str(self.resource.count_field.as_ref());
        let pluck = self.op.pluck.map(|field| {
            let field = ident(&self.entity.fields[field].name);
            quote!(let items: Vec<_> = items.into_iter().map(|record| record.#field).collect();)
        });
        let handler = quote! {
            #[doc = #params_doc]
            #[derive(Debug, serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct #params_ty {
                pub limit: Option<i64>,
                pub offset: Option<i64>,
                pub sort: Option<String>,
                #(#param_fields)*
            }

            impl #params_ty {
                /// The page, order and filters asked for, within the spec's limits.
                fn into_query(self) -> Result<crate::repo::#self_repo::ListQuery, AppError> {
                    use crate::repo::#self_repo as repo;
                    let mut errors = crate::validate::Errors::default();
                    let limit = errors.check("limit", self.limit.unwrap_or(#page), |v| crate::validate::range(v, Some(1), Some(#max)));
                    let offset = errors.check("offset", self.offset.unwrap_or(0), |v| crate::validate::range(v, Some(0), None));
                    let sort = match self.sort.as_deref() {
                        None => Some((repo::Sort::#default_variant, #default_desc)),
                        #(#sort_arms)*
                        Some(_) => {
                            errors.add("sort", #sort_error);
                            None
                        }
                    };
                    #filters_binding
                    #(#param_steps)*
                    match (limit, offset, sort) {
                        (Some(limit), Some(offset), Some((sort, descending))) if errors.is_empty() => Ok(repo::ListQuery { filters, sort, descending, limit, offset }),
                        _ => Err(errors.into_error()),
                    }
                }
            }

            #doc
            async fn #hname(State(state): State<AppState>, #caller_extractor #extractor AppQuery(params): AppQuery<#params_ty>) -> Result<Response, AppError> {
                let query = params.into_query()?;
                let (items, total) = service::#name(&state, #caller_arg #(#args,)* query).await?;
                #pluck
                Ok(respond_list(items, total, #envelope, #count))
            }
        };
        Ok(Generated { service, handler })
    }

    /// The `load` prelude of a record operation: parents, the record, the parent check.
    fn load_record(&mut self, params: &[Param]) -> Result<TokenStream, String> {
        if self.resource.singleton {
            // The caller's own record: no key in the path.
            let pk = *self
                .entity
                .primary_key
                .first()
                .ok_or("an entity without a key")?;
            let find = repo::find_fn(self.entity, pk);
            authz::spec_of(self.repos, self.resource.entity).add_lookup(pk);
            return Ok(quote! {
                let c = caller.ok_or(AppError::Unauthorized)?;
                let record = repo::#find(&state.db, &c.id).await?.ok_or(AppError::NotFound)?;
            });
        }
        if !params.iter().any(|p| matches!(p, Param::Key)) {
            return Err("a record operation whose path has no key".into());
        }
        let resolve = self.resolve_parents(params);
        let find = repo::find_fn(self.entity, self.resource.key);
        let checks = self.parent_checks(params, &quote!(record));
        let check = (!checks.is_empty()).then(|| {
            let any = authz::join(checks, authz::Logic::Or);
            quote! {
                if #any {
                    return Err(AppError::NotFound);
                }
            }
        });
        Ok(quote! {
            #(#resolve)*
            let record = repo::#find(&state.db, key).await?.ok_or(AppError::NotFound)?;
            #check
        })
    }

    /// The authorization of a loaded record: deny as the spec says.
    fn authorize_record(&mut self, rule: &crate::ir::AuthRule) -> Result<TokenStream, String> {
        let subject = Subject {
            entity: self.resource.entity,
            record: quote!(record),
            repo: quote!(repo),
            skip: &[],
        };
        let compiled = authz::on_record(self.ir, rule, &subject, self.repos)?;
        let lets = compiled.lets;
        let expr = compiled.expr;
        let deny = if self.op.deny_status == 403 {
            quote!(AppError::Forbidden)
        } else {
            quote!(AppError::NotFound)
        };
        let guard = authz::guard(&expr, quote!(crate::service::deny(caller, #deny)));
        Ok(quote! {
            #(#lets)*
            #guard
        })
    }

    /// A link: `POST` adds the join row between the caller and the record, `DELETE` removes
    /// it; both are idempotent and answer the record.
    fn link(&mut self, params: &[Param], rule: &crate::ir::AuthRule) -> Result<Generated, String> {
        let spec = self.op.link.as_ref().ok_or("a link without a join")?;
        repo::link_sql(self.ir, spec)
            .ok_or("links whose join rows need values the database cannot fill")?;
        let pk = types::primary_key(self.entity).ok_or("an entity without a one-column key")?;
        let pk_name = ident(&pk.name);
        let load = self.load_record(params)?;
        let authorize = self.authorize_record(rule)?;
        authz::spec_of(self.repos, self.resource.entity)
            .add_link(self.op.name.clone(), spec.clone());
        let (output, tail) = self.finish(Value::Plain(quote!(record)))?;
        let (_, _, service_params) = self.path_args(params);
        let (hname, hdoc, extractor, args) = self.handler_head(params);
        let mut services = Vec::new();
        let mut handlers = Vec::new();
        for (name, repo_fn, doc) in [
            (
                ident(&self.op.name),
                format_ident!("link_{}", self.op.name),
                " Links the caller to the record (again is a no-op).",
            ),
            (
                unlink_name(self.op),
                format_ident!("unlink_{}", self.op.name),
                " Removes the caller's link to the record (absent is a no-op).",
            ),
        ] {
            let body = quote! {
                #load
                #authorize
                let c = caller.ok_or(AppError::Unauthorized)?;
                repo::#repo_fn(&state.db, &c.id, &record.#pk_name).await?;
                #tail
            };
            services.push(quote! {
                #[doc = #doc]
                pub async fn #name(state: &AppState, caller: Option<&Caller>, #(#service_params),*) -> Result<#output, AppError> {
                    #body
                }
            });
            let (_, caller_extractor, caller_arg) = self.caller_parts(&body);
            let respond =
                self.call_and_respond(quote!(service::#name(&state, #caller_arg #(#args),*)));
            let handler_name = if name == self.op.name.as_str() {
                hname.clone()
            } else {
                name.clone()
            };
            handlers.push(quote! {
                #hdoc
                async fn #handler_name(State(state): State<AppState>, #caller_extractor #extractor) -> Result<Response, AppError> {
                    #respond
                }
            });
        }
        Ok(Generated {
            service: quote!(#(#services)*),
            handler: quote!(#(#handlers)*),
        })
    }

    fn record_op(
        &mut self,
        params: &[Param],
        rule: &crate::ir::AuthRule,
    ) -> Result<Generated, String> {
        let load = self.load_record(params)?;
        let authorize = self.authorize_record(rule)?;
        let name = ident(&self.op.name);
        let (_, _, service_params) = self.path_args(params);
        let pk = types::primary_key(self.entity).ok_or("an entity without a one-column key")?;
        let pk_name = ident(&pk.name);
        let (steps, value, doc) = match self.op.kind {
            OpKind::Get => (
                quote!(),
                Value::Plain(quote!(record)),
                " The record, if the caller may see it.",
            ),
            OpKind::Delete => {
                authz::spec_of(self.repos, self.resource.entity).delete = true;
                let published = self.published()?;
                let steps = if published.is_empty() {
                    quote! {
                        if !repo::delete(&state.db, &record.#pk_name).await? {
                            return Err(AppError::NotFound);
                        }
                    }
                } else {
                    let commit = commit(&published);
                    quote! {
                        let mut tx = state.db.begin().await?;
                        if !repo::delete_in(&mut tx, &record.#pk_name).await? {
                            return Err(AppError::NotFound);
                        }
                        #commit
                    }
                };
                (
                    steps,
                    Value::Plain(quote!(record)),
                    " Deletes the record if the caller may; returns it as it was.",
                )
            }
            _ => {
                let handler = ident(
                    self.op
                        .handler
                        .as_deref()
                        .ok_or("an action without a handler")?,
                );
                if self.op.fields.as_ref().is_some_and(|f| !f.value.is_empty()) {
                    return Err("actions that take input fields".into());
                }
                let module = ident(&self.resource.name);
                // Hand-written writes usually go through the repository.
                authz::spec_of(self.repos, self.resource.entity).update = true;
                let published = self.published()?;
                if published.is_empty() {
                    (
                        quote!(),
                        Value::Fallible(
                            quote!(crate::handlers::#module::#handler(state, caller, record).await),
                        ),
                        " Loads and authorizes the record, then runs the hand-written handler.",
                    )
                } else {
                    let commit = commit(&published);
                    (
                        quote! {
                            let mut tx = state.db.begin().await?;
                            let record = crate::handlers::#module::#handler(state, caller, &mut tx, record).await?;
                            #commit
                        },
                        Value::Plain(quote!(record)),
                        " Loads and authorizes the record, then runs the hand-written handler in a transaction that also records the events it publishes.",
                    )
                }
            }
        };
        let (output, tail) = self.finish(value)?;
        let body = quote! {
            #load
            #authorize
            #steps
            #tail
        };
        let (caller_param, caller_extractor, caller_arg) = self.caller_parts(&body);
        let service = quote! {
            #[doc = #doc]
            pub async fn #name(state: &AppState, #caller_param #(#service_params),*) -> Result<#output, AppError> {
                #body
            }
        };
        if let (OpKind::Get, Some(cache)) = (self.op.kind, self.op.cache) {
            let takes_caller = !caller_param.is_empty();
            return self.cached_get(cache, rule, params, service, takes_caller);
        }
        let (hname, hdoc, extractor, args) = self.handler_head(params);
        let respond = self.call_and_respond(quote!(service::#name(&state, #caller_arg #(#args),*)));
        let handler = quote! {
            #hdoc
            async fn #hname(State(state): State<AppState>, #caller_extractor #extractor) -> Result<Response, AppError> {
                #respond
            }
        };
        Ok(Generated { service, handler })
    }

    /// A `get` with a cache policy: `<op>_cached` answers the response body from the cache,
    /// authorizing first; on a miss it runs the plain `get` and stores its body. A response
    /// that depends on who asks (ownership, caller-dependent views) is cached per caller.
    fn cached_get(
        &mut self,
        cache: crate::ir::CacheId,
        rule: &crate::ir::AuthRule,
        params: &[Param],
        get_service: TokenStream,
        get_takes_caller: bool,
    ) -> Result<Generated, String> {
        let policy = super::cache::constant(self.ir, cache);
        let name = ident(&self.op.name);
        let cached = format_ident!("{}_cached", self.op.name);
        let (_, _, service_params) = self.path_args(params);
        let names = self.param_names(params);
        let shape = view::shape_of(self.ir, self.resource_id, self.op);
        let caller_dependent = view::uses_caller(self.ir, self.resource_id, shape);
        let path_key = match names.as_slice() {
            [one] => quote!(#one.to_string()),
            _ => quote!([#(#names.to_string()),*].join("/")),
        };
        let (guard, key) = match authz::caller_only(rule)? {
            Some(allowed) if !caller_dependent => {
                let deny = if self.op.deny_status == 403 {
                    quote!(AppError::Forbidden)
                } else {
                    quote!(AppError::NotFound)
                };
                (
                    authz::guard(&allowed, quote!(crate::service::deny(caller, #deny))),
                    path_key,
                )
            }
            _ => (
                quote!(),
                quote!(
                    format!("{}|{}", caller.map(|c| c.id.to_string()).unwrap_or_default(), #path_key)
                ),
            ),
        };
        let caller_arg = get_takes_caller.then(|| quote!(caller,));
        let envelope = option_str(self.resource.envelope.as_ref());
        let body = quote! {
            #guard
            let cache_key = #key;
            if let Some(hit) = state.cache.get(#policy, &cache_key).await {
                return Ok(hit);
            }
            let record = #name(state, #caller_arg #(#names),*).await?;
            let body = crate::cache::json_body(#envelope, &record)?;
            Ok(state.cache.put(#policy, &cache_key, body).await)
        };
        let (caller_param, caller_extractor, caller_call) = self.caller_parts(&body);
        let policy_name = &self.ir.cache(cache).name;
        let doc = format!(
            " The response body of `{}`, from the `{policy_name}` cache while fresh.",
            self.op.name
        );
        let service = quote! {
            #get_service

            #[doc = #doc]
            pub async fn #cached(state: &AppState, #caller_param #(#service_params),*) -> Result<crate::cache::Cached, AppError> {
                #body
            }
        };
        let (hname, hdoc, extractor, args) = self.handler_head(params);
        let handler = quote! {
            #hdoc
            async fn #hname(State(state): State<AppState>, #caller_extractor #extractor headers: axum::http::HeaderMap) -> Result<Response, AppError> {
                let cached = service::#cached(&state, #caller_call #(#args),*).await?;
                Ok(crate::cache::respond(&headers, #policy, cached))
            }
        };
        Ok(Generated { service, handler })
    }

    /// The path parameters' names, as the service's parameters.
    fn param_names(&self, params: &[Param]) -> Vec<syn::Ident> {
        params
            .iter()
            .map(|p| match p {
                Param::Parent { field, .. } => ident(&self.entity.fields[*field].name),
                Param::Key => format_ident!("key"),
            })
            .collect()
    }

    /// The caller's service parameter, handler extractors and call argument. The rate limit
    /// comes first, so a client over its budget costs no token check or body parsing. The
    /// caller is present only when the operation's body looks at it (a public read verifies
    /// no token); an operation no anonymous caller may pass demands a token before anything
    /// else, so it answers 401 ahead of any lookup or body check.
    fn caller_parts(&self, body: &TokenStream) -> (TokenStream, TokenStream, TokenStream) {
        let (param, extractor, arg) = self.caller_only_parts(body);
        let limit = super::rate::extractor(self.ir, super::rate::of_operation(self.ir, self.op));
        (param, quote!(#limit #extractor), arg)
    }

    fn caller_only_parts(&self, body: &TokenStream) -> (TokenStream, TokenStream, TokenStream) {
        let uses = file::mentions(body, &["caller"])[0];
        let signed_in_only = self.op.auth.as_ref().is_some_and(|a| !a.value.is_public());
        match (uses, signed_in_only) {
            (true, true) => (
                quote!(caller: Option<&Caller>,),
                quote!(caller: Caller,),
                quote!(Some(&caller),),
            ),
            (true, false) => (
                quote!(caller: Option<&Caller>,),
                quote!(MaybeCaller(caller): MaybeCaller,),
                quote!(caller.as_ref(),),
            ),
            (false, true) => (quote!(), quote!(_caller: Caller,), quote!()),
            (false, false) => (quote!(), quote!(), quote!()),
        }
    }

    /// The service's output type and the statements ending its body: the record as is, or
    /// shaped by the operation's view (answers without a body are not shaped).
    fn finish(&mut self, value: Value) -> Result<(TokenStream, TokenStream), String> {
        let shape = view::shape_of(self.ir, self.resource_id, self.op);
        if shape == Shape::Record || self.op.status == 204 {
            let record = type_ident(&self.entity.name);
            let tail = match value {
                Value::Plain(v) => quote!(Ok(#v)),
                Value::Fallible(v) => v,
            };
            return Ok((quote!(#record), tail));
        }
        let (ty, present) = self.presenter(shape)?;
        let caller = view::uses_caller(self.ir, self.resource_id, shape).then(|| quote!(caller,));
        let record = match value {
            Value::Plain(v) if v.to_string() == "record" => quote!(),
            Value::Plain(v) => quote!(let record = #v;),
            Value::Fallible(v) => quote!(let record = #v?;),
        };
        let tail = quote! {
            #record
            crate::service::one(#present(state, #caller vec![record]).await?)
        };
        Ok((quote!(#ty), tail))
    }

    /// A list's output items and how the page is shaped.
    fn finish_list(&mut self) -> Result<(TokenStream, TokenStream), String> {
        let shape = view::shape_of(self.ir, self.resource_id, self.op);
        if shape == Shape::Record || self.op.pluck.is_some() {
            let record = type_ident(&self.entity.name);
            return Ok((quote!(#record), quote!(repo::list(&state.db, &query).await)));
        }
        let (ty, present) = self.presenter(shape)?;
        let caller = view::uses_caller(self.ir, self.resource_id, shape).then(|| quote!(caller,));
        let tail = quote! {
            let (records, total) = repo::list(&state.db, &query).await?;
            Ok((#present(state, #caller records).await?, total))
        };
        Ok((quote!(#ty), tail))
    }

    /// The struct and presenter of a shape, generated once per resource.
    fn presenter(&mut self, shape: Shape) -> Result<(syn::Ident, syn::Ident), String> {
        let Shape::View(view) = shape else {
            return Err("internal: a record shape has no presenter".into());
        };
        if !self.presenters.iter().any(|(v, _)| *v == view) {
            let code = view::presenter(self.ir, self.resource_id, view, self.repos)?;
            self.presenters.push((view, code));
        }
        Ok(view::names(self.ir, self.resource_id, shape))
    }

    /// Calls the service, drops the response caches a successful write makes stale, and
    /// answers with the spec's status and envelope.
    fn call_and_respond(&self, call: TokenStream) -> TokenStream {
        let status = status_tokens(self.op.status);
        let invalidate = super::cache::invalidate(
            self.ir,
            &super::cache::invalidated_by(self.ir, self.resource_id, self.op_index, self.op),
        );
        if self.op.status == 204 {
            quote! {
                #call.await?;
                #invalidate
                Ok(#status.into_response())
            }
        } else {
            let envelope = option_str(self.resource.envelope.as_ref());
            quote! {
                let record = #call.await?;
                #invalidate
                Ok(respond(#status, #envelope, &record))
            }
        }
    }

    fn create(
        &mut self,
        params: &[Param],
        rule: &crate::ir::AuthRule,
    ) -> Result<Generated, String> {
        let ir = self.ir;
        let entity = self.entity;
        let entity_id = self.resource.entity;
        let fields = self.client_fields(Mode::Create)?;
        let resolve = self.resolve_parents(params);
        let authorize = match authz::caller_only(rule)? {
            Some(expr) => authz::guard(
                &expr,
                quote!(crate::service::deny(caller, AppError::Forbidden)),
            ),
            None => {
                let Some(Param::Parent { field, parent }) =
                    params.iter().find(|p| matches!(p, Param::Parent { .. }))
                else {
                    return Err("ownership rules on create outside a nested resource".into());
                };
                let skip = [Step::Field {
                    entity: entity_id,
                    field: *field,
                }];
                let parent_entity = ir.resource(*parent).entity;
                let parent_repo = repo::module(ir, parent_entity);
                let var = parent_var(entity, *field);
                let subject = Subject {
                    entity: parent_entity,
                    record: quote!(#var),
                    repo: quote!(crate::repo::#parent_repo),
                    skip: &skip,
                };
                let compiled = authz::on_record(ir, rule, &subject, self.repos)?;
                let lets = compiled.lets;
                let guard = authz::guard(
                    &compiled.expr,
                    quote!(crate::service::deny(caller, AppError::NotFound)),
                );
                quote! {
                    #(#lets)*
                    #guard
                }
            }
        };
        // Where each inserted column's value comes from.
        let mut lookups = Vec::new();
        let mut uses_now = false;
        let mut values = Vec::new();
        for i in repo::insert_fields(entity) {
            let f = &entity.fields[i];
            let name = ident(&f.name);
            let value = if fields.contains(&i) && f.ty == FieldType::Password {
                quote!(crate::auth::hash_password(input.#name).await?)
            } else if fields.contains(&i) {
                quote!(input.#name)
            } else if let Some(v) = self.set_value(i, &mut lookups)? {
                v
            } else if let Some(p) = params.iter().find_map(|p| match p {
                Param::Parent { field, parent } if *field == i => Some(*parent),
                _ => None,
            }) {
                let pe = ir.entity(ir.resource(p).entity);
                let pk = ident(
                    &types::primary_key(pe)
                        .ok_or("a parent without a one-column key")?
                        .name,
                );
                let var = parent_var(entity, i);
                if f.optional {
                    quote!(Some(#var.#pk))
                } else {
                    quote!(#var.#pk)
                }
            } else if f.auto.is_some() {
                if f.optional {
                    quote!(caller.map(|c| c.id))
                } else {
                    quote!(crate::service::caller_id(caller)?)
                }
            } else if let Some(crate::ir::Default::Slugify(source)) = f.default {
                // Derived before the input's fields move into the row.
                let source = ident(&entity.fields[source].name);
                lookups.push(quote!(let #name = crate::validate::slugify(&input.#source);));
                quote!(#name)
            } else if let Some(d) = input::insert_default(ir, entity, f, &mut uses_now) {
                d
            } else if f.optional {
                quote!(None)
            } else if f.ty == FieldType::Password {
                return Err("creating password fields outside registration".into());
            } else {
                return Err(format!(
                    "the required field `{}` has no value on create",
                    f.name
                ));
            };
            values.push(if name == value.to_string() {
                quote!(#name,)
            } else {
                quote!(#name: #value,)
            });
        }
        let spec = authz::spec_of(self.repos, entity_id);
        spec.insert = true;
        let name = ident(&self.op.name);
        let (_, _, service_params) = self.path_args(params);
        let input_ty = format_ident!("{}Input", type_ident(&self.op.name));
        let body_ty = format_ident!("{}Body", type_ident(&self.op.name));
        let input_param = if fields.is_empty() && self.op.collections.is_empty() {
            quote!(_input: #input_ty)
        } else {
            quote!(input: #input_ty)
        };
        let now = uses_now.then(|| quote!(let now = chrono::Utc::now();));
        let writes = self.collection_writes(false);
        let published = self.published()?;
        let (output, tail) = if writes.is_empty() && published.is_empty() {
            self.finish(Value::Fallible(quote!(repo::insert(&state.db, &new).await)))?
        } else {
            let (output, tail) = self.finish(Value::Plain(quote!(record)))?;
            let commit = commit(&published);
            let tail = quote! {
                let mut tx = state.db.begin().await?;
                let record = repo::insert_in(&mut tx, &new).await?;
                #(#writes)*
                #commit
                #tail
            };
            (output, tail)
        };
        let body = quote! {
            #(#resolve)*
            #authorize
            #(#lookups)*
            #now
            let new = repo::New {
                #(#values)*
            };
            #tail
        };
        let caller = self.caller_parts(&body);
        let caller_param = &caller.0;
        let service = quote! {
            /// Creates a record from validated input and the values the server sets.
            pub async fn #name(state: &AppState, #caller_param #(#service_params,)* #input_param) -> Result<#output, AppError> {
                #body
            }
        };
        let (service, handler) = self.with_body(
            service,
            &caller,
            params,
            &fields,
            Mode::Create,
            &body_ty,
            &input_ty,
        );
        Ok(Generated { service, handler })
    }

    fn update(
        &mut self,
        params: &[Param],
        rule: &crate::ir::AuthRule,
    ) -> Result<Generated, String> {
        let entity = self.entity;
        let mode = if self.op.partial {
            Mode::Patch
        } else {
            Mode::Replace
        };
        let fields = self.client_fields(mode)?;
        let load = self.load_record(params)?;
        let authorize = self.authorize_record(rule)?;
        let mut lookups = Vec::new();
        let mut assigns = Vec::new();
        for i in repo::update_fields(entity) {
            let f = &entity.fields[i];
            let name = ident(&f.name);
            if fields.contains(&i) {
                assigns.push(if mode == Mode::Patch {
                    quote! {
                        if let Some(value) = input.#name {
                            record.#name = value;
                        }
                    }
                } else {
                    quote!(record.#name = input.#name;)
                });
            } else if let Some(v) = self.set_value(i, &mut lookups)? {
                assigns.push(quote!(record.#name = #v;));
            } else if f.auto == Some(AutoValue::CallerOnWrite) {
                assigns.push(if f.optional {
                    quote!(record.#name = caller.map(|c| c.id);)
                } else {
                    quote!(record.#name = crate::service::caller_id(caller)?;)
                });
            } else if f.flags.updated_at {
                assigns.push(quote!(record.#name = chrono::Utc::now();));
            }
        }
        // A new password is hashed and stored by its own statement once the record is
        // written (storing it first would change `updated_at` under the guarded update);
        // records never hold it.
        let mut secrets = Vec::new();
        let pk_name = types::primary_key(entity).map(|f| ident(&f.name));
        for i in fields
            .iter()
            .filter(|i| entity.fields[**i].ty == FieldType::Password)
        {
            let name = ident(&entity.fields[*i].name);
            let set = format_ident!("set_{}", entity.fields[*i].name);
            authz::spec_of(self.repos, self.resource.entity).add_secret(*i);
            let store = quote! {
                let hash = crate::auth::hash_password(password).await?;
                repo::#set(&state.db, &record.#pk_name, &hash).await?;
            };
            secrets.push(if mode == Mode::Patch {
                quote! {
                    if let Some(password) = input.#name {
                        #store
                    }
                }
            } else {
                quote! {
                    let password = input.#name;
                    #store
                }
            });
        }
        authz::spec_of(self.repos, self.resource.entity).update = true;
        let name = ident(&self.op.name);
        let (_, _, service_params) = self.path_args(params);
        let input_ty = format_ident!("{}Input", type_ident(&self.op.name));
        let body_ty = format_ident!("{}Body", type_ident(&self.op.name));
        let writes = self.collection_writes(mode == Mode::Patch);
        // A guarded update that matches no row lost a race: the row changed or went away
        // after it was read.
        let guard = repo::update_guard(self.entity).map(|f| ident(&f.name));
        let (seen, seen_arg, missing) = match &guard {
            Some(field) => (
                quote!(let seen = record.#field;),
                quote!(&seen),
                quote!(AppError::Conflict(
                    "the record changed while this request was applied; read it again and retry"
                        .to_owned()
                )),
            ),
            None => (quote!(), quote!(), quote!(AppError::NotFound)),
        };
        let updated = quote!(
            repo::update(&state.db, &record, #seen_arg)
                .await?
                .ok_or(#missing)
        );
        let published = self.published()?;
        let (output, tail) = if writes.is_empty() && secrets.is_empty() && published.is_empty() {
            self.finish(Value::Fallible(updated))?
        } else {
            let (output, tail) = self.finish(Value::Plain(quote!(record)))?;
            let write = if writes.is_empty() && published.is_empty() {
                quote!(let record = #updated?;)
            } else {
                let commit = commit(&published);
                quote! {
                    let mut tx = state.db.begin().await?;
                    let record = repo::update_in(&mut tx, &record, #seen_arg).await?.ok_or(#missing)?;
                    #(#writes)*
                    #commit
                }
            };
            (output, quote!(#write #(#secrets)* #tail))
        };
        let body = quote! {
            #load
            #authorize
            let mut record = record;
            #seen
            #(#lookups)*
            #(#assigns)*
            #tail
        };
        let caller = self.caller_parts(&body);
        let caller_param = &caller.0;
        let service = quote! {
            /// Applies validated changes to a record the caller may change.
            pub async fn #name(state: &AppState, #caller_param #(#service_params,)* input: #input_ty) -> Result<#output, AppError> {
                #body
            }
        };
        let (service, handler) =
            self.with_body(service, &caller, params, &fields, mode, &body_ty, &input_ty);
        Ok(Generated { service, handler })
    }

    /// Adds the validated input type to the service, and the body DTO and the handler
    /// taking it to the HTTP layer.
    #[allow(clippy::too_many_arguments)]
    fn with_body(
        &self,
        service: TokenStream,
        (_, caller_extractor, caller_arg): &(TokenStream, TokenStream, TokenStream),
        params: &[Param],
        fields: &[usize],
        mode: Mode,
        body_ty: &syn::Ident,
        input_ty: &syn::Ident,
    ) -> (TokenStream, TokenStream) {
        let types = input::body_and_input(
            self.ir,
            self.entity,
            fields,
            &self.op.collections,
            mode,
            body_ty,
            input_ty,
            &quote!(service::#input_ty),
        );
        let input_struct = types.input;
        let dto = types.dto;
        let service = quote! {
            #input_struct
            #service
        };
        let name = ident(&self.op.name);
        let (hname, doc, extractor, args) = self.handler_head(params);
        let respond =
            self.call_and_respond(quote!(service::#name(&state, #caller_arg #(#args,)* input)));
        let handler = quote! {
            #dto

            #doc
            async fn #hname(State(state): State<AppState>, #caller_extractor #extractor AppJson(body): AppJson<#body_ty>) -> Result<Response, AppError> {
                let input = body.validate()?;
                #respond
            }
        };
        (service, handler)
    }

    /// `crate::events::order_placed(&mut tx, &record)` for each event the operation
    /// publishes with its record; the repository then writes within transactions too.
    fn published(&mut self) -> Result<Vec<TokenStream>, String> {
        let mut out = Vec::new();
        for event in &self.op.emits {
            if let Some(reason) = events::unpublishable(self.ir, *event, self.resource.entity) {
                return Err(reason);
            }
            let record = events::record_fn(self.ir.event(*event));
            out.push(quote!(crate::events::#record(&mut tx, &record).await?;));
        }
        if !out.is_empty() {
            authz::spec_of(self.repos, self.resource.entity).transactional = true;
        }
        Ok(out)
    }

    /// `repo::set_tags(...)` for each collection the operation writes; with `partial`, only
    /// the ones the body carries.
    fn collection_writes(&mut self, partial: bool) -> Vec<TokenStream> {
        let pk = types::primary_key(self.entity).map(|f| ident(&f.name));
        self.op
            .collections
            .iter()
            .map(|c| {
                authz::spec_of(self.repos, self.resource.entity).add_write(*c);
                let name = ident(&self.ir.collection(*c).name);
                let set = format_ident!("set_{}", self.ir.collection(*c).name);
                if partial {
                    quote! {
                        if let Some(values) = &input.#name {
                            repo::#set(&mut tx, &record.#pk, values).await?;
                        }
                    }
                } else {
                    quote!(repo::#set(&mut tx, &record.#pk, &input.#name).await?;)
                }
            })
            .collect()
    }

    /// Whether `field` is the auth identity's password (hashed before it is stored).
    fn is_identity_password(&self, field: usize) -> bool {
        self.ir
            .auth
            .as_ref()
            .is_some_and(|a| a.identity == self.resource.entity && a.password_field == field)
    }

    /// The allowlisted fields, refusing kinds this generator does not write yet.
    fn client_fields(&self, mode: Mode) -> Result<Vec<usize>, String> {
        let fields = self.op.writable_fields().to_vec();
        for i in &fields {
            let f = &self.entity.fields[*i];
            if f.ty == FieldType::Password && !self.is_identity_password(*i) {
                return Err("password fields of an entity that is not the auth identity".into());
            }
            if mode == Mode::Patch && f.flags.primary {
                return Err("changing a key".into());
            }
        }
        Ok(fields)
    }

    /// The value of a `set { field = expr }` entry, with any lookup it needs.
    fn set_value(
        &mut self,
        field: usize,
        lookups: &mut Vec<TokenStream>,
    ) -> Result<Option<TokenStream>, String> {
        let Some((_, expr)) = self.op.set.iter().find(|(f, _)| *f == field) else {
            return Ok(None);
        };
        let value = match expr {
            Expr::Caller(steps) if steps.is_empty() => quote!(crate::service::caller_id(caller)?),
            Expr::Field(path) => match path.steps.as_slice() {
                [
                    Step::Field { field: via, .. },
                    Step::Field {
                        entity: target,
                        field: read,
                    },
                ] => {
                    let via_field = &self.entity.fields[*via];
                    let FieldType::Ref(target_id) = via_field.ty else {
                        return Err("a `set` path that does not start at a reference".into());
                    };
                    if target_id != *target {
                        return Err("a `set` path through several references".into());
                    }
                    let te = self.ir.entity(target_id);
                    let pk_index = match te.primary_key.as_slice() {
                        [one] => *one,
                        _ => return Err("a reference to a composite key".into()),
                    };
                    authz::spec_of(self.repos, target_id).add_lookup(pk_index);
                    let repo = repo::module(self.ir, target_id);
                    let find = repo::find_fn(te, pk_index);
                    let via_name = ident(&via_field.name);
                    let var = format_ident!("{}_row", via_field.name);
                    let json = types::json_name(self.ir, via_field);
                    let read_field = &te.fields[*read];
                    let read = ident(&read_field.name);
                    let source = if self.op.kind == OpKind::Update {
                        quote!(&record.#via_name)
                    } else {
                        quote!(&input.#via_name)
                    };
                    lookups.push(quote! {
                        let #var = crate::repo::#repo::#find(&state.db, #source)
                            .await?
                            .ok_or_else(|| AppError::invalid(#json, "does not exist"))?;
                    });
                    if types::is_copy(self.ir, &read_field.ty) {
                        quote!(#var.#read)
                    } else {
                        quote!(#var.#read.clone())
                    }
                }
                _ => return Err("this `set` expression".into()),
            },
            Expr::Value(_) => return Err("literal `set` values".into()),
            _ => return Err("this `set` expression".into()),
        };
        Ok(Some(value))
    }
}

/// A list `scope`: `field == auth.user`, or `field in auth.user.<collection>`.
fn scope_condition(entity: EntityId, expr: &Expr) -> Result<Condition, String> {
    let unsupported = || {
        "this list scope (use `field == auth.user` or `field in auth.user.<collection>`)"
            .to_string()
    };
    let Expr::Compare { op, lhs, rhs } = expr else {
        return Err(unsupported());
    };
    let (path, caller) = match (lhs.as_ref(), rhs.as_ref()) {
        (Expr::Field(path), Expr::Caller(steps)) | (Expr::Caller(steps), Expr::Field(path)) => {
            (path, steps)
        }
        _ => return Err(unsupported()),
    };
    if path.root != entity || path.steps.len() != 1 {
        return Err(unsupported());
    }
    match (op, caller.as_slice()) {
        (CmpOp::Eq, []) => Ok(Condition::new(path.clone(), FilterOp::Eq)),
        (CmpOp::In, [Step::Collection(c)]) => Ok(Condition {
            path: path.clone(),
            op: FilterOp::Eq,
            caller_set: Some(*c),
        }),
        _ => Err(unsupported()),
    }
}

/// The one-step path to a field of `entity`.
fn field_path(entity: EntityId, field: usize) -> FieldPath {
    FieldPath {
        root: entity,
        steps: vec![Step::Field { entity, field }],
    }
}

fn parent_var(entity: &Entity, field: usize) -> syn::Ident {
    format_ident!("parent_{}", entity.fields[field].name)
}

/// `{name}` segments of a path, in order.
fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

pub(super) fn option_str(s: Option<&String>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

fn status_tokens(code: u16) -> TokenStream {
    match code {
        201 => quote!(StatusCode::CREATED),
        202 => quote!(StatusCode::ACCEPTED),
        204 => quote!(StatusCode::NO_CONTENT),
        _ => quote!(StatusCode::OK),
    }
}

/// A query parameter name as a Rust identifier.
fn names_safe(param: &str) -> String {
    crate::ir::names::snake_case(param)
}

/// The `use` items among `candidates` that `found` marks as used.
fn imports_found(candidates: &[(&str, TokenStream)], found: &[bool]) -> TokenStream {
    let uses = (candidates.iter().zip(found))
        .filter(|(_, found)| **found)
        .map(|((_, item), _)| item);
    quote!(#(#uses)*)
}
