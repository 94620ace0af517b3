//! `src/repo/`: data access, one module per exposed entity. Every statement is fixed text
//! chosen at generation time (so sqlx's per-connection statement cache always hits);
//! list queries append fixed fragments and bound values only. PostgreSQL and SQLite share
//! the SQL (`$n` placeholders, quoted identifiers, `RETURNING`) and each function is
//! written once: values bind as `crate::db::Param`s and rows read through `crate::db::Row`,
//! which convert for the database at hand (`statements.rs`).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::types::{self, ident, type_ident};
use crate::ir::{
    CollectionId, CollectionKind, Database, Entity, EntityId, FieldPath, FieldType, FilterOp, Ir,
    Step,
};
use crate::lower::sql::Dialect;
use crate::lower::sql::dialect::quote_ident as q;

/// A condition a list query (or an ownership check) can apply: a path from the entity to a
/// field, compared with a bound value; or, with `caller_set`, the field is one of the rows
/// the caller (the bound value) reaches through a collection of the identity
/// (`author in auth.user.following`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub path: FieldPath,
    pub op: FilterOp,
    pub caller_set: Option<CollectionId>,
}

impl Condition {
    pub fn new(path: FieldPath, op: FilterOp) -> Self {
        Self {
            path,
            op,
            caller_set: None,
        }
    }

    /// The `Filter` variant name: `CategoryEq`, `AuthorUsernameEq`, `PriceGte`.
    pub fn variant(&self, ir: &Ir) -> syn::Ident {
        let mut name = String::new();
        for step in &self.path.steps {
            name.push_str(&type_ident(ir.step_name(*step)).to_string());
        }
        if let Some(c) = self.caller_set {
            name.push_str("InCaller");
            name.push_str(&type_ident(&ir.collection(c).name).to_string());
            return format_ident!("{}", name);
        }
        name.push_str(match self.op {
            FilterOp::Eq => "Eq",
            FilterOp::Gte => "Gte",
            FilterOp::Lte => "Lte",
            FilterOp::Contains => "Contains",
        });
        format_ident!("{}", name)
    }

    /// The field the path ends at.
    pub fn last_field<'a>(&self, ir: &'a Ir) -> Option<&'a crate::ir::Field> {
        match self.path.steps.last()? {
            Step::Field { entity, field } => ir.entity(*entity).fields.get(*field),
            Step::Collection(_) => None,
        }
    }

    /// The Rust type of the compared value.
    pub fn value_type(&self, ir: &Ir) -> TokenStream {
        if let (Some(_), Some(auth)) = (self.caller_set, &ir.auth) {
            return types::key_type(ir, auth.identity);
        }
        self.last_field(ir)
            .map_or_else(|| quote!(String), |f| types::value_type(ir, &f.ty))
    }
}

/// The SQL before and after the bound value, e.g. `"author_id" IN (SELECT "id" FROM
/// "users" WHERE "username" = ` and `)`. `None` when a step cannot be expressed.
pub fn condition_sql(ir: &Ir, c: &Condition, dialect: Dialect) -> Option<(String, String)> {
    match c.caller_set {
        Some(collection) => caller_set_sql(ir, c, collection),
        None => path_sql(ir, c.path.root, &c.path.steps, c.op, dialect),
    }
}

/// `"author_id" IN (SELECT "followee_id" FROM "follows" WHERE "follower_id" = ` and `)`.
fn caller_set_sql(ir: &Ir, c: &Condition, collection: CollectionId) -> Option<(String, String)> {
    let [Step::Field { entity, field }] = c.path.steps.as_slice() else {
        return None;
    };
    let column = q(&ir.entity(*entity).fields.get(*field)?.column);
    let (select, from, near) = match &ir.collection(collection).kind {
        CollectionKind::ManyToMany { through, near, far } => {
            let join = ir.entity(*through);
            (
                &join.fields[ir.relation(*far).field].column,
                &join.table,
                &join.fields[ir.relation(*near).field].column,
            )
        }
        CollectionKind::Inverse { relation } => {
            let r = ir.relation(*relation);
            let target = ir.entity(r.from);
            (
                &types::primary_key(target)?.column,
                &target.table,
                &target.fields[r.field].column,
            )
        }
    };
    Some((
        format!(
            "{column} IN (SELECT {} FROM {} WHERE {} = ",
            q(select),
            q(from),
            q(near)
        ),
        ")".to_string(),
    ))
}

fn path_sql(
    ir: &Ir,
    entity: EntityId,
    steps: &[Step],
    op: FilterOp,
    dialect: Dialect,
) -> Option<(String, String)> {
    let here = ir.entity(entity);
    let pk = types::primary_key(here);
    match steps {
        [Step::Field { field, .. }] => {
            let f = here.fields.get(*field)?;
            Some(compare_sql(ir, &q(&f.column), &f.ty, op, dialect))
        }
        [Step::Field { field, .. }, rest @ ..] => {
            let f = here.fields.get(*field)?;
            let FieldType::Ref(target) = f.ty else {
                return None;
            };
            let target_pk = types::primary_key(ir.entity(target))?;
            let (p, s) = path_sql(ir, target, rest, op, dialect)?;
            Some((
                format!(
                    "{} IN (SELECT {} FROM {} WHERE {p}",
                    q(&f.column),
                    q(&target_pk.column),
                    q(&ir.entity(target).table)
                ),
                format!("{s})"),
            ))
        }
        [Step::Collection(id), rest @ ..] => {
            let collection = ir.collection(*id);
            let pk = pk?;
            match &collection.kind {
                CollectionKind::Inverse { relation } => {
                    let r = ir.relation(*relation);
                    let fk = &ir.entity(r.from).fields[r.field];
                    let (p, s) = path_sql(ir, r.from, rest, op, dialect)?;
                    Some((
                        format!(
                            "{} IN (SELECT {} FROM {} WHERE {p}",
                            q(&pk.column),
                            q(&fk.column),
                            q(&ir.entity(r.from).table)
                        ),
                        format!("{s})"),
                    ))
                }
                CollectionKind::ManyToMany { through, near, far } => {
                    let near = ir.relation(*near);
                    let far = ir.relation(*far);
                    let join = ir.entity(*through);
                    let near_col = &join.fields[near.field].column;
                    let far_col = &join.fields[far.field].column;
                    let target = ir.entity(far.to);
                    let target_pk = types::primary_key(target)?;
                    let (p, s) = path_sql(ir, far.to, rest, op, dialect)?;
                    Some((
                        format!(
                            "{} IN (SELECT {} FROM {} WHERE {} IN (SELECT {} FROM {} WHERE {p}",
                            q(&pk.column),
                            q(near_col),
                            q(&join.table),
                            q(far_col),
                            q(&target_pk.column),
                            q(&target.table)
                        ),
                        format!("{s}))"),
                    ))
                }
            }
        }
        [] => None,
    }
}

