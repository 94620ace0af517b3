//! `src/repo/`: data access, one module per exposed entity. Every statement is fixed text
//! chosen at generation time (so sqlx's per-connection statement cache always hits);
//! list queries append fixed fragments and bound values only. PostgreSQL and SQLite share
//! the SQL (`$n` placeholders, quoted identifiers, `RETURNING`); what differs is how values
//! are bound and decoded, so each database gets its own small functions.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::types::{self, ident, type_ident};
use crate::ir::{
    CollectionKind, Database, Entity, EntityId, FieldPath, FieldType, FilterOp, Ir, Step,
};
use crate::lower::sql::Dialect;
use crate::lower::sql::dialect::quote_ident as q;

/// A condition a list query (or an ownership check) can apply: a path from the entity to a
/// field, compared with a bound value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub path: FieldPath,
    pub op: FilterOp,
}

impl Condition {
    /// The `Filter` variant name: `CategoryEq`, `AuthorUsernameEq`, `PriceGte`.
    pub fn variant(&self, ir: &Ir) -> syn::Ident {
        let mut name = String::new();
        for step in &self.path.steps {
            name.push_str(&type_ident(ir.step_name(*step)).to_string());
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
        self.last_field(ir)
            .map_or_else(|| quote!(String), |f| types::value_type(ir, &f.ty))
    }
}

/// The SQL before and after the bound value, e.g. `"author_id" IN (SELECT "id" FROM
/// "users" WHERE "username" = ` and `)`. `None` when a step cannot be expressed.
pub fn condition_sql(ir: &Ir, c: &Condition, dialect: Dialect) -> Option<(String, String)> {
    let (prefix, suffix) = path_sql(ir, c.path.root, &c.path.steps, c.op, dialect)?;
    Some((prefix, suffix))
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
}

impl RepoSpec {
    pub fn add_condition(&mut self, c: Condition) {
        if !self.conditions.contains(&c) {
            self.conditions.push(c);
        }
    }

    pub fn add_lookup(&mut self, field: usize) {
        if !self.lookups.contains(&field) {
            self.lookups.push(field);
        }
    }

