//! API keys for machine clients, when the auth block has `api_keys`: the repository
//! `src/repo/auth_api_keys.rs` over the table svcc adds (`lower::sql::schema::API_KEYS`),
//! the key check in `src/auth.rs`, the owner's list and revoke endpoints, and the operator
//! commands that issue and revoke keys. A key acts for the account that holds it, without
//! the account's roles, plus its scopes.

use proc_macro2::TokenStream;
use quote::quote;

use super::types;
use crate::ir::{ApiKeys, Ir};
use crate::lower::sql::schema::API_KEYS;

/// The repository module's name.
pub const MODULE: &str = API_KEYS;

/// Where an account lists and revokes its keys, below the base path.
pub const KEYS_PATH: &str = "/auth/api-keys";

/// Hex digits of a key's public id, after the prefix.
const ID_DIGITS: usize = 12;

/// The spec's `api_keys` block, when keys are generated.
pub fn of(ir: &Ir) -> Option<&ApiKeys> {
    ir.auth.as_ref()?.api_keys.as_ref()
}

/// `src/repo/auth_api_keys.rs`.
pub fn repo_rs(ir: &Ir) -> Option<TokenStream> {
    of(ir)?;
    let auth = ir.auth.as_ref()?;
    let identity = ir.entity(auth.identity);
    let key = identity.fields.get(*identity.primary_key.first()?)?;
    let id_ty = types::key_type(ir, auth.identity);
    let table = format!("\"{API_KEYS}\"");
    let columns = "\"id\", \"user_id\", \"name\", \"scopes\", \"created_at\", \"last_used_at\", \"revoked_at\"";
    let insert = format!(
        "INSERT INTO {table} (\"id\", \"user_id\", \"name\", \"scopes\", \"key_hash\", \"created_at\") VALUES ($1, $2, $3, $4, $5, $6)"
    );
    let find = format!("SELECT {columns}, \"key_hash\" FROM {table} WHERE \"id\" = $1");
    let of_user = format!(
        "SELECT {columns} FROM {table} WHERE \"user_id\" = $1 ORDER BY \"created_at\", \"id\""
    );
    let revoke = format!(
        "UPDATE {table} SET \"revoked_at\" = $2 WHERE \"id\" = $1 AND \"revoked_at\" IS NULL"
    );
    let revoke_own = format!(
        "UPDATE {table} SET \"revoked_at\" = $2 WHERE \"id\" = $1 AND \"user_id\" = $3 AND \"revoked_at\" IS NULL"
    );
    let touch = format!(
        "UPDATE {table} SET \"last_used_at\" = $2 WHERE \"id\" = $1 AND (\"last_used_at\" IS NULL OR \"last_used_at\" < $3)"
    );
    let user = types::read_column(ir, key, 1, false);
    Some(quote! {
        //! API keys (table `auth_api_keys`), found by their public id and stored as the
        //! SHA-256 of the whole key, never the key. Times are Unix seconds.

        use crate::db::{Database, ToParam as _};
        use crate::error::AppError;

        const INSERT: &str = #insert;
        const FIND: &str = #find;
        const OF_USER: &str = #of_user;
        const REVOKE: &str = #revoke;
        const REVOKE_OWN: &str = #revoke_own;
        const TOUCH: &str = #touch;

        /// A key as its owner sees it: everything but the secret.
        #[derive(Debug, Clone, serde::Serialize)]
        pub struct Stored {
            pub id: String,
            #[serde(skip)]
            pub user_id: #id_ty,
            pub name: String,
            pub scopes: Vec<String>,
            pub created_at: i64,
            pub last_used_at: Option<i64>,
            pub revoked_at: Option<i64>,
        }

        /// A key to store.
        #[derive(Debug)]
        pub struct New<'a> {
            pub id: &'a str,
            pub user_id: &'a #id_ty,
            pub name: &'a str,
            pub scopes: &'a [String],
            pub key_hash: &'a str,
            pub created_at: i64,
        }

        /// A `Stored` from a row in the column order of `FIND` and `OF_USER`.
        fn stored(row: crate::db::Row<'_>) -> Result<Stored, sqlx::Error> {
            Ok(Stored {
                id: row.get(0)?,
                user_id: #user,
                name: row.get(2)?,
                scopes: row.get::<String>(3)?.split_whitespace().map(str::to_owned).collect(),
                created_at: row.get(4)?,
                last_used_at: row.get(5)?,
                revoked_at: row.get(6)?,
            })
        }

        pub async fn insert(db: &Database, new: &New<'_>) -> Result<(), AppError> {
            let scopes = new.scopes.join(" ");
            let params = [
                new.id.param(),
                new.user_id.param(),
                new.name.param(),
                scopes.param(),
                new.key_hash.param(),
                new.created_at.param(),
            ];
            db.execute(INSERT, &params).await?;
            Ok(())
        }

        /// The key with this id and its stored hash.
        pub async fn find(db: &Database, id: &str) -> Result<Option<(Stored, String)>, AppError> {
            let found = db.fetch_optional(FIND, &[id.param()], |row| {
                Ok((stored(row)?, row.get::<String>(7)?))
            }).await?;
            Ok(found)
        }

        /// The account's keys, oldest first, revoked ones included.
        pub async fn of_user(db: &Database, user_id: &#id_ty) -> Result<Vec<Stored>, AppError> {
            Ok(db.fetch_all(OF_USER, &[user_id.param()], stored).await?)
        }

        /// Revokes a live key, only the `owner`'s when given; `false` when there was none.
        pub async fn revoke(db: &Database, id: &str, owner: Option<&#id_ty>, now: i64) -> Result<bool, AppError> {
            let revoked = match owner {
                Some(user_id) => db.execute(REVOKE_OWN, &[id.param(), now.param(), user_id.param()]).await?,
                None => db.execute(REVOKE, &[id.param(), now.param()]).await?,
            };
            Ok(revoked > 0)
        }

        /// Records a use, at most once a minute per key so busy clients do not write on
        /// every request.
        pub async fn touch(db: &Database, id: &str, now: i64) -> Result<(), AppError> {
            let cutoff = now - 60;
            db.execute(TOUCH, &[id.param(), now.param(), cutoff.param()]).await?;
            Ok(())
        }
    })
}