/// `column <op> ` and the closing text around the placeholder.
fn compare_sql(
    ir: &Ir,
    column: &str,
    ty: &FieldType,
    op: FilterOp,
    dialect: Dialect,
) -> (String, String) {
    let numeric_text = matches!(types::storage_type(ir, ty), FieldType::Decimal { .. })
        && dialect.decimal_as_text();
    let column = if numeric_text {
        format!("CAST({column} AS REAL)")
    } else {
        column.to_string()
    };
    let (open, close) = if numeric_text {
        ("CAST(", " AS REAL)")
    } else {
        ("", "")
    };
    match op {
        FilterOp::Eq => (format!("{column} = {open}"), close.to_string()),
        FilterOp::Gte => (format!("{column} >= {open}"), close.to_string()),
        FilterOp::Lte => (format!("{column} <= {open}"), close.to_string()),
        FilterOp::Contains => match dialect {
            Dialect::Postgres => (format!("strpos({column}, "), ") > 0".to_string()),
            Dialect::Sqlite => (format!("instr({column}, "), ") > 0".to_string()),
        },
    }
}

/// What the generated repository of one entity offers.
#[derive(Debug, Clone, Default)]
pub struct RepoSpec {
    /// Fields records are looked up by (the primary key first).
    pub lookups: Vec<usize>,
    /// Conditions list queries and ownership checks use.
    pub conditions: Vec<Condition>,
    /// Fields lists may be ordered by.
    pub sort: Vec<usize>,
    pub list: bool,
    pub insert: bool,
    pub update: bool,
    pub delete: bool,
    /// `find_many(keys)`, for embedding these records in another resource's responses.
    pub find_many: bool,
    /// `matching(keys, filter)`, for `auth.user in ...` computed fields.
    pub matching: bool,
    /// Collections whose values views list (`tags_of(keys)`).
    pub collections: Vec<CollectionId>,
    /// Collections views count (`count_favorites(keys)`).
    pub counts: Vec<CollectionId>,
    /// Collections clients write by value (`set_tags(key, names)`).
    pub writes: Vec<CollectionId>,
    /// Link operations: `link_<name>` / `unlink_<name>` for (caller, record).
    pub links: Vec<(String, crate::ir::LinkSpec)>,
    /// Password hashes written on their own (`set_password(key, hash)`).
    pub secrets: Vec<usize>,
    /// Writes share a transaction with other statements (domain events, hand-written
    /// actions), so inserts, updates and deletes also come as `_in` variants.
    pub transactional: bool,
}

impl RepoSpec {
    pub fn add_condition(&mut self, c: Condition) {
        push_unique(&mut self.conditions, c);
    }

    pub fn add_lookup(&mut self, field: usize) {
        push_unique(&mut self.lookups, field);
    }

    pub fn add_collection(&mut self, c: CollectionId) {
        push_unique(&mut self.collections, c);
    }

    pub fn add_secret(&mut self, field: usize) {
        push_unique(&mut self.secrets, field);
    }

    pub fn add_link(&mut self, name: String, link: crate::ir::LinkSpec) {
        if !self.links.iter().any(|(n, _)| *n == name) {
            self.links.push((name, link));
        }
    }

    pub fn add_write(&mut self, c: CollectionId) {
        push_unique(&mut self.writes, c);
    }

    pub fn add_count(&mut self, c: CollectionId) {
        push_unique(&mut self.counts, c);
    }

    pub fn add_sort(&mut self, field: usize) {
        push_unique(&mut self.sort, field);
    }

    /// Adds what `later` collected after this spec's uses, keeping first-use order.
    pub fn absorb(&mut self, later: RepoSpec) {
        let RepoSpec {
            lookups,
            conditions,
            sort,
            list,
            insert,
            update,
            delete,
            find_many,
            matching,
            collections,
            counts,
            writes,
            links,
            secrets,
            transactional,
        } = later;
        lookups.into_iter().for_each(|f| self.add_lookup(f));
        conditions.into_iter().for_each(|c| self.add_condition(c));
        sort.into_iter().for_each(|f| self.add_sort(f));
        collections.into_iter().for_each(|c| self.add_collection(c));
        counts.into_iter().for_each(|c| self.add_count(c));
        writes.into_iter().for_each(|c| self.add_write(c));
        links
            .into_iter()
            .for_each(|(name, link)| self.add_link(name, link));
        secrets.into_iter().for_each(|f| self.add_secret(f));
        self.list |= list;
        self.insert |= insert;
        self.update |= update;
        self.delete |= delete;
        self.find_many |= find_many;
        self.matching |= matching;
        self.transactional |= transactional;
    }
}

/// Adds `item` unless it is already listed, keeping first-use order (which output follows).
fn push_unique<T: PartialEq>(items: &mut Vec<T>, item: T) {
    if !items.contains(&item) {
        items.push(item);
    }
}

/// ` AND "deleted_at" IS NULL` for a soft-deleting entity: the condition every query that
/// must not see deleted rows appends.
pub fn live_rows(entity: &Entity) -> String {
    entity
        .soft_delete
        .map(|i| format!(" AND {} IS NULL", q(&entity.fields[i].column)))
        .unwrap_or_default()
}

/// `find_by_slug`.
pub fn find_fn(entity: &Entity, field: usize) -> syn::Ident {
    format_ident!("find_by_{}", entity.fields[field].name)
}

/// The databases the crate supports, as dialects.
fn dialects(ir: &Ir) -> Vec<Dialect> {
    crate::lower::sql::dialects(ir)
}

/// What a repository function runs on: the pool, or a transaction the service holds so
/// that several writes land together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    Pool,
    Tx,
}

impl On {
    /// The function's first parameter and the name of what it runs on.
    fn target(self) -> (TokenStream, TokenStream) {
        match self {
            On::Pool => (quote!(db: &Database), quote!(db)),
            On::Tx => (quote!(tx: &mut crate::db::Tx), quote!(tx)),
        }
    }