    pub fn add_sort(&mut self, field: usize) {
        if !self.sort.contains(&field) {
            self.sort.push(field);
        }
    }
}

/// `find_by_slug`.
pub fn find_fn(entity: &Entity, field: usize) -> syn::Ident {
    format_ident!("find_by_{}", entity.fields[field].name)
}

/// The databases the crate supports, as dialects.
fn dialects(ir: &Ir) -> Vec<Dialect> {
    crate::lower::sql::dialects(ir)
}

fn variant(d: Dialect) -> TokenStream {
    match d {
        Dialect::Postgres => quote!(Postgres),
        Dialect::Sqlite => quote!(Sqlite),
    }
}

fn row_type(d: Dialect) -> TokenStream {
    match d {
        Dialect::Postgres => quote!(sqlx::postgres::PgRow),
        Dialect::Sqlite => quote!(sqlx::sqlite::SqliteRow),
    }
}

fn db_type(d: Dialect) -> TokenStream {
    match d {
        Dialect::Postgres => quote!(sqlx::Postgres),
        Dialect::Sqlite => quote!(sqlx::Sqlite),
    }
}

fn suffix(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "pg",
        Dialect::Sqlite => "sqlite",
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
    let live = entity
        .soft_delete
        .map(|i| format!(" AND {} IS NULL", q(&entity.fields[i].column)))
        .unwrap_or_default();
    let dialects = dialects(ir);

    let decoders = dialects.iter().map(|d| decoder(ir, entity, *d));
    let lookups = spec.lookups.iter().map(|field| {
        let f = &entity.fields[*field];
        let name = find_fn(entity, *field);
        let ty = types::value_type(ir, &f.ty);
        let sql = format!(
            "SELECT {select_list} FROM {table} WHERE {} = $1{live}",
            q(&f.column)
        );
        let doc = format!(" The live `{}` whose `{}` is `value`, if any.", entity.name, f.name);
        let konst = format_ident!("FIND_BY_{}", f.name.to_ascii_uppercase());
        let arms = dialects.iter().map(|d| {
            let v = variant(*d);
            let bind = types::bind_value(ir, &f.ty, false, *d, quote!(value), true);
            let from = format_ident!("from_{}", suffix(*d));
            quote! {
                Database::#v(pool) => sqlx::query(#konst).bind(#bind).fetch_optional(pool).await?.as_ref().map(#from).transpose()?,
            }
        });
        quote! {
            const #konst: &str = #sql;

            #[doc = #doc]
            pub async fn #name(db: &Database, value: &#ty) -> Result<Option<#record>, AppError> {
                Ok(match db {
                    #(#arms)*
                })
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
        let arms = dialects.iter().map(|d| {
            let v = variant(*d);
            let from = format_ident!("from_{}", suffix(*d));
            let binds = bind_fields(ir, entity, &fields, *d, &quote!(new));
            quote! {
                Database::#v(pool) => #from(&sqlx::query(INSERT) #(#binds)* .fetch_one(pool).await?)?,
            }
        });
        quote! {
            const INSERT: &str = #sql;

            /// The values of a row to insert.
            #[derive(Debug, Clone)]
            pub struct New {
                #(#new_fields)*
            }

            /// Inserts a row; constraint violations become 409 or 422.
            pub async fn insert(db: &Database, new: &New) -> Result<#record, AppError> {
                Ok(match db {
                    #(#arms)*
                })
            }
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
        let sql = format!(
            "UPDATE {table} SET {} WHERE {} = ${}{live} RETURNING {select_list}",
            sets.join(", "),
            q(&pk.column),
            fields.len() + 1
        );
        let arms = dialects.iter().map(|d| {
            let v = variant(*d);
            let from = format_ident!("from_{}", suffix(*d));
            let binds = bind_fields(ir, entity, &fields, *d, &quote!(record));
            let key = types::bind_value(ir, &pk.ty, false, *d, quote!(record.#pk_name), false);
            quote! {
                Database::#v(pool) => sqlx::query(UPDATE) #(#binds)* .bind(#key).fetch_optional(pool).await?.as_ref().map(#from).transpose()?,
            }
        });
        quote! {
            const UPDATE: &str = #sql;

            /// Writes every mutable column of `record`; `None` when the row is gone.
            pub async fn update(db: &Database, record: &#record) -> Result<Option<#record>, AppError> {
                Ok(match db {
                    #(#arms)*
                })
            }
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
            None => (format!("DELETE FROM {table} WHERE {} = $1", q(&pk.column)), false),
        };
        let arms = dialects.iter().map(|d| {
            let v = variant(*d);
            let key = types::bind_value(ir, &pk.ty, false, *d, quote!(key), true);
            let now = soft.then(|| {
                let b = types::bind_value(ir, &FieldType::Timestamp, false, *d, quote!(chrono::Utc::now()), false);
                quote!(.bind(#b))
            });
            quote! {
                Database::#v(pool) => sqlx::query(DELETE).bind(#key) #now .execute(pool).await?.rows_affected(),
            }
        });
        let doc = if soft {
            " Marks the row deleted (soft delete); false when there was none."
        } else {
            " Deletes the row; false when there was none."
        };
        quote! {
            const DELETE: &str = #sql;

            #[doc = #doc]
            pub async fn delete(db: &Database, key: &#pk_ty) -> Result<bool, AppError> {
                let affected = match db {
                    #(#arms)*
                };
                Ok(affected > 0)
            }
        }
    });

    let list = (spec.list || !spec.conditions.is_empty())
        .then(|| list_items(ir, entity, spec, &select_list, &live));

    let header = format!(
        " Data access for `{}` (table `{}`).",
        entity.name, entity.table
    );
    quote! {
        #![doc = #header]

        use sqlx::Row as _;

        use crate::db::Database;
        use crate::domain::#record;
        use crate::error::AppError;

        #(#lookups)*
        #insert
        #update
        #delete
        #list
        #(#decoders)*
    }
}

/// `.bind(value.field)` for each of `fields`, in order.
fn bind_fields(
    ir: &Ir,
    entity: &Entity,
    fields: &[usize],
    d: Dialect,
    value: &TokenStream,
) -> Vec<TokenStream> {
    fields
        .iter()
        .map(|i| {
            let f = &entity.fields[*i];
            let name = ident(&f.name);
            let b = types::bind_value(ir, &f.ty, f.optional, d, quote!(#value.#name), false);
            quote!(.bind(#b))
        })
        .collect()
}

fn decoder(ir: &Ir, entity: &Entity, d: Dialect) -> TokenStream {
    let record = type_ident(&entity.name);
    let name = format_ident!("from_{}", suffix(d));
    let row = row_type(d);
    let fields = types::record_fields(entity).enumerate().map(|(n, (_, f))| {
        let field = ident(&f.name);
        let value = types::decode_column(ir, f, d, n);
        quote!(#field: #value,)
    });
    let doc = format!(" A `{}` from a row selected in column order.", entity.name);
    quote! {
        #[doc = #doc]
        fn #name(row: &#row) -> Result<#record, sqlx::Error> {
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
    let dialects = dialects(ir);
    let per_dialect = dialects.iter().map(|d| {
        let db = db_type(*d);
        let push = format_ident!("push_filter_{}", suffix(*d));
        let arms = spec.conditions.iter().filter_map(|c| {
            let (prefix, suffix_sql) = condition_sql(ir, c, *d)?;
            let v = c.variant(ir);
            let ty = c
                .last_field(ir)
                .map(|f| f.ty.clone())
                .unwrap_or(FieldType::Text);
            let bind = types::bind_value(ir, &ty, false, *d, quote!(value), true);
            Some(quote! {
                Filter::#v(value) => {
                    builder.push(#prefix).push_bind(#bind).push(#suffix_sql);
                }
            })
        });
        quote! {
            fn #push<'q>(builder: &mut sqlx::QueryBuilder<'q, #db>, filter: &'q Filter) {
                match filter {
                    #(#arms)*
                    Filter::AnyOf(any) => {
                        builder.push("(");
                        if any.is_empty() {
                            builder.push("1 = 0");
                        }
                        for (n, filter) in any.iter().enumerate() {
                            if n > 0 {
                                builder.push(" OR ");
                            }
                            #push(builder, filter);
                        }
                        builder.push(")");
                    }
                }
            }
        }
    });
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
    let list_arms = dialects.iter().map(|d| {
        let v = variant(*d);
        let push = format_ident!("push_filter_{}", suffix(*d));
        let from = format_ident!("from_{}", suffix(*d));
        let sqlite = *d == Dialect::Sqlite;
        quote! {
            Database::#v(pool) => {
                let mut counting = sqlx::QueryBuilder::new(COUNT);
                for filter in &query.filters {
                    counting.push(" AND ");
                    #push(&mut counting, filter);
                }
                let total: i64 = counting.build_query_scalar().fetch_one(pool).await?;
                let mut select = sqlx::QueryBuilder::new(SELECT);
                for filter in &query.filters {
                    select.push(" AND ");
                    #push(&mut select, filter);
                }
                select.push(order_by(query.sort, query.descending, #sqlite));
                select.push(" LIMIT ").push_bind(query.limit).push(" OFFSET ").push_bind(query.offset);
                let rows = select.build().fetch_all(pool).await?;
                let items = rows.iter().map(#from).collect::<Result<Vec<_>, _>>()?;
                (items, total)
            }
        }
    });
    let matches = pk.as_ref().zip(exists).map(|((pk_field, _), exists)| {
        let key_ty = types::value_type(ir, &pk_field.ty);
        let arms = dialects.iter().map(|d| {
            let v = variant(*d);
            let push = format_ident!("push_filter_{}", suffix(*d));
            let key = types::bind_value(ir, &pk_field.ty, false, *d, quote!(key), true);
            quote! {
                Database::#v(pool) => {
                    let mut query = sqlx::QueryBuilder::new(EXISTS);
                    query.push_bind(#key);
                    query.push(" AND ");
                    #push(&mut query, filter);
                    query.build_query_scalar::<i64>().fetch_one(pool).await?
                }
            }
        });
        quote! {
            /// Counts the live row with a key (pushed next) that also matches a filter.
            const EXISTS: &str = #exists;

            /// Whether the live row with this key satisfies `filter` (ownership through
            /// related rows).
            pub async fn matches(db: &Database, key: &#key_ty, filter: &Filter) -> Result<bool, AppError> {
                let found = match db {
                    #(#arms)*
                };
                Ok(found > 0)
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
            Ok(match db {
                #(#list_arms)*
            })
        }

        #matches

        #(#per_dialect)*
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
