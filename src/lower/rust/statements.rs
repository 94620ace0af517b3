//! The part of the generated `src/db.rs` that runs statements: bound values (`Param`),
//! rows read back (`Row`, `Column`), statements built a piece at a time (`Statement`), and
//! the fetch and execute methods of `Database` and `Tx`.
//!
//! Repositories write each statement once for both databases. PostgreSQL and SQLite share
//! the SQL; what differs is how a few value types are stored (SQLite keeps UUIDs, decimals
//! and timestamps as text), and that difference lives here, once per crate, instead of in a
//! second copy of every repository function.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{Database, Ir};

/// A Rust type a column decodes to, and how SQLite stores it when not natively.
struct ValueKind {
    variant: &'static str,
    ty: TokenStream,
    /// Binds `v: Option<ty>` to a SQLite query, if not as is.
    sqlite_bind: Option<TokenStream>,
    /// Decodes column `index` of a SQLite `row`, if not as is.
    sqlite_decode: Option<TokenStream>,
}

fn kinds() -> Vec<ValueKind> {
    let native = |variant, ty| ValueKind {
        variant,
        ty,
        sqlite_bind: None,
        sqlite_decode: None,
    };
    vec![
        ValueKind {
            sqlite_bind: Some(quote!(v.map(|v| v.hyphenated()))),
            sqlite_decode: Some(quote! {
                row.try_get::<uuid::fmt::Hyphenated, _>(index).map(uuid::fmt::Hyphenated::into_uuid)
            }),
            ..native("Uuid", quote!(uuid::Uuid))
        },
        native("Int", quote!(i32)),
        native("BigInt", quote!(i64)),
        native("Float", quote!(f64)),
        native("Bool", quote!(bool)),
        ValueKind {
            sqlite_bind: Some(quote!(v.map(|v| v.to_string()))),
            sqlite_decode: Some(quote!(crate::repo::decode_decimal(row.try_get(index)?))),
            ..native("Decimal", quote!(rust_decimal::Decimal))
        },
        ValueKind {
            sqlite_bind: Some(quote!(v.as_ref().map(crate::repo::sqlite_timestamp))),
            ..native("Timestamp", quote!(chrono::DateTime<chrono::Utc>))
        },
        native("Date", quote!(chrono::NaiveDate)),
    ]
}