    /// `insert` or `insert_in`, with the doc comment of the pool version.
    fn name_and_doc(self, name: &str, doc: &str) -> (syn::Ident, String) {
        match self {
            On::Pool => (format_ident!("{}", name), doc.to_string()),
            On::Tx => (
                format_ident!("{}_in", name),
                format!(" `{name}` within the caller's transaction."),
            ),
        }
    }

    /// Which functions a spec needs on transactions: those whose entity has collection
    /// writes, since a record and its collections are written together, or whose writes
    /// publish events.
    fn both(spec: &RepoSpec) -> Vec<On> {
        if spec.writes.is_empty() && !spec.transactional {
            vec![On::Pool]
        } else {
            vec![On::Pool, On::Tx]
        }
    }
}

/// Columns an insert writes: every stored field except database-generated identities and
/// the soft-delete marker (null on insert).
pub fn insert_fields(entity: &Entity) -> Vec<usize> {
    entity
        .fields
        .iter()
        .enumerate()
        .filter(|(i, f)| {
            !matches!(f.default, Some(crate::ir::Default::Identity))
                && entity.soft_delete != Some(*i)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Columns an update writes: everything but the key, immutable fields, password hashes and
/// the soft-delete marker.
/// The `updated_at` field an update compares before it writes, if the entity has one.
pub fn update_guard(entity: &Entity) -> Option<&crate::ir::Field> {
    entity
        .fields
        .iter()
        .find(|f| f.flags.updated_at && f.ty == FieldType::Timestamp && !f.optional)
}

pub fn update_fields(entity: &Entity) -> Vec<usize> {
    types::record_fields(entity)
        .filter(|(i, f)| {
            !f.flags.primary
                && !entity.primary_key.contains(i)
                && !f.flags.immutable
                && entity.soft_delete != Some(*i)
        })
        .map(|(i, _)| i)
        .collect()
}

/// `src/repo/<entity>.rs`.
pub fn entity_rs(ir: &Ir, id: EntityId, spec: &RepoSpec) -> TokenStream {
    let entity = ir.entity(id);
    let record = type_ident(&entity.name);
    let Some(pk) = types::primary_key(entity) else {
        return quote!();
    };
    let table = q(&entity.table);
    let columns: Vec<String> = types::record_fields(entity)
        .map(|(_, f)| q(&f.column))
        .collect();
    let select_list = columns.join(", ");
    let live = live_rows(entity);

    let lookups = spec.lookups.iter().map(|field| {
        let f = &entity.fields[*field];
        let name = find_fn(entity, *field);
        let ty = types::value_type(ir, &f.ty);
        let sql = format!(
            "SELECT {select_list} FROM {table} WHERE {} = $1{live}",
            q(&f.column)
        );
        let doc = format!(
            " The live `{}` whose `{}` is `value`, if any.",
            entity.name, f.name
        );
        let konst = format_ident!("FIND_BY_{}", f.name.to_ascii_uppercase());
        quote! {
            const #konst: &str = #sql;

            #[doc = #doc]
            pub async fn #name(db: &Database, value: &#ty) -> Result<Option<#record>, AppError> {
                Ok(db.fetch_optional(#konst, &[value.param()], from_row).await?)
            }
        }
    });

    let insert = spec.insert.then(|| {
        let fields = insert_fields(entity);
        let cols: Vec<String> = fields
            .iter()
            .map(|i| q(&entity.fields[*i].column))
            .collect();
        let params: Vec<String> = (1..=fields.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({}) RETURNING {select_list}",
            cols.join(", "),
            params.join(", ")
        );
        let new_fields = fields.iter().map(|i| {
            let f = &entity.fields[*i];
            let name = ident(&f.name);
            let ty = types::field_type(ir, f);
            let doc = if f.ty == FieldType::Password {
                quote!(#[doc = " The argon2id hash, never the password."])
            } else {
                quote!()
            };
            quote!(#doc pub #name: #ty,)
        });
        let values = params_of(entity, &fields, &quote!(self));
        let count = proc_macro2::Literal::usize_unsuffixed(fields.len());
        let functions = On::both(spec).into_iter().map(|on| {
            let (target, runner) = on.target();
            let (name, doc) = on.name_and_doc(
                "insert",
                " Inserts a row; constraint violations become 409 or 422.",
            );
            quote! {
                #[doc = #doc]
                pub async fn #name(#target, new: &New) -> Result<#record, AppError> {
                    Ok(#runner.fetch_one(INSERT, &new.params(), from_row).await?)
                }
            }
        });
        quote! {
            const INSERT: &str = #sql;

            /// The values of a row to insert.
            #[derive(Debug, Clone)]
            pub struct New {
                #(#new_fields)*
            }

            impl New {
                /// The values in `INSERT`'s column order.
                fn params(&self) -> [crate::db::Param<'_>; #count] {
                    [#(#values),*]
                }
            }

            #(#functions)*
        }
    });

    let pk_name = ident(&pk.name);
    let pk_ty = types::value_type(ir, &pk.ty);
    let update = spec.update.then(|| {
        let fields = update_fields(entity);
        let sets: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(n, i)| format!("{} = ${}", q(&entity.fields[*i].column), n + 1))
            .collect();
        // With an `updated_at` column the write is a compare-and-swap on the value the
        // caller read, so a concurrent update is detected instead of silently overwritten.
        let guard = update_guard(entity);
        let guard_sql = guard
            .map(|f| format!(" AND {} = ${}", q(&f.column), fields.len() + 2))
            .unwrap_or_default();
        let sql = format!(
            "UPDATE {table} SET {} WHERE {} = ${}{live}{guard_sql} RETURNING {select_list}",
            sets.join(", "),
            q(&pk.column),
            fields.len() + 1
        );
        let (seen_param, seen_in_params, seen_arg, seen_value, doc) = match guard {
            Some(_) => (
                quote!(seen: &chrono::DateTime<chrono::Utc>,),
                quote!(seen: &'a chrono::DateTime<chrono::Utc>,),
                quote!(seen),
                Some(quote!(seen.param())),
                " Writes every mutable column of `record` if the row still has the `updated_at` the caller `seen`; `None` when the row is gone or changed since.",
            ),
            None => (quote!(), quote!(), quote!(), None, " Writes every mutable column of `record`; `None` when the row is gone."),
        };
        let mut values = params_of(entity, &fields, &quote!(record));
        values.push(quote!(record.#pk_name.param()));
        values.extend(seen_value);
        let count = proc_macro2::Literal::usize_unsuffixed(values.len());
        let functions = On::both(spec).into_iter().map(|on| {
            let (target, runner) = on.target();
            let (name, doc) = on.name_and_doc("update", doc);
            quote! {
                #[doc = #doc]
                pub async fn #name(#target, record: &#record, #seen_param) -> Result<Option<#record>, AppError> {
                    Ok(#runner.fetch_optional(UPDATE, &update_params(record, #seen_arg), from_row).await?)
                }
            }
        });
        quote! {
            const UPDATE: &str = #sql;

            /// The values in `UPDATE`'s placeholder order.
            fn update_params<'a>(record: &'a #record, #seen_in_params) -> [crate::db::Param<'a>; #count] {
                [#(#values),*]
            }

            #(#functions)*
        }
    });

    let delete = spec.delete.then(|| {
        let (sql, soft) = match entity.soft_delete {
            Some(i) => (
                format!(
                    "UPDATE {table} SET {} = $2 WHERE {} = $1{live}",
                    q(&entity.fields[i].column),
                    q(&pk.column)
                ),
                true,
            ),
            None => (
                format!("DELETE FROM {table} WHERE {} = $1", q(&pk.column)),
                false,
            ),
        };
        let (doc, now, values) = if soft {
            (
                " Marks the row deleted (soft delete); false when there was none.",
                Some(quote!(let now = chrono::Utc::now();)),
                quote!(&[key.param(), now.param()]),
            )
        } else {
            (
                " Deletes the row; false when there was none.",
                None,
                quote!(&[key.param()]),
            )
        };
        let functions = On::both(spec).into_iter().map(|on| {
            let (target, runner) = on.target();
            let (name, doc) = on.name_and_doc("delete", doc);
            quote! {
                #[doc = #doc]
                pub async fn #name(#target, key: &#pk_ty) -> Result<bool, AppError> {
                    #now
                    Ok(#runner.execute(DELETE, #values).await? > 0)
                }
            }
        });
        quote! {
            const DELETE: &str = #sql;

            #(#functions)*
        }
    });

    let list = (spec.list || !spec.conditions.is_empty())
        .then(|| list_items(ir, entity, spec, &select_list, &live));
    let batches = batch_items(ir, id, spec, &select_list, &live);
    let decoder = decoder(ir, entity);

    // Only `find_many` and `matching` bind without calling `param` themselves.
    let binds = !spec.lookups.is_empty()
        || spec.insert
        || spec.update
        || spec.delete
        || list.is_some()
        || spec
            .writes
            .iter()
            .any(|c| collection_write_sql(ir, *c).is_some())
        || (ir.auth.is_some() && spec.links.iter().any(|(_, l)| link_sql(ir, l).is_some()))
        || !spec.secrets.is_empty()
        || ir.auth.as_ref().is_some_and(|a| a.identity == id);
    let to_param = binds.then(|| {
        quote!(
            use crate::db::ToParam as _;
        )
    });
    let header = format!(
        " Data access for `{}` (table `{}`).",
        entity.name, entity.table
    );
    quote! {
        #![doc = #header]

        use crate::db::Database;
        #to_param
        use crate::domain::#record;
        use crate::error::AppError;

        #(#lookups)*
        #insert
        #update
        #delete
        #list
        #batches
        #decoder
    }
}

/// `value.field.param()` for each of `fields`, in order.
fn params_of(entity: &Entity, fields: &[usize], value: &TokenStream) -> Vec<TokenStream> {
    fields
        .iter()
        .map(|i| {
            let name = ident(&entity.fields[*i].name);
            quote!(#value.#name.param())
        })
        .collect()
}

/// `from_row`: the record from a row selected in column order.
fn decoder(ir: &Ir, entity: &Entity) -> TokenStream {
    let record = type_ident(&entity.name);
    let fields = types::record_fields(entity).enumerate().map(|(n, (_, f))| {
        let field = ident(&f.name);
        let value = types::read_column(ir, f, n, false);
        quote!(#field: #value,)
    });
    let doc = format!(" A `{}` from a row selected in column order.", entity.name);
    quote! {
        #[doc = #doc]
        fn from_row(row: crate::db::Row<'_>) -> Result<#record, sqlx::Error> {
            Ok(#record {
                #(#fields)*
            })
        }
    }
}

/// The `Filter` and `Sort` types and `list`, `count` and `matches`.
fn list_items(
    ir: &Ir,
    entity: &Entity,
    spec: &RepoSpec,
    select_list: &str,
    live: &str,
) -> TokenStream {
    let record = type_ident(&entity.name);
    let table = q(&entity.table);
    let pk = types::primary_key(entity).map(|f| (f, q(&f.column)));
    let variants = spec.conditions.iter().map(|c| {
        let v = c.variant(ir);
        let ty = c.value_type(ir);
        let doc = format!(
            " `{}` {}.",
            ir.path_name(&c.path),
            match c.op {
                FilterOp::Eq => "equals the value",
                FilterOp::Gte => "is at least the value",
                FilterOp::Lte => "is at most the value",
                FilterOp::Contains => "contains the value",
            }
        );
        quote!(#[doc = #doc] #v(#ty),)
    });
    let sort_variants: Vec<_> = spec
        .sort
        .iter()
        .map(|i| type_ident(&entity.fields[*i].name))
        .collect();
    let filter_arms = spec.conditions.iter().filter_map(|c| {
        let v = c.variant(ir);
        let sql: Vec<(String, String)> = dialects(ir)
            .into_iter()
            .map(|d| condition_sql(ir, c, d))
            .collect::<Option<_>>()?;
        let push = |(prefix, suffix): &(String, String)| {
            let suffix = (!suffix.is_empty()).then(|| quote!(.push(#suffix)));
            quote!(query.push(#prefix).bind(value.param()) #suffix;)
        };
        let body = match sql.as_slice() {
            [pg, sqlite] if pg != sqlite => {
                let (pg, sqlite) = (push(pg), push(sqlite));
                quote!(if query.sqlite() { #sqlite } else { #pg })
            }
            [one, ..] => push(one),
            [] => return None,
        };
        Some(quote!(Filter::#v(value) => { #body }))
    });
    let push_filter = quote! {
        fn push_filter<'a>(query: &mut crate::db::Statement<'a>, filter: &'a Filter) {
            match filter {
                #(#filter_arms)*
                Filter::AnyOf(any) => {
                    query.push("(");
                    if any.is_empty() {
                        query.push("1 = 0");
                    }
                    for (n, filter) in any.iter().enumerate() {
                        if n > 0 {
                            query.push(" OR ");
                        }
                        push_filter(query, filter);
                    }
                    query.push(")");
                }
            }
        }
    };
    let order_arms = spec.sort.iter().map(|i| {
        let f = &entity.fields[*i];
        let v = type_ident(&f.name);
        let column = q(&f.column);
        let tie = pk
            .as_ref()
            .filter(|(p, _)| p.name != f.name)
            .map(|(_, c)| format!(", {c}"))
            .unwrap_or_default();
        let numeric_text = matches!(types::storage_type(ir, &f.ty), FieldType::Decimal { .. });
        let (pg_col, sqlite_col) = if numeric_text {
            (column.clone(), format!("CAST({column} AS REAL)"))
        } else {
            (column.clone(), column.clone())
        };
        let asc = |col: &str| format!(" ORDER BY {col} ASC{tie}");
        let desc = |col: &str| format!(" ORDER BY {col} DESC{tie}");
        if pg_col == sqlite_col {
            let (a, d) = (asc(&pg_col), desc(&pg_col));
            quote! {
                (Sort::#v, false, _) => #a,
                (Sort::#v, true, _) => #d,
            }
        } else {
            let (pa, pd, sa, sd) = (
                asc(&pg_col),
                desc(&pg_col),
                asc(&sqlite_col),
                desc(&sqlite_col),
            );
            quote! {
                (Sort::#v, false, false) => #pa,
                (Sort::#v, true, false) => #pd,
                (Sort::#v, false, true) => #sa,
                (Sort::#v, true, true) => #sd,
            }
        }
    });
    let select = format!("SELECT {select_list} FROM {table} WHERE 1 = 1{live}");
    let count = format!("SELECT COUNT(*) FROM {table} WHERE 1 = 1{live}");
    // The key's placeholder is pushed by the builder, so the text ends before it.
    let exists = pk
        .as_ref()
        .map(|(_, c)| format!("SELECT COUNT(*) FROM {table} WHERE 1 = 1{live} AND {c} = "));
    let matches = pk.as_ref().zip(exists).map(|((pk_field, _), exists)| {
        let key_ty = types::value_type(ir, &pk_field.ty);
        quote! {
            /// Counts the live row with a key (bound next) that also matches a filter.
            const EXISTS: &str = #exists;

            /// Whether the live row with this key satisfies `filter` (ownership through
            /// related rows).
            pub async fn matches(db: &Database, key: &#key_ty, filter: &Filter) -> Result<bool, AppError> {
                let mut query = db.statement(EXISTS);
                query.bind(key.param()).push(" AND ");
                push_filter(&mut query, filter);
                Ok(db.count(query.sql(), query.params()).await? > 0)
            }
        }
    });
    let sort_doc = sort_variants.iter().map(|v| format!(" Order by `{v}`."));
    let has_sort = !spec.sort.is_empty();
    let sort_type = if has_sort {
        quote! {
            /// Orders a list may be sorted by; the key breaks ties so pages are stable.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub enum Sort {
                #( #[doc = #sort_doc] #sort_variants, )*
            }

            fn order_by(sort: Sort, descending: bool, sqlite: bool) -> &'static str {
                match (sort, descending, sqlite) {
                    #(#order_arms)*
                }
            }
        }
    } else {
        let order = pk
            .as_ref()
            .map(|(_, c)| format!(" ORDER BY {c} ASC"))
            .unwrap_or_default();
        quote! {
            /// This entity's lists have one order: by key.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub enum Sort {
                /// By key.
                Key,
            }

            fn order_by(_sort: Sort, _descending: bool, _sqlite: bool) -> &'static str {
                #order
            }
        }
    };
    quote! {
        /// Live rows; filters and the order are appended.
        const SELECT: &str = #select;
        /// How many live rows match; filters are appended.
        const COUNT: &str = #count;

        /// A condition on listed rows; values are always bound, never spliced.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Filter {
            #(#variants)*
            /// Any of the conditions (ownership by one of several fields).
            AnyOf(Vec<Filter>),
        }

        #sort_type

        /// One page of a list.
        #[derive(Debug, Clone)]
        pub struct ListQuery {
            pub filters: Vec<Filter>,
            pub sort: Sort,
            pub descending: bool,
            pub limit: i64,
            pub offset: i64,
        }

        /// The rows of one page and the number of rows matching the filters.
        pub async fn list(db: &Database, query: &ListQuery) -> Result<(Vec<#record>, i64), AppError> {
            let mut counting = db.statement(COUNT);
            let mut select = db.statement(SELECT);
            for filter in &query.filters {
                push_filter(counting.push(" AND "), filter);
                push_filter(select.push(" AND "), filter);
            }
            let order = order_by(query.sort, query.descending, select.sqlite());
            select
                .push(order)
                .push(" LIMIT ")
                .bind(query.limit.param())
                .push(" OFFSET ")
                .bind(query.offset.param());
            Ok(db.page(&counting, &select, from_row).await?)
        }

        #matches

        #push_filter
    }
}

/// `src/repo/mod.rs`: modules, and conversions shared by all of them.
pub fn mod_rs(ir: &Ir, entities: &[EntityId]) -> TokenStream {
    let modules = entities.iter().map(|id| {
        let m = ident(&crate::ir::names::plural(&crate::ir::names::snake_case(
            &ir.entity(*id).name,
        )));
        quote!(pub mod #m;)
    });
    let sessions = ir.auth.is_some().then(|| {
        let m = ident(super::sessions::MODULE);
        quote!(pub mod #m;)
    });
    let keys = super::api_keys::of(ir).map(|_| {
        let m = ident(super::api_keys::MODULE);
        quote!(pub mod #m;)
    });
    let outbox = ir.emits_events().then(|| {
        let m = ident(super::events::MODULE);
        quote!(pub mod #m;)
    });
    let sqlite = ir.service.databases.contains(&Database::Sqlite).then(|| {
        quote! {
            /// Timestamps are stored in SQLite as RFC 3339 text with milliseconds and `Z`,
            /// the same form the schema's defaults write, so they sort as text.
            pub fn sqlite_timestamp(at: &chrono::DateTime<chrono::Utc>) -> String {
                at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            }

            /// SQLite stores decimals as text.
            pub fn decode_decimal(text: String) -> Result<rust_decimal::Decimal, sqlx::Error> {
                text.parse().map_err(|err| sqlx::Error::Decode(Box::new(err)))
            }
        }
    });
    quote! {
        //! Data access, one module per entity. Functions take the `Database` and domain
        //! types and return domain records; constraint violations map to client errors in
        //! `crate::error`.

        #(#modules)*
        #keys
        #sessions
        #outbox

        /// An enum column's text as the enum; anything else is a corrupt row.
        pub fn decode_enum<T: std::str::FromStr<Err = String>>(text: String) -> Result<T, sqlx::Error> {
            text.parse().map_err(|err: String| sqlx::Error::Decode(err.into()))
        }

        #sqlite
    }
}

/// The module path of an entity's repository: `crate::repo::products`.
pub fn module(ir: &Ir, id: EntityId) -> syn::Ident {
    ident(&crate::ir::names::plural(&crate::ir::names::snake_case(
        &ir.entity(id).name,
    )))
}

/// The type of a collection's values in responses: the `@write_by` field, else the key of
/// the related rows.
pub fn collection_value_type(ir: &Ir, c: CollectionId) -> Option<TokenStream> {
    let field = collection_value_field(ir, c)?;
    Some(types::value_type(ir, &field.ty))
}

/// The related entity and the field of it a collection lists.
fn collection_value_field(ir: &Ir, c: CollectionId) -> Option<&crate::ir::Field> {
    let collection = ir.collection(c);
    let target = ir.entity(collection.target);
    match collection.write_by {
        Some(i) => target.fields.get(i),
        None => types::primary_key(target),
    }
}

/// A field decoded as never null (keys selected with `IN` are never null).
fn required(field: &crate::ir::Field) -> crate::ir::Field {
    let mut f = field.clone();
    f.optional = false;
    f
}

/// Functions that take the keys of a page of records: `find_many`, `matching`, and the
/// values and counts of collections.
fn batch_items(
    ir: &Ir,
    id: EntityId,
    spec: &RepoSpec,
    select_list: &str,
    live: &str,
) -> TokenStream {
    let entity = ir.entity(id);
    let record = type_ident(&entity.name);
    let Some(pk) = types::primary_key(entity) else {
        return quote!();
    };
    let table = q(&entity.table);
    let key_ty = types::value_type(ir, &pk.ty);
    let mut out = TokenStream::new();
    if spec.find_many {
        let sql = format!(
            "SELECT {select_list} FROM {table} WHERE 1 = 1{live} AND {} IN (",
            q(&pk.column)
        );
        out.extend(keyed_fn(
            ir,
            &KeyedFn {
                name: format_ident!("find_many"),
                konst: format_ident!("FIND_MANY"),
                doc: " The live rows with these keys, in no particular order.",
                sql,
                tail: ")".into(),
                key: pk,
                params: quote!(),
                output: quote!(Vec<#record>),
                filter: false,
                decode: quote!(from_row),
                collect: None,
            },
        ));
    }
    if spec.matching && !spec.conditions.is_empty() {
        let sql = format!(
            "SELECT {} FROM {table} WHERE 1 = 1{live} AND {} IN (",
            q(&pk.column),
            q(&pk.column)
        );
        let pk_field = required(pk);
        out.extend(keyed_fn(
            ir,
            &KeyedFn {
                name: format_ident!("matching"),
                konst: format_ident!("MATCHING"),
                doc: " Which of these keys belong to live rows that satisfy `filter`.",
                sql,
                tail: ") AND ".into(),
                key: pk,
                params: quote!(filter: &Filter,),
                output: quote!(std::collections::HashSet<#key_ty>),
                filter: true,
                decode: if types::reads_as_is(ir, &pk_field) {
                    let ty = types::field_type(ir, &pk_field);
                    quote!(|row| row.get::<#ty>(0))
                } else {
                    let key = types::read_column(ir, &pk_field, 0, true);
                    quote!(|row| Ok(#key))
                },
                collect: Some(quote!(.into_iter().collect())),
            },
        ));
    }
    for c in &spec.collections {
        let (Some((from, near, live)), Some(value)) =
            (collection_rows(ir, *c), collection_value(ir, *c))
        else {
            continue;
        };
        let value_field = required(value.1);
        let near_field = required(near.1);
        let value_ty = types::value_type(ir, &value_field.ty);
        let name = &ir.collection(*c).name;
        let sql = format!(
            "SELECT {near_col}, {val_col} FROM {from} WHERE {live}{near_col} IN (",
            near_col = near.0,
            val_col = value.0,
        );
        let doc = format!(" The `{name}` of each of these rows, as (key, value) pairs.");
        out.extend(keyed_fn(
            ir,
            &KeyedFn {
                name: format_ident!("{}_of", name),
                konst: format_ident!("{}_OF", name.to_ascii_uppercase()),
                doc: &doc,
                sql,
                tail: format!(") ORDER BY {}", value.0),
                key: pk,
                params: quote!(),
                output: quote!(Vec<(#key_ty, #value_ty)>),
                filter: false,
                decode: {
                    let k = types::read_column(ir, &near_field, 0, true);
                    let v = types::read_column(ir, &value_field, 1, true);
                    quote!(|row| Ok((#k, #v)))
                },
                collect: None,
            },
        ));
    }
    for c in &spec.writes {
        out.extend(set_collection_fn(ir, pk, *c));
    }
    for (name, link) in &spec.links {
        out.extend(link_fns(ir, pk, name, link));
    }
    for field in &spec.secrets {
        out.extend(set_secret_fn(ir, entity, pk, *field, live));
    }
    for c in &spec.counts {
        let Some((from, near, live)) = collection_rows(ir, *c) else {
            continue;
        };
        let near_field = required(near.1);
        let name = &ir.collection(*c).name;
        let sql = format!(
            "SELECT {near_col}, COUNT(*) FROM {from} WHERE {live}{near_col} IN (",
            near_col = near.0
        );
        let doc = format!(" How many `{name}` each of these rows has; rows with none are absent.");
        out.extend(keyed_fn(
            ir,
            &KeyedFn {
                name: format_ident!("count_{}", name),
                konst: format_ident!("COUNT_{}", name.to_ascii_uppercase()),
                doc: &doc,
                sql,
                tail: format!(") GROUP BY {}", near.0),
                key: pk,
                params: quote!(),
                output: quote!(Vec<(#key_ty, i64)>),
                filter: false,
                decode: {
                    let k = types::read_column(ir, &near_field, 0, true);
                    quote!(|row| Ok((#k, row.get::<i64>(1)?)))
                },
                collect: None,
            },
        ));
    }
    out
}

/// Where a collection's rows come from: the `FROM` clause, and the column (and field)
/// that points at the owner. Many-to-many joins alias the join `j` and the target `t`.
/// The rows of a collection: the `FROM` clause, the column (and field) naming the owning
/// row, and the condition, ending in `AND`, that leaves soft-deleted targets out.
fn collection_rows(
    ir: &Ir,
    c: CollectionId,
) -> Option<(String, (String, &crate::ir::Field), String)> {
    let collection = ir.collection(c);
    let target = ir.entity(collection.target);
    let live = |qualifier: &str| {
        target
            .soft_delete
            .map(|i| format!("{qualifier}{} IS NULL AND ", q(&target.fields[i].column)))
            .unwrap_or_default()
    };
    match &collection.kind {
        CollectionKind::Inverse { relation } => {
            let r = ir.relation(*relation);
            let target = ir.entity(r.from);
            let fk = &target.fields[r.field];
            Some((q(&target.table), (q(&fk.column), fk), live("")))
        }
        CollectionKind::ManyToMany { through, near, far } => {
            let join = ir.entity(*through);
            let near_field = &join.fields[ir.relation(*near).field];
            let far_field = &join.fields[ir.relation(*far).field];
            let target = ir.entity(collection.target);
            let target_pk = types::primary_key(target)?;
            let from = format!(
                "{} AS \"j\" JOIN {} AS \"t\" ON \"t\".{} = \"j\".{}",
                q(&join.table),
                q(&target.table),
                q(&target_pk.column),
                q(&far_field.column)
            );
            Some((
                from,
                (format!("\"j\".{}", q(&near_field.column)), near_field),
                live("\"t\"."),
            ))
        }
    }
}

/// The column (and field) holding the value a collection lists.
fn collection_value(ir: &Ir, c: CollectionId) -> Option<(String, &crate::ir::Field)> {
    let value = collection_value_field(ir, c)?;
    Some(match ir.collection(c).kind {
        CollectionKind::Inverse { .. } => (q(&value.column), value),
        CollectionKind::ManyToMany { .. } => (format!("\"t\".{}", q(&value.column)), value),
    })
}

/// A repository function over a list of keys: `SELECT ... IN ($1, $2, ...)`.
struct KeyedFn<'a> {
    name: syn::Ident,
    konst: syn::Ident,
    doc: &'a str,
    /// The statement up to the opening of the key list.
    sql: String,
    /// What follows the key list (`)`, `) ORDER BY ...`, `) AND ` before a filter).
    tail: String,
    key: &'a crate::ir::Field,
    params: TokenStream,
    output: TokenStream,
    filter: bool,
    /// A function or closure from a row to `Result<item, sqlx::Error>`.
    decode: TokenStream,
    /// Turns the rows' `Vec` into the output, if it is not one.
    collect: Option<TokenStream>,
}

fn keyed_fn(ir: &Ir, f: &KeyedFn<'_>) -> TokenStream {
    let KeyedFn {
        name,
        konst,
        doc,
        sql,
        tail,
        key,
        params,
        output,
        ..
    } = f;
    let key_ty = types::value_type(ir, &key.ty);
    let filter = f.filter.then(|| quote!(push_filter(&mut query, filter);));
    let decode = &f.decode;
    let collect = &f.collect;
    quote! {
        const #konst: &str = #sql;

        #[doc = #doc]
        pub async fn #name(db: &Database, keys: &[#key_ty], #params) -> Result<#output, AppError> {
            if keys.is_empty() {
                return Ok(Default::default());
            }
            let mut query = db.statement(#konst);
            query.bind_all(keys).push(#tail);
            #filter
            Ok(db.fetch_all(query.sql(), query.params(), #decode).await? #collect)
        }
    }
}

/// The statements that replace a many-to-many collection written by value: create missing
/// targets, drop the old links, link the named targets. `None` when the collection cannot be
/// written that way (not many-to-many, no `@write_by`, or targets with required columns the
/// database cannot fill).
pub struct CollectionWrite<'a> {
    /// `INSERT INTO tags (id, name) VALUES (` … `) ON CONFLICT (name) DO NOTHING`: the target
    /// key (when the service generates it) then the value.
    pub create_target: (String, String),
    /// The target's key, when the service generates it (uuid defaults).
    pub target_key: Option<&'a crate::ir::Field>,
    pub value: &'a crate::ir::Field,
    /// `DELETE FROM article_tags WHERE article_id = $1`.
    pub unlink: String,
    /// `INSERT INTO article_tags (article_id, tag_id) SELECT ` … `, "id" FROM "tags" WHERE "name" IN (` … `)`.
    pub link: (String, String),
}

pub fn collection_write_sql(ir: &Ir, c: CollectionId) -> Option<CollectionWrite<'_>> {
    let collection = ir.collection(c);
    let CollectionKind::ManyToMany { through, near, far } = &collection.kind else {
        return None;
    };
    let target = ir.entity(collection.target);
    let value = target.fields.get(collection.write_by?)?;
    let target_pk = types::primary_key(target)?;
    let generated_key = matches!(
        target_pk.default,
        Some(crate::ir::Default::Uuid4 | crate::ir::Default::Uuid7)
    );
    // Every other required column of the target needs a database default.
    let fillable = target.fields.iter().all(|f| {
        f.name == value.name
            || f.name == target_pk.name
            || f.optional
            || matches!(
                f.default,
                Some(
                    crate::ir::Default::Now
                        | crate::ir::Default::Value(_)
                        | crate::ir::Default::EnumVariant(_)
                        | crate::ir::Default::Identity
                )
            )
    });
    if !fillable
        || !(generated_key || matches!(target_pk.default, Some(crate::ir::Default::Identity)))
    {
        return None;
    }
    let join = ir.entity(*through);
    let near_col = q(&join.fields[ir.relation(*near).field].column);
    let far_col = q(&join.fields[ir.relation(*far).field].column);
    let columns = if generated_key {
        format!("{}, {}", q(&target_pk.column), q(&value.column))
    } else {
        q(&value.column)
    };
    Some(CollectionWrite {
        create_target: (
            format!("INSERT INTO {} ({columns}) VALUES (", q(&target.table)),
            format!(") ON CONFLICT ({}) DO NOTHING", q(&value.column)),
        ),
        target_key: generated_key.then_some(target_pk),
        value,
        unlink: format!("DELETE FROM {} WHERE {near_col} = $1", q(&join.table)),
        link: (
            format!(
                "INSERT INTO {} ({near_col}, {far_col}) SELECT ",
                q(&join.table)
            ),
            format!(
                ", {} FROM {} WHERE {} IN (",
                q(&target_pk.column),
                q(&target.table),
                q(&value.column)
            ),
        ),
    })
}

/// `set_<collection>(key, values)`: the collection becomes exactly `values`, in one
/// transaction.
fn set_collection_fn(ir: &Ir, key: &crate::ir::Field, c: CollectionId) -> Option<TokenStream> {
    let w = collection_write_sql(ir, c)?;
    let name = &ir.collection(c).name;
    let set = format_ident!("set_{}", name);
    let key_ty = types::value_type(ir, &key.ty);
    let value_ty = types::value_type(ir, &w.value.ty);
    let (create_open, create_close) = &w.create_target;
    let create = match w.target_key {
        Some(_) => format!("{create_open}$1, $2{create_close}"),
        None => format!("{create_open}$1{create_close}"),
    };
    let new_key = w.target_key.map(|k| {
        if matches!(k.default, Some(crate::ir::Default::Uuid4)) {
            quote!(uuid::Uuid::new_v4().param(),)
        } else {
            quote!(uuid::Uuid::now_v7().param(),)
        }
    });
    let unlink = &w.unlink;
    let (link_open, link_from) = &w.link;
    let doc = format!(
        " Makes the row's `{name}` exactly `values`, creating missing targets, within the caller's transaction."
    );
    Some(quote! {
        #[doc = #doc]
        pub async fn #set(tx: &mut crate::db::Tx, key: &#key_ty, values: &[#value_ty]) -> Result<(), AppError> {
            for value in values {
                tx.execute(#create, &[#new_key value.param()]).await?;
            }
            tx.execute(#unlink, &[key.param()]).await?;
            if !values.is_empty() {
                let mut link = tx.statement(#link_open);
                link.bind(key.param()).push(#link_from).bind_all(values).push(")");
                tx.execute(link.sql(), link.params()).await?;
            }
            Ok(())
        }
    })
}

/// `INSERT` and `DELETE` of a link's join row, binding the caller as `$1` and the record as
/// `$2`; `None` when the join has required columns the database cannot fill.
pub fn link_sql(ir: &Ir, link: &crate::ir::LinkSpec) -> Option<(String, String)> {
    let join = ir.entity(link.through);
    let caller_field = ir.relation(link.caller).field;
    let target_field = ir.relation(link.target).field;
    let fillable = join.fields.iter().enumerate().all(|(i, f)| {
        i == caller_field
            || i == target_field
            || f.optional
            || matches!(
                f.default,
                Some(
                    crate::ir::Default::Now
                        | crate::ir::Default::Value(_)
                        | crate::ir::Default::EnumVariant(_)
                        | crate::ir::Default::Identity
                )
            )
    });
    if !fillable {
        return None;
    }
    let caller_col = q(&join.fields[caller_field].column);
    let target_col = q(&join.fields[target_field].column);
    let table = q(&join.table);
    Some((
        format!(
            "INSERT INTO {table} ({caller_col}, {target_col}) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        ),
        format!("DELETE FROM {table} WHERE {caller_col} = $1 AND {target_col} = $2"),
    ))
}

/// `link_<name>(caller, key)` and `unlink_<name>(caller, key)`.
fn link_fns(
    ir: &Ir,
    key: &crate::ir::Field,
    name: &str,
    link: &crate::ir::LinkSpec,
) -> Option<TokenStream> {
    let (insert, delete) = link_sql(ir, link)?;
    let auth = ir.auth.as_ref()?;
    let caller_ty = types::key_type(ir, auth.identity);
    // Links bind the caller by the identity's key, so it needs one.
    types::primary_key(ir.entity(auth.identity))?;
    let key_ty = types::value_type(ir, &key.ty);
    let join = &ir.entity(link.through).name;
    let fns = [
        (
            format_ident!("link_{}", name),
            insert,
            format!(
                " Adds the `{join}` row of the caller and the record; an existing one is kept."
            ),
        ),
        (
            format_ident!("unlink_{}", name),
            delete,
            format!(" Removes the `{join}` row of the caller and the record, if any."),
        ),
    ];
    let items = fns.into_iter().map(|(fn_name, sql, doc)| {
        quote! {
            #[doc = #doc]
            pub async fn #fn_name(db: &Database, caller: &#caller_ty, key: &#key_ty) -> Result<(), AppError> {
                db.execute(#sql, &[caller.param(), key.param()]).await?;
                Ok(())
            }
        }
    });
    Some(quote!(#(#items)*))
}

/// `set_<password>(key, hash)`: stores a new password hash.
fn set_secret_fn(
    ir: &Ir,
    entity: &Entity,
    key: &crate::ir::Field,
    field: usize,
    live: &str,
) -> TokenStream {
    let f = &entity.fields[field];
    let name = format_ident!("set_{}", f.name);
    let sql = format!(
        "UPDATE {} SET {} = $1 WHERE {} = $2{live}",
        q(&entity.table),
        q(&f.column),
        q(&key.column)
    );
    let key_ty = types::value_type(ir, &key.ty);
    let doc = format!(
        " Stores a new `{}` hash (argon2id, never the password).",
        f.name
    );
    quote! {
        #[doc = #doc]
        pub async fn #name(db: &Database, key: &#key_ty, hash: &str) -> Result<(), AppError> {
            db.execute(#sql, &[hash.param(), key.param()]).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RepoSpec;

    /// Resources lowered in two runs must give the repository one pass would.
    #[test]
    fn absorbing_a_later_run_equals_one_pass() {
        let uses: [fn(&mut RepoSpec); 6] = [
            |s| s.add_lookup(0),
            |s| {
                s.add_sort(4);
                s.list = true;
            },
            |s| s.add_lookup(2),
            |s| {
                s.add_lookup(0);
                s.add_sort(1);
            },
            |s| s.delete = true,
            |s| {
                s.add_sort(4);
                s.add_secret(3);
            },
        ];
        let mut one_pass = RepoSpec::default();
        uses.iter().for_each(|u| u(&mut one_pass));
        for split in 0..=uses.len() {
            let (first, second) = uses.split_at(split);
            let mut merged = RepoSpec::default();
            first.iter().for_each(|u| u(&mut merged));
            let mut later = RepoSpec::default();
            second.iter().for_each(|u| u(&mut later));
            merged.absorb(later);
            assert_eq!(
                format!("{merged:?}"),
                format!("{one_pass:?}"),
                "split at {split}"
            );
        }
    }
}
