//! Refresh tokens: the generated `src/repo/auth_refresh_tokens.rs` over the table svcc adds
//! for an `auth` block (`lower::sql::schema::REFRESH_TOKENS`). Tokens are stored by their
//! SHA-256, rotate on every use within a family, and a reused token revokes its family.

use proc_macro2::TokenStream;
use quote::quote;

use super::types;
use crate::ir::Ir;
use crate::lower::sql::schema::REFRESH_TOKENS;

/// The repository module's name.
pub const MODULE: &str = REFRESH_TOKENS;

/// `src/repo/auth_refresh_tokens.rs`, when the spec has an `auth` block.
pub fn repo_rs(ir: &Ir) -> Option<TokenStream> {
    let auth = ir.auth.as_ref()?;
    let identity = ir.entity(auth.identity);
    let key = identity.fields.get(*identity.primary_key.first()?)?;
    let id_ty = types::key_type(ir, auth.identity);
    let table = format!("\"{REFRESH_TOKENS}\"");
    let insert = format!(
        "INSERT INTO {table} (\"token_hash\", \"user_id\", \"family\", \"issued_at\", \"expires_at\") VALUES ($1, $2, $3, $4, $5)"
    );
    let find = format!(
        "SELECT \"user_id\", \"family\", \"expires_at\", \"used_at\", \"revoked_at\" FROM {table} WHERE \"token_hash\" = $1"
    );
    let mark_used = format!(
        "UPDATE {table} SET \"used_at\" = $2 WHERE \"token_hash\" = $1 AND \"used_at\" IS NULL AND \"revoked_at\" IS NULL"
    );
    let revoke = format!(
        "UPDATE {table} SET \"revoked_at\" = $2 WHERE \"family\" = $1 AND \"revoked_at\" IS NULL"
    );
    let prune = format!("DELETE FROM {table} WHERE \"user_id\" = $1 AND \"expires_at\" < $2");
    let user = types::read_column(ir, key, 0, false);
    Some(quote! {
        //! Refresh tokens (table `auth_refresh_tokens`), stored by their SHA-256 and never in
        //! the clear. A login starts a family; each refresh marks its token used and stores
        //! the next one in the same transaction. Times are Unix seconds.

        use crate::db::{Database, ToParam as _};
        use crate::error::AppError;

        const INSERT: &str = #insert;
        const FIND: &str = #find;
        const MARK_USED: &str = #mark_used;
        const REVOKE_FAMILY: &str = #revoke;
        const PRUNE: &str = #prune;

        /// A stored token.
        #[derive(Debug)]
        pub struct Stored {
            pub user_id: #id_ty,
            pub family: String,
            pub expires_at: i64,
            pub used_at: Option<i64>,
            pub revoked_at: Option<i64>,
        }

        /// A token to store.
        #[derive(Debug)]
        pub struct New<'a> {
            pub hash: &'a str,
            pub user_id: &'a #id_ty,
            pub family: &'a str,
            pub issued_at: i64,
            pub expires_at: i64,
        }

        impl New<'_> {
            /// The values in `INSERT`'s column order.
            fn params(&self) -> [crate::db::Param<'_>; 5] {
                [
                    self.hash.param(),
                    self.user_id.param(),
                    self.family.param(),
                    self.issued_at.param(),
                    self.expires_at.param(),
                ]
            }
        }

        /// Stores the first token of a family.
        pub async fn insert(db: &Database, new: &New<'_>) -> Result<(), AppError> {
            db.execute(INSERT, &new.params()).await?;
            Ok(())
        }

        /// The token with this hash, in whatever state.
        pub async fn find(db: &Database, hash: &str) -> Result<Option<Stored>, AppError> {
            let stored = db.fetch_optional(FIND, &[hash.param()], |row| {
                Ok(Stored {
                    user_id: #user,
                    family: row.get(1)?,
                    expires_at: row.get(2)?,
                    used_at: row.get(3)?,
                    revoked_at: row.get(4)?,
                })
            }).await?;
            Ok(stored)
        }

        /// Marks `old` used and stores `new` atomically; `false` when `old` was used or
        /// revoked in the meantime (a concurrent reuse), in which case nothing changes.
        pub async fn rotate(db: &Database, old: &str, new: &New<'_>) -> Result<bool, AppError> {
            let mut tx = db.begin().await?;
            let marked = tx.execute(MARK_USED, &[old.param(), new.issued_at.param()]).await?;
            if marked != 1 {
                return Ok(false);
            }
            tx.execute(INSERT, &new.params()).await?;
            tx.commit().await?;
            Ok(true)
        }

        /// Revokes every live token of the family.
        pub async fn revoke_family(db: &Database, family: &str, now: i64) -> Result<(), AppError> {
            db.execute(REVOKE_FAMILY, &[family.param(), now.param()]).await?;
            Ok(())
        }

        /// Deletes the user's expired tokens; run at login so the table stays small.
        pub async fn prune_expired(db: &Database, user_id: &#id_ty, now: i64) -> Result<(), AppError> {
            db.execute(PRUNE, &[user_id.param(), now.param()]).await?;
            Ok(())
        }
    })
}