/// Items appended to `src/db.rs`.
pub fn items(ir: &Ir) -> TokenStream {
    let postgres = ir.service.databases.contains(&Database::Postgres);
    let sqlite = ir.service.databases.contains(&Database::Sqlite);
    let kinds = kinds();
    let variants = kinds.iter().map(|k| {
        let v = format_ident!("{}", k.variant);
        let ty = &k.ty;
        quote!(#v(Option<#ty>),)
    });
    let to_param = kinds.iter().map(|k| {
        let v = format_ident!("{}", k.variant);
        let ty = &k.ty;
        quote! {
            impl ToParam for #ty {
                const NULL: Param<'static> = Param::#v(None);

                fn param(&self) -> Param<'_> {
                    Param::#v(Some(*self))
                }
            }
        }
    });
    let bind = |sqlite_arm: bool| {
        let arms = kinds.iter().map(|k| {
            let v = format_ident!("{}", k.variant);
            match (&k.sqlite_bind, sqlite_arm) {
                (Some(convert), true) => quote!(Param::#v(v) => query.bind(#convert),),
                _ => quote!(Param::#v(v) => query.bind(v),),
            }
        });
        quote! {
            #(#arms)*
            Param::Text(v) => query.bind(v),
            Param::Json(v) => query.bind(v.map(sqlx::types::Json)),
        }
    };
    // `from_postgres` and `from_sqlite` with these bodies, for the crate's databases.
    let decoders = |pg: TokenStream, lite: TokenStream| {
        let pg = postgres.then(|| {
            quote! {
                fn from_postgres(row: &sqlx::postgres::PgRow, index: usize) -> Result<Self, sqlx::Error> {
                    #pg
                }
            }
        });
        let lite = sqlite.then(|| {
            quote! {
                fn from_sqlite(row: &sqlx::sqlite::SqliteRow, index: usize) -> Result<Self, sqlx::Error> {
                    #lite
                }
            }
        });
        quote!(#pg #lite)
    };
    let native = quote!(row.try_get(index));
    let columns = kinds.iter().map(|k| {
        let ty = &k.ty;
        let lite = k.sqlite_decode.clone().unwrap_or_else(|| native.clone());
        let methods = decoders(native.clone(), lite);
        quote!(impl Column for #ty { #methods })
    });
    let text_column = decoders(native.clone(), native.clone());
    let json = quote!(
        row.try_get::<sqlx::types::Json<Self>, _>(index)
            .map(|json| json.0)
    );
    let json_column = decoders(json.clone(), json);
    let optional_column = decoders(
        quote! {
            if row.try_get_raw(index)?.is_null() {
                return Ok(None);
            }
            T::from_postgres(row, index).map(Some)
        },
        quote! {
            if row.try_get_raw(index)?.is_null() {
                return Ok(None);
            }
            T::from_sqlite(row, index).map(Some)
        },
    );

    let pg_query = postgres.then(|| {
        let arms = bind(false);
        quote! {
            type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

            /// `sql` with `params` bound in PostgreSQL's native types.
            fn postgres_query<'q>(sql: &'q str, params: &[Param<'q>]) -> PgQuery<'q> {
                params.iter().fold(sqlx::query(sql), |query, param| match *param {
                    #arms
                })
            }
        }
    });
    let sqlite_query = sqlite.then(|| {
        let arms = bind(true);
        quote! {
            type SqliteQuery<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

            /// `sql` with `params` bound the way the SQLite schema stores them.
            fn sqlite_query<'q>(sql: &'q str, params: &[Param<'q>]) -> SqliteQuery<'q> {
                params.iter().fold(sqlx::query(sql), |query, param| match *param {
                    #arms
                })
            }
        }
    });

    let pg_row = postgres.then(|| quote!(Postgres(&'r sqlx::postgres::PgRow),));
    let sqlite_row = sqlite.then(|| quote!(Sqlite(&'r sqlx::sqlite::SqliteRow),));
    let pg_get = postgres.then(|| quote!(Row::Postgres(row) => T::from_postgres(row, index),));
    let sqlite_get = sqlite.then(|| quote!(Row::Sqlite(row) => T::from_sqlite(row, index),));
    let pg_decl = postgres.then(|| {
        quote!(
            fn from_postgres(
                row: &sqlx::postgres::PgRow,
                index: usize,
            ) -> Result<Self, sqlx::Error>;
        )
    });
    let sqlite_decl = sqlite.then(|| {
        quote!(
            fn from_sqlite(
                row: &sqlx::sqlite::SqliteRow,
                index: usize,
            ) -> Result<Self, sqlx::Error>;
        )
    });
    let (db_is_sqlite, tx_is_sqlite) = match (postgres, sqlite) {
        (true, true) => (
            quote!(matches!(self, Database::Sqlite(_))),
            quote!(matches!(self, Tx::Sqlite(_))),
        ),
        (_, sqlite) => (quote!(#sqlite), quote!(#sqlite)),
    };
    let methods = executions(postgres, sqlite);

    quote! {
        /// A value bound to a statement. Both databases take the same values; SQLite stores
        /// UUIDs, decimals and timestamps as text, so it binds those converted.
        #[derive(Debug, Clone, Copy)]
        pub enum Param<'a> {
            #(#variants)*
            Text(Option<&'a str>),
            Json(Option<&'a serde_json::Value>),
        }

        /// A Rust value that binds to a statement as a `Param`.
        pub trait ToParam {
            /// A NULL of this type, for an absent optional value.
            const NULL: Param<'static>;

            fn param(&self) -> Param<'_>;
        }

        #(#to_param)*

        impl ToParam for str {
            const NULL: Param<'static> = Param::Text(None);

            fn param(&self) -> Param<'_> {
                Param::Text(Some(self))
            }
        }

        impl ToParam for String {
            const NULL: Param<'static> = Param::Text(None);

            fn param(&self) -> Param<'_> {
                Param::Text(Some(self))
            }
        }

        impl ToParam for serde_json::Value {
            const NULL: Param<'static> = Param::Json(None);

            fn param(&self) -> Param<'_> {
                Param::Json(Some(self))
            }
        }

        impl<T: ToParam> ToParam for Option<T> {
            const NULL: Param<'static> = T::NULL;

            fn param(&self) -> Param<'_> {
                self.as_ref().map_or(T::NULL, |value| value.param())
            }
        }

        #pg_query
        #sqlite_query

        /// A row read back, on either database.
        #[derive(Clone, Copy)]
        pub enum Row<'r> {
            #pg_row
            #sqlite_row
        }

        // sqlx's rows do not implement `Debug`.
        impl std::fmt::Debug for Row<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("Row").finish_non_exhaustive()
            }
        }

        impl Row<'_> {
            /// Column `index` as `T`, converted from the way this database stores it.
            pub fn get<T: Column>(self, index: usize) -> Result<T, sqlx::Error> {
                match self {
                    #pg_get
                    #sqlite_get
                }
            }
        }

        /// A Rust value a column decodes to.
        pub trait Column: Sized {
            #pg_decl
            #sqlite_decl
        }

        #(#columns)*

        impl Column for String {
            #text_column
        }

        impl Column for serde_json::Value {
            #json_column
        }

        impl<T: Column> Column for Option<T> {
            #optional_column
        }

        /// SQL text and its bound values, built a piece at a time (filters, key lists).
        /// Values become `$1`, `$2`... in the order they are bound.
        #[derive(Debug, Clone)]
        pub struct Statement<'a> {
            sql: String,
            params: Vec<Param<'a>>,
            sqlite: bool,
        }

        impl<'a> Statement<'a> {
            fn new(sql: &str, sqlite: bool) -> Self {
                Statement {
                    sql: sql.to_owned(),
                    params: Vec::new(),
                    sqlite,
                }
            }

            pub fn push(&mut self, sql: &str) -> &mut Self {
                self.sql.push_str(sql);
                self
            }

            /// Binds `param` here, as the next placeholder.
            pub fn bind(&mut self, param: Param<'a>) -> &mut Self {
                self.params.push(param);
                self.sql.push('$');
                self.sql.push_str(&self.params.len().to_string());
                self
            }

            /// Binds each of `values`, separated by commas: the inside of `IN (...)`.
            pub fn bind_all<T: ToParam>(&mut self, values: &'a [T]) -> &mut Self {
                for (n, value) in values.iter().enumerate() {
                    if n > 0 {
                        self.push(", ");
                    }
                    self.bind(value.param());
                }
                self
            }

            /// Whether this statement runs on SQLite, whose SQL differs for some conditions.
            pub fn sqlite(&self) -> bool {
                self.sqlite
            }

            pub fn sql(&self) -> &str {
                &self.sql
            }

            pub fn params(&self) -> &[Param<'a>] {
                &self.params
            }
        }

        impl Database {
            /// A statement for this database, starting with `sql`.
            pub fn statement<'a>(&self, sql: &str) -> Statement<'a> {
                Statement::new(sql, #db_is_sqlite)
            }
        }

        impl Tx {
            /// A statement for this transaction's database, starting with `sql`.
            pub fn statement<'a>(&self, sql: &str) -> Statement<'a> {
                Statement::new(sql, #tx_is_sqlite)
            }
        }

        #methods

        #[cfg(test)]
        mod tests {
            use super::{Param, Statement, ToParam as _};

            #[test]
            fn placeholders_follow_the_order_values_are_bound_in() {
                let keys = [3_i64, 5, 8];
                let mut statement = Statement::new("SELECT 1 WHERE \"a\" = ", false);
                statement.bind(true.param()).push(" AND \"b\" IN (").bind_all(&keys).push(")");
                assert_eq!(statement.sql(), "SELECT 1 WHERE \"a\" = $1 AND \"b\" IN ($2, $3, $4)");
                assert!(matches!(statement.params(), [Param::Bool(Some(true)), Param::BigInt(Some(3)), Param::BigInt(Some(5)), Param::BigInt(Some(8))]));
            }

            #[test]
            fn absent_values_bind_as_nulls_of_their_type() {
                let (key, text, number): (Option<uuid::Uuid>, Option<String>, Option<i32>) = (None, None, Some(2));
                assert!(matches!(key.param(), Param::Uuid(None)));
                assert!(matches!(text.param(), Param::Text(None)));
                assert!(matches!(number.param(), Param::Int(Some(2))));
            }
        }
    }
}

/// The fetch and execute methods: every statement a repository runs goes through one of
/// these, so each database's arm is written once.
fn executions(postgres: bool, sqlite: bool) -> TokenStream {
    // (arm head for the pool, for a transaction, query function, row variant)
    let dbs: Vec<_> = [
        postgres.then(|| {
            (
                quote!(Database::Postgres(pool)),
                quote!(Tx::Postgres(tx)),
                quote!(postgres_query),
                quote!(Row::Postgres),
            )
        }),
        sqlite.then(|| {
            (
                quote!(Database::Sqlite(pool)),
                quote!(Tx::Sqlite(tx)),
                quote!(sqlite_query),
                quote!(Row::Sqlite),
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    let arms =
        |pool: bool, body: &dyn Fn(&TokenStream, &TokenStream, &TokenStream) -> TokenStream| {
            let arms = dbs.iter().map(|(on_pool, on_tx, query, row)| {
                let (head, executor) = if pool {
                    (on_pool, quote!(pool))
                } else {
                    (on_tx, quote!(&mut **tx))
                };
                let body = body(query, row, &executor);
                quote!(#head => #body,)
            });
            quote!(#(#arms)*)
        };
    let fetch_one = |pool| {
        arms(
            pool,
            &|query, row, executor| quote!(decode(#row(&#query(sql, params).fetch_one(#executor).await?))),
        )
    };
    let fetch_optional = |pool| {
        arms(pool, &|query, row, executor| {
            quote! {
                #query(sql, params).fetch_optional(#executor).await?.as_ref().map(|found| decode(#row(found))).transpose()
            }
        })
    };
    let execute = |pool| {
        arms(
            pool,
            &|query, _, executor| quote!(Ok(#query(sql, params).execute(#executor).await?.rows_affected())),
        )
    };
    let fetch_all = arms(true, &|query, row, executor| {
        quote! {
            #query(sql, params).fetch_all(#executor).await?.iter().map(|found| decode(#row(found))).collect()
        }
    });
    let count = arms(
        true,
        &|query, _, executor| quote!(#query(sql, params).fetch_one(#executor).await?.try_get(0usize)),
    );
    let page = arms(true, &|query, row, _| {
        quote! {{
            // Both statements on one connection: a page waits in the pool queue once.
            let mut connection = pool.acquire().await?;
            let total: i64 = #query(count.sql(), count.params()).fetch_one(&mut *connection).await?.try_get(0usize)?;
            let rows = #query(select.sql(), select.params()).fetch_all(&mut *connection).await?;
            let items = rows.iter().map(|found| decode(#row(found))).collect::<Result<_, _>>()?;
            Ok((items, total))
        }}
    });
    let (pool_one, pool_optional, pool_execute) =
        (fetch_one(true), fetch_optional(true), execute(true));
    let (tx_one, tx_optional, tx_execute) =
        (fetch_one(false), fetch_optional(false), execute(false));
    let decode = quote!(decode: impl Fn(Row<'_>) -> Result<T, sqlx::Error>);
    quote! {
        impl Database {
            /// The one row `sql` returns.
            pub async fn fetch_one<T>(&self, sql: &str, params: &[Param<'_>], #decode) -> Result<T, sqlx::Error> {
                match self { #pool_one }
            }

            /// The row `sql` returns, if any.
            pub async fn fetch_optional<T>(&self, sql: &str, params: &[Param<'_>], #decode) -> Result<Option<T>, sqlx::Error> {
                match self { #pool_optional }
            }

            /// Every row `sql` returns.
            pub async fn fetch_all<T>(&self, sql: &str, params: &[Param<'_>], #decode) -> Result<Vec<T>, sqlx::Error> {
                match self { #fetch_all }
            }

            /// The number in the first column of the one row `sql` returns (`COUNT(*)`).
            pub async fn count(&self, sql: &str, params: &[Param<'_>]) -> Result<i64, sqlx::Error> {
                match self { #count }
            }

            /// Runs `sql`; the number of rows it changed.
            pub async fn execute(&self, sql: &str, params: &[Param<'_>]) -> Result<u64, sqlx::Error> {
                match self { #pool_execute }
            }

            /// One page of rows and the number of rows matching: `count` then `select`.
            pub async fn page<T>(&self, count: &Statement<'_>, select: &Statement<'_>, #decode) -> Result<(Vec<T>, i64), sqlx::Error> {
                match self { #page }
            }
        }

        impl Tx {
            /// The one row `sql` returns.
            pub async fn fetch_one<T>(&mut self, sql: &str, params: &[Param<'_>], #decode) -> Result<T, sqlx::Error> {
                match self { #tx_one }
            }

            /// The row `sql` returns, if any.
            pub async fn fetch_optional<T>(&mut self, sql: &str, params: &[Param<'_>], #decode) -> Result<Option<T>, sqlx::Error> {
                match self { #tx_optional }
            }

            /// Runs `sql`; the number of rows it changed.
            pub async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64, sqlx::Error> {
                match self { #tx_execute }
            }
        }
    }
}