/// Items of `src/auth.rs`: the key's shape and the check that turns a key into a caller.
pub fn auth_items(ir: &Ir) -> Option<TokenStream> {
    let keys = of(ir)?;
    let header = keys.header.to_ascii_lowercase();
    let prefix = &keys.prefix;
    Some(quote! {
        /// The request header that carries an API key.
        pub const API_KEY_HEADER: &str = #header;
        /// Every key starts with this, so leaked keys are easy to recognise and scan for.
        pub const API_KEY_PREFIX: &str = #prefix;
        const API_KEY_ID_DIGITS: usize = #ID_DIGITS;

        /// The API key a request came with.
        #[derive(Debug, Clone)]
        pub struct ApiKey {
            pub id: String,
            pub scopes: Vec<String>,
        }

        /// A new key and its public id: the prefix, 12 hex digits of id, then 244 random
        /// bits as 64 hex digits.
        pub fn new_api_key() -> (String, String) {
            let id = uuid::Uuid::new_v4().simple().to_string()[..API_KEY_ID_DIGITS].to_owned();
            let key = format!("{API_KEY_PREFIX}{id}{}", new_refresh_token());
            (id, key)
        }

        /// The public id of a well-formed key.
        fn api_key_id(key: &str) -> Option<&str> {
            let rest = key.strip_prefix(API_KEY_PREFIX)?;
            let well_formed = rest.len() == API_KEY_ID_DIGITS + 64 && rest.bytes().all(|b| b.is_ascii_hexdigit());
            well_formed.then(|| &rest[..API_KEY_ID_DIGITS])
        }

        /// The caller an API key stands for: its owner, without the owner's roles, with the
        /// key's scopes. Unknown, malformed and revoked keys get 401 alike.
        async fn api_key_caller(state: &AppState, key: &str) -> Result<Caller, AppError> {
            let id = api_key_id(key).ok_or(AppError::Unauthorized)?;
            let (stored, hash) = crate::repo::auth_api_keys::find(&state.db, id).await?.ok_or(AppError::Unauthorized)?;
            let presented = secret_hash(key);
            // Compared without an early exit, so timing does not reveal how much matched.
            let same = hash.len() == presented.len()
                && hash.bytes().zip(presented.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
            if !same || stored.revoked_at.is_some() {
                return Err(AppError::Unauthorized);
            }
            if let Err(err) = crate::repo::auth_api_keys::touch(&state.db, id, unix_now()).await {
                tracing::warn!(error = %err, key = %stored.id, "cannot record an API key's use");
            }
            Ok(Caller {
                id: stored.user_id,
                roles: Vec::new(),
                api_key: Some(ApiKey { id: stored.id, scopes: stored.scopes }),
            })
        }
    })
}

/// The extractor's first step: a request with the key header is the key's caller.
pub fn extractor_check(ir: &Ir) -> Option<TokenStream> {
    of(ir)?;
    Some(quote! {
        if let Some(value) = parts.headers.get(API_KEY_HEADER) {
            let key = value.to_str().map_err(|_| AppError::Unauthorized)?;
            return Ok(MaybeCaller(Some(api_key_caller(state, key.trim()).await?)));
        }
    })
}

/// The owner's endpoints: list their keys, revoke one. Keys are issued by the operator
/// command, since a key's scopes grant what no role of its owner may.
pub fn routes(ir: &Ir) -> Option<(TokenStream, TokenStream)> {
    of(ir)?;
    let list_path = format!("{}{KEYS_PATH}", ir.service.base_path.trim_end_matches('/'));
    let revoke_path = format!("{list_path}/{{id}}");
    let limit = super::rate::extractor(ir, ir.service.default_rate);
    let route = quote! {
        .route(#list_path, routing::get(list_api_keys))
        .route(#revoke_path, routing::delete(revoke_api_key))
    };
    let handlers = quote! {
        /// A signed-in account, not an API key: keys cannot see or revoke keys.
        fn account_only(caller: &Caller) -> Result<(), AppError> {
            if caller.api_key.is_some() {
                return Err(AppError::Forbidden);
            }
            Ok(())
        }

        /// The caller's API keys, revoked ones included; never the keys themselves.
        async fn list_api_keys(State(state): State<AppState>, #limit caller: Caller) -> Result<Response, AppError> {
            account_only(&caller)?;
            let keys = crate::repo::auth_api_keys::of_user(&state.db, &caller.id).await?;
            Ok(crate::http::respond(StatusCode::OK, None, &keys))
        }

        /// Revokes one of the caller's keys at once; another account's key is not found.
        async fn revoke_api_key(State(state): State<AppState>, #limit caller: Caller, AppPath(id): AppPath<String>) -> Result<StatusCode, AppError> {
            account_only(&caller)?;
            if crate::repo::auth_api_keys::revoke(&state.db, &id, Some(&caller.id), unix_now()).await? {
                Ok(StatusCode::NO_CONTENT)
            } else {
                Err(AppError::NotFound)
            }
        }
    };
    Some((route, handlers))
}

/// The operator commands' functions in `src/admin.rs`.
pub fn admin_items(ir: &Ir) -> Option<TokenStream> {
    let keys = of(ir)?;
    let auth = ir.auth.as_ref()?;
    let repo = super::repo::module(ir, auth.identity);
    let pk = types::ident(&types::primary_key(ir.entity(auth.identity))?.name);
    let scopes = &keys.roles;
    let expected = scopes.join(", ");
    Some(quote! {
        /// The scopes the spec lets keys hold.
        pub const API_KEY_SCOPES: &[&str] = &[#(#scopes),*];

        /// Issues a key for the account with this login, holding `scopes`; answers the key,
        /// which is shown this once and stored only as a hash.
        pub async fn issue_api_key(settings: &Settings, login: &str, name: &str, scopes: &[String]) -> Result<String, AdminError> {
            if let Some(unknown) = scopes.iter().find(|s| !API_KEY_SCOPES.contains(&s.as_str())) {
                return Err(AdminError::UnknownScope { scope: unknown.clone(), expected: #expected.to_owned() });
            }
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(AdminError::BadName);
            }
            let db = connect(settings).await?;
            let issued = issue(&db, login, name, scopes).await;
            db.close().await;
            issued
        }

        async fn issue(db: &Database, login: &str, name: &str, scopes: &[String]) -> Result<String, AdminError> {
            let Some((user, _)) = crate::repo::#repo::credentials(db, login).await? else {
                return Err(AdminError::NoAccount(login.to_owned()));
            };
            let (id, key) = crate::auth::new_api_key();
            let new = crate::repo::auth_api_keys::New {
                id: &id,
                user_id: &user.#pk,
                name,
                scopes,
                key_hash: &crate::auth::secret_hash(&key),
                created_at: crate::auth::unix_now(),
            };
            crate::repo::auth_api_keys::insert(db, &new).await?;
            Ok(key)
        }

        /// Revokes the key with this id, whoever holds it.
        pub async fn revoke_api_key(settings: &Settings, id: &str) -> Result<(), AdminError> {
            let db = connect(settings).await?;
            let revoked = crate::repo::auth_api_keys::revoke(&db, id, None, crate::auth::unix_now()).await;
            db.close().await;
            if revoked? {
                Ok(())
            } else {
                Err(AdminError::NoApiKey(id.to_owned()))
            }
        }
    })
}
