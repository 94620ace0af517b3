//! `src/auth.rs` (who is calling: JWT verification, password hashing) and
//! `src/http/auth.rs` (register, login, me) of the generated crate.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::input::{self, Mode};
use super::repo::RepoSpec;
use super::types::{self, ident, type_ident};
use crate::ir::{EntityId, FieldType, Ir};

/// `src/auth.rs`.
pub fn auth_rs(ir: &Ir) -> TokenStream {
    let Some(auth) = &ir.auth else {
        return quote! {
            //! The spec has no `auth` block: every caller is anonymous.

            use axum::extract::FromRequestParts;
            use axum::http::request::Parts;

            use crate::error::AppError;

            /// A signed-in caller; this service has none.
            #[derive(Debug, Clone)]
            pub struct Caller {
                pub id: uuid::Uuid,
            }

            impl Caller {
                pub fn has_role(&self, _role: &str) -> bool {
                    false
                }
            }

            /// Always anonymous.
            #[derive(Debug, Clone)]
            pub struct MaybeCaller(pub Option<Caller>);

            impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller {
                type Rejection = AppError;

                async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
                    Ok(MaybeCaller(None))
                }
            }

            /// Nobody can sign in, so an operation that needs a caller answers 401.
            impl<S: Send + Sync> FromRequestParts<S> for Caller {
                type Rejection = AppError;

                async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
                    Err(AppError::Unauthorized)
                }
            }
        };
    };
    let id_ty = types::key_type(ir, auth.identity);
    let scheme = format!("{} ", auth.scheme);
    let parse_id = match types::storage_type(ir, &FieldType::Ref(auth.identity)) {
        FieldType::Uuid => quote!(
            claims
                .sub
                .parse::<uuid::Uuid>()
                .map_err(|_| AppError::Unauthorized)?
        ),
        _ => quote!(claims.sub.parse().map_err(|_| AppError::Unauthorized)?),
    };
    let access_secs = i64::try_from(auth.access_ttl_ms / 1000).unwrap_or(900);
    let key_items = super::api_keys::auth_items(ir);
    let secret_var = super::config::env_vars(ir)[super::config::JWT_SECRET]
        .name
        .clone();
    let (alg, keys) = match auth.algorithm.as_str() {
        kind @ ("eddsa" | "rs256") => {
            let (alg, from_pem, what) = if kind == "eddsa" {
                (quote!(EdDSA), quote!(from_ed_pem), "an Ed25519 private key")
            } else {
                (quote!(RS256), quote!(from_rsa_pem), "an RSA private key")
            };
            let bad_private = format!("{secret_var} is not {what} in PEM: {{err}}");
            let bad_public = format!(
                "{} is not the matching public key in PEM: {{err}}",
                super::config::JWT_PUBLIC_KEY
            );
            (
                alg,
                quote! {
                    let encoding = EncodingKey::#from_pem(settings.jwt_secret.as_bytes())
                        .map_err(|err| format!(#bad_private))?;
                    let decoding = DecodingKey::#from_pem(settings.jwt_public_key.as_bytes())
                        .map_err(|err| format!(#bad_public))?;
                },
            )
        }
        _ => (
            quote!(HS256),
            quote! {
                let secret = settings.jwt_secret.as_bytes();
                let encoding = EncodingKey::from_secret(secret);
                let decoding = DecodingKey::from_secret(secret);
            },
        ),
    };
    let key_check = super::api_keys::extractor_check(ir);
    let cookie_items = super::cookies::auth_items(ir);
    let without_header = super::cookies::without_header(ir);
    let (key_field, key_none) = if key_items.is_some() {
        (
            quote! {
                /// The API key the request came with; `None` for a signed-in account.
                pub api_key: Option<ApiKey>,
            },
            quote!(api_key: None,),
        )
    } else {
        (quote!(), quote!())
    };
    let has_scope = key_items.is_some().then(|| {
        quote! {
            /// Whether the request came with an API key that holds `scope`.
            pub fn has_scope(&self, scope: &str) -> bool {
                self.api_key.as_ref().is_some_and(|k| k.scopes.iter().any(|s| s == scope))
            }
        }
    });
    let refresh_secs = i64::try_from(auth.refresh_ttl_ms / 1000).unwrap_or(604_800);
    quote! {
        //! Who is calling: access tokens (JWT) issued at login and verified on every
        //! request, and argon2id password hashing off the async runtime.

        use std::sync::LazyLock;

        use argon2::Argon2;
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        use axum::extract::FromRequestParts;
        use axum::http::header::AUTHORIZATION;
        use axum::http::request::Parts;
        use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
        use sha2::Digest as _;

        use crate::config::Settings;
        use crate::error::AppError;
        use crate::state::AppState;

        /// How long an access token is valid, in seconds.
        pub const ACCESS_TOKEN_SECONDS: i64 = #access_secs;

        /// How long a refresh token is valid after it is issued, in seconds.
        pub const REFRESH_TOKEN_SECONDS: i64 = #refresh_secs;

        /// A new refresh token: 244 bits from the operating system's random generator (two
        /// version 4 UUIDs), as 64 hex digits.
        pub fn new_refresh_token() -> String {
            format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple())
        }

        /// What is stored for a refresh token or an API key: its SHA-256, so the table grants
        /// nothing if it leaks. The secret is random enough that a fast hash suffices.
        pub fn secret_hash(token: &str) -> String {
            format!("{:x}", sha2::Sha256::digest(token.as_bytes()))
        }

        /// The current time in Unix seconds, as refresh tokens record it.
        pub fn unix_now() -> i64 {
            chrono::Utc::now().timestamp()
        }

        /// A caller whose token (or API key) verified.
        #[derive(Debug, Clone)]
        pub struct Caller {
            pub id: #id_ty,
            pub roles: Vec<String>,
            #key_field
        }

        impl Caller {
            pub fn has_role(&self, role: &str) -> bool {
                self.roles.iter().any(|r| r == role)
            }

            #has_scope
        }

        #key_items
        #cookie_items

        /// The token's claims.
        #[derive(Debug, serde::Serialize, serde::Deserialize)]
        struct Claims {
            sub: String,
            roles: Vec<String>,
            iat: i64,
            exp: i64,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            iss: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            aud: Option<String>,
        }

        /// Signing and verification keys with the checks every token must pass.
        pub struct JwtKeys {
            encoding: EncodingKey,
            decoding: DecodingKey,
            validation: Validation,
            issuer: Option<String>,
            audience: Option<String>,
        }

        /// Keys are secrets: never printed.
        impl std::fmt::Debug for JwtKeys {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct("JwtKeys").finish_non_exhaustive()
            }
        }

        impl JwtKeys {
            /// The keys from the settings; a key that is not valid PEM of the right kind is
            /// an error at start-up.
            pub fn new(settings: &Settings) -> Result<Self, String> {
                #keys
                let mut validation = Validation::new(Algorithm::#alg);
                validation.leeway = 5;
                // A token is not valid before its `nbf`, when it has one.
                validation.validate_nbf = true;
                validation.set_required_spec_claims(&["exp", "sub"]);
                if let Some(issuer) = &settings.jwt_issuer {
                    validation.set_issuer(&[issuer]);
                }
                match &settings.jwt_audience {
                    Some(audience) => validation.set_audience(&[audience]),
                    None => validation.validate_aud = false,
                }
                Ok(Self {
                    encoding,
                    decoding,
                    validation,
                    issuer: settings.jwt_issuer.clone(),
                    audience: settings.jwt_audience.clone(),
                })
            }

            /// A signed access token for the caller.
            pub fn issue(&self, caller: &Caller) -> Result<String, AppError> {
                let now = chrono::Utc::now().timestamp();
                let claims = Claims {
                    sub: caller.id.to_string(),
                    roles: caller.roles.clone(),
                    iat: now,
                    exp: now + ACCESS_TOKEN_SECONDS,
                    iss: self.issuer.clone(),
                    aud: self.audience.clone(),
                };
                jsonwebtoken::encode(&Header::new(Algorithm::#alg), &claims, &self.encoding)
                    .map_err(|err| AppError::Internal(format!("cannot sign a token: {err}")))
            }

            /// The caller a token names, if its signature, algorithm and claims check out.
            pub fn verify(&self, token: &str) -> Result<Caller, AppError> {
                let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
                    .map_err(|_| AppError::Unauthorized)?
                    .claims;
                Ok(Caller { id: #parse_id, roles: claims.roles, #key_none })
            }
        }

        /// The caller when the request carries a valid token, `None` when it carries none;
        /// a malformed, expired or forged token is rejected with 401.
        #[derive(Debug, Clone)]
        pub struct MaybeCaller(pub Option<Caller>);

        impl FromRequestParts<AppState> for MaybeCaller {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                // A rate limit keyed by user verified the token already.
                if let Some(caller) = parts.extensions.remove::<Caller>() {
                    return Ok(MaybeCaller(Some(caller)));
                }
                #key_check
                let Some(header) = parts.headers.get(AUTHORIZATION) else {
                    #without_header
                };
                let token = header
                    .to_str()
                    .ok()
                    .and_then(|h| h.strip_prefix(#scheme))
                    .ok_or(AppError::Unauthorized)?;
                Ok(MaybeCaller(Some(state.jwt.verify(token.trim())?)))
            }
        }

        /// A signed-in caller: a request without a valid token is rejected with 401 before
        /// any lookup or body check.
        impl FromRequestParts<AppState> for Caller {
            type Rejection = AppError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
                let MaybeCaller(caller) = MaybeCaller::from_request_parts(parts, state).await?;
                caller.ok_or(AppError::Unauthorized)
            }
        }

        /// An argon2id hash (PHC string) of the password, computed on the blocking pool.
        pub async fn hash_password(password: String) -> Result<String, AppError> {
            tokio::task::spawn_blocking(move || {
                Argon2::default()
                    .hash_password(password.as_bytes())
                    .map(|hash| hash.to_string())
                    .map_err(|err| AppError::Internal(format!("cannot hash a password: {err}")))
            })
            .await
            .map_err(|err| AppError::Internal(format!("hashing task failed: {err}")))?
        }

        /// A hash to verify against when the user does not exist, so an unknown login takes
        /// as long as a wrong password.
        static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
            Argon2::default()
                .hash_password(b"decoy password for unknown users")
                .map(|hash| hash.to_string())
                .unwrap_or_default()
        });

        /// Whether `password` matches `hash`; with no hash, the same work and `false`.
        pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
            tokio::task::spawn_blocking(move || {
                let known = hash.is_some();
                let hash = hash.unwrap_or_else(|| DECOY_HASH.clone());
                let matches = Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok();
                known && matches
            })
            .await
            .map_err(|err| AppError::Internal(format!("verification task failed: {err}")))
        }
    }
}

/// The identity's fields a registration accepts: what a client may set, plus the password.
pub fn register_fields(ir: &Ir, identity: EntityId) -> Vec<usize> {
    let entity = ir.entity(identity);
    entity
        .fields
        .iter()
        .enumerate()
        .filter(|(i, f)| {
            !f.flags.readonly
                && !f.flags.primary
                && !entity.primary_key.contains(i)
                && f.auto.is_none()
                && entity.soft_delete != Some(*i)
        })
        .map(|(i, _)| i)
        .collect()
}

/// `src/http/auth.rs`: register, login and the caller's own record.
pub fn routes_rs(ir: &Ir, repos: &mut Vec<(EntityId, RepoSpec)>) -> Option<TokenStream> {
    let auth = ir.auth.as_ref()?;
    let entity = ir.entity(auth.identity);
    let pk = types::primary_key(entity)?;
    let pk_name = ident(&pk.name);
    let pk_index = entity.primary_key[0];
    let record = type_ident(&entity.name);
    let repo = super::repo::module(ir, auth.identity);
    let spec = super::authz::spec_of(repos, auth.identity);
    spec.insert = true;
    spec.add_lookup(pk_index);
    spec.add_lookup(auth.login_field);
    let fields = register_fields(ir, auth.identity);
    let registration = format_ident!("Registration");
    let body_types = input::body_and_input(
        ir,
        entity,
        &fields,
        &[],
        Mode::Create,
        &format_ident!("RegisterBody"),
        &registration,
        &quote!(#registration),
    );
    let dto = body_types.dto;
    let input_struct = body_types.input;
    let patterns = input::pattern_statics(entity, &fields);
    let mut values = Vec::new();
    let mut hash = quote!();
    let mut uses_now = false;
    for i in super::repo::insert_fields(entity) {
        let f = &entity.fields[i];
        let name = ident(&f.name);
        let value = if i == auth.password_field {
            hash = quote!(let password_hash = crate::auth::hash_password(input.#name).await?;);
            quote!(password_hash)
        } else if fields.contains(&i) {
            quote!(input.#name)
        } else if let Some(d) = input::insert_default(ir, entity, f, &mut uses_now) {
            d
        } else if f.optional {
            quote!(None)
        } else {
            return None;
        };
        values.push(quote!(#name: #value,));
    }
    let now = uses_now.then(|| quote!(let now = chrono::Utc::now();));
    let roles = match auth.role_field {
        Some(r) => {
            let role = ident(&entity.fields[r].name);
            if matches!(entity.fields[r].ty, FieldType::Enum(_)) {
                quote!(vec![user.#role.as_str().to_owned()])
            } else {
                quote!(vec![user.#role.to_string()])
            }
        }
        None => quote!(Vec::new()),
    };
    let login_field = &entity.fields[auth.login_field];
    let login_json = types::json_name(ir, login_field);
    let password_json = types::json_name(ir, &entity.fields[auth.password_field]);
    let find_by_key = super::repo::find_fn(entity, pk_index);
    let token_field = &auth.token_field;
    let path = |name: &str| {
        format!(
            "{}{}",
            ir.service.base_path.trim_end_matches('/'),
            auth.path(name)
        )
    };
    let limit = super::rate::extractor(ir, super::rate::of_auth(ir));
    let me_limit = super::rate::extractor(ir, ir.service.default_rate);
    let register_path = path("register");
    let login_path = path("login");
    let me_path = path("me");
    let refresh_path = path("refresh");
    let logout_path = path("logout");
    let envelope = match &auth.envelope {
        Some(e) => quote!(Some(#e)),
        None => quote!(None),
    };
    let key_none = super::api_keys::of(ir).map(|_| quote!(api_key: None,));
    let cookies = super::cookies::of(ir).is_some();
    let (
        refresh_field,
        presented,
        headers_param,
        set_cookies,
        respond_signed_in,
        logout_out,
        logout_done,
        logout_token,
    ) = if cookies {
        (
            quote! {
                /// Browsers leave it out and send the refresh cookie instead.
                #[serde(default)]
                pub refresh_token: Option<String>,
            },
            quote! {
                let presented = body
                    .refresh_token
                    .as_deref()
                    .or_else(|| crate::auth::cookie(&headers, crate::auth::REFRESH_COOKIE))
                    .ok_or(AppError::Unauthorized)?;
            },
            quote!(headers: HeaderMap,),
            quote!(let cookies = crate::auth::session_cookies(&token, &refresh_token);),
            quote!(with_cookies(crate::http::respond(status, #envelope, &body), cookies)),
            quote!(Response),
            quote!(with_cookies(
                StatusCode::NO_CONTENT.into_response(),
                crate::auth::cleared_cookies()
            )),
            quote! {
                let presented = body
                    .refresh_token
                    .as_deref()
                    .or_else(|| crate::auth::cookie(&headers, crate::auth::REFRESH_COOKIE));
                if let Some(presented) = presented
                    && let Some(stored) = sessions::find(&state.db, &secret_hash(presented)).await?
                {
                    sessions::revoke_family(&state.db, &stored.family, unix_now()).await?;
                }
            },
        )
    } else {
        (
            quote!(pub refresh_token: String,),
            quote!(let presented = body.refresh_token.as_str();),
            quote!(),
            quote!(),
            quote!(Ok(crate::http::respond(status, #envelope, &body))),
            quote!(StatusCode),
            quote!(Ok(StatusCode::NO_CONTENT)),
            quote! {
                let hash = secret_hash(&body.refresh_token);
                if let Some(stored) = sessions::find(&state.db, &hash).await? {
                    sessions::revoke_family(&state.db, &stored.family, unix_now()).await?;
                }
            },
        )
    };
    let cookie_fns = cookies.then(|| {
        quote! {
            /// Adds `Set-Cookie` headers to a response.
            fn with_cookies(mut response: Response, cookies: [String; 2]) -> Result<Response, AppError> {
                for cookie in cookies {
                    let value = HeaderValue::from_str(&cookie).map_err(|err| AppError::Internal(format!("cannot set a cookie: {err}")))?;
                    response.headers_mut().append(SET_COOKIE, value);
                }
                Ok(response)
            }
        }
    });
    let cookie_imports = cookies.then(|| {
        quote! {
            use axum::http::header::SET_COOKIE;
            use axum::http::{HeaderMap, HeaderValue};
            use axum::response::IntoResponse;
        }
    });
    let (key_routes, key_handlers, key_imports) = match super::api_keys::routes(ir) {
        Some((routes, handlers)) => (
            routes,
            handlers,
            quote!(
                use crate::extract::AppPath;
            ),
        ),
        None => (quote!(), quote!(), quote!()),
    };
    Some(quote! {
        //! Registration, login and the signed-in caller's own record.

        use axum::extract::State;
        use axum::http::StatusCode;
        use axum::response::Response;
        use axum::routing;
        use axum::Router;

        use crate::auth::{Caller, new_refresh_token, secret_hash, unix_now, REFRESH_TOKEN_SECONDS};
        use crate::domain::#record;
        use crate::error::AppError;
        use crate::extract::AppJson;
        #key_imports
        #cookie_imports
        use crate::repo::#repo as repo;
        use crate::repo::auth_refresh_tokens as sessions;
        use crate::state::AppState;

        pub fn router() -> Router<AppState> {
            Router::new()
                .route(#register_path, routing::post(register))
                .route(#login_path, routing::post(login))
                .route(#refresh_path, routing::post(refresh))
                .route(#logout_path, routing::post(logout))
                .route(#me_path, routing::get(me))
                #key_routes
        }

        #patterns
        #input_struct
        #dto

        /// Credentials for `POST` login.
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct LoginBody {
            #[serde(rename = #login_json)]
            pub login: String,
            #[serde(rename = #password_json)]
            pub password: String,
        }

        /// A refresh token, for `POST` refresh and logout.
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct RefreshBody {
            #refresh_field
        }

        /// The record with a fresh access token and refresh token.
        #[derive(Debug, serde::Serialize)]
        struct SignedIn<'a> {
            #[serde(flatten)]
            user: &'a #record,
            #[serde(rename = #token_field)]
            token: String,
            expires_in: i64,
            refresh_token: String,
            refresh_expires_in: i64,
        }

        /// The record with a fresh access token and `refresh_token`, in the spec's shape.
        fn signed_in(state: &AppState, status: StatusCode, user: &#record, refresh_token: String) -> Result<Response, AppError> {
            let caller = Caller { id: user.#pk_name, roles: #roles, #key_none };
            let token = state.jwt.issue(&caller)?;
            #set_cookies
            let body = SignedIn {
                user,
                token,
                expires_in: crate::auth::ACCESS_TOKEN_SECONDS,
                refresh_token,
                refresh_expires_in: crate::auth::REFRESH_TOKEN_SECONDS,
            };
            #respond_signed_in
        }

        #cookie_fns

        /// Signs `user` in with a new family of refresh tokens.
        async fn start_session(state: &AppState, status: StatusCode, user: &#record) -> Result<Response, AppError> {
            let now = unix_now();
            sessions::prune_expired(&state.db, &user.#pk_name, now).await?;
            let token = new_refresh_token();
            let family = uuid::Uuid::new_v4().to_string();
            let new = sessions::New {
                hash: &secret_hash(&token),
                user_id: &user.#pk_name,
                family: &family,
                issued_at: now,
                expires_at: now + REFRESH_TOKEN_SECONDS,
            };
            sessions::insert(&state.db, &new).await?;
            signed_in(state, status, user, token)
        }

        /// A used or revoked token came back: whoever holds it may have stolen it, so the
        /// whole family ends and its owner signs in again.
        async fn revoke_on_reuse(state: &AppState, family: &str, now: i64) -> AppError {
            match sessions::revoke_family(&state.db, family, now).await {
                Ok(()) => {
                    tracing::warn!("a refresh token was reused; its family is revoked");
                    AppError::Unauthorized
                }
                Err(err) => err,
            }
        }

        /// Creates an account and signs it in.
        async fn register(State(state): State<AppState>, #limit AppJson(body): AppJson<RegisterBody>) -> Result<Response, AppError> {
            let input = body.validate()?;
            #hash
            #now
            let new = repo::New {
                #(#values)*
            };
            let user = repo::insert(&state.db, &new).await?;
            start_session(&state, StatusCode::CREATED, &user).await
        }

        /// Exchanges credentials for a token. Unknown logins and wrong passwords get the
        /// same answer after the same work.
        async fn login(State(state): State<AppState>, #limit AppJson(body): AppJson<LoginBody>) -> Result<Response, AppError> {
            let credentials = repo::credentials(&state.db, &body.login).await?;
            let (user, hash) = match credentials {
                Some((user, hash)) => (Some(user), Some(hash)),
                None => (None, None),
            };
            if !crate::auth::verify_password(body.password, hash).await? {
                return Err(AppError::Unauthorized);
            }
            let user = user.ok_or(AppError::Unauthorized)?;
            start_session(&state, StatusCode::OK, &user).await
        }

        /// Exchanges a refresh token for new tokens; the old one is spent. Presenting a
        /// spent token revokes every token descended from the same login.
        async fn refresh(State(state): State<AppState>, #limit #headers_param AppJson(body): AppJson<RefreshBody>) -> Result<Response, AppError> {
            #presented
            let now = unix_now();
            let old = secret_hash(presented);
            let stored = sessions::find(&state.db, &old).await?.ok_or(AppError::Unauthorized)?;
            if stored.used_at.is_some() || stored.revoked_at.is_some() {
                return Err(revoke_on_reuse(&state, &stored.family, now).await);
            }
            if stored.expires_at <= now {
                return Err(AppError::Unauthorized);
            }
            let token = new_refresh_token();
            let next = sessions::New {
                hash: &secret_hash(&token),
                user_id: &stored.user_id,
                family: &stored.family,
                issued_at: now,
                expires_at: now + REFRESH_TOKEN_SECONDS,
            };
            if !sessions::rotate(&state.db, &old, &next).await? {
                return Err(revoke_on_reuse(&state, &stored.family, now).await);
            }
            let user = repo::#find_by_key(&state.db, &stored.user_id).await?.ok_or(AppError::Unauthorized)?;
            signed_in(&state, StatusCode::OK, &user, token)
        }

        /// Ends the session the refresh token belongs to; answers 204 whatever the token.
        async fn logout(State(state): State<AppState>, #limit #headers_param AppJson(body): AppJson<RefreshBody>) -> Result<#logout_out, AppError> {
            #logout_token
            #logout_done
        }

        #key_handlers

        /// The signed-in caller's own record.
        async fn me(State(state): State<AppState>, #me_limit caller: Caller) -> Result<Response, AppError> {
            let user = repo::#find_by_key(&state.db, &caller.id).await?.ok_or(AppError::Unauthorized)?;
            Ok(crate::http::respond(StatusCode::OK, #envelope, &user))
        }

        #[cfg(test)]
        mod tests {
            #[test]
            fn login_body_rejects_unknown_fields() {
                let body = format!("{{\"{}\":\"a\",\"{}\":\"b\",\"role\":\"admin\"}}", #login_json, #password_json);
                assert!(serde_json::from_str::<super::LoginBody>(&body).is_err());
            }
        }
    })
}

/// `credentials(login)`: the record and its password hash, for login.
pub fn credentials_fn(ir: &Ir) -> Option<TokenStream> {
    let auth = ir.auth.as_ref()?;
    let entity = ir.entity(auth.identity);
    let login_field = &entity.fields[auth.login_field];
    let password_field = &entity.fields[auth.password_field];
    let record = type_ident(&entity.name);
    let q = crate::lower::sql::dialect::quote_ident;
    let columns: Vec<String> = types::record_fields(entity)
        .map(|(_, f)| q(&f.column))
        .collect();
    let hash_index = columns.len();
    let live = super::repo::live_rows(entity);
    let sql = format!(
        "SELECT {}, {} FROM {} WHERE {} = $1{live}",
        columns.join(", "),
        q(&password_field.column),
        q(&entity.table),
        q(&login_field.column)
    );
    Some(quote! {
        /// The account with this login and its password hash, for verifying a login.
        pub async fn credentials(db: &Database, login: &str) -> Result<Option<(#record, String)>, AppError> {
            let found = db.fetch_optional(#sql, &[login.param()], |row| {
                Ok((from_row(row)?, row.get::<String>(#hash_index)?))
            }).await?;
            Ok(found)
        }
    })
}

/// `grant_role` on the identity's repo: the one way to make the first administrator,
/// since no client may write the role field.
pub fn grant_role_fn(ir: &Ir) -> Option<TokenStream> {
    let auth = ir.auth.as_ref()?;
    let entity = ir.entity(auth.identity);
    let role_field = &entity.fields[auth.role_field?];
    let FieldType::Enum(role_enum) = &role_field.ty else {
        return None;
    };
    let role = type_ident(&ir.enum_(*role_enum).name);
    let q = crate::lower::sql::dialect::quote_ident;
    let guard = super::repo::update_guard(entity);
    let touch = guard
        .map(|f| format!(", {} = $2", q(&f.column)))
        .unwrap_or_default();
    // SQLite numbers `$n` parameters by first appearance, so they appear in order.
    let login_param = if guard.is_some() { 3 } else { 2 };
    let live = super::repo::live_rows(entity);
    let sql = format!(
        "UPDATE {} SET {} = $1{touch} WHERE {} = ${login_param}{live}",
        q(&entity.table),
        q(&role_field.column),
        q(&entity.fields[auth.login_field].column),
    );
    let now_param = guard.map(|_| quote!(now.param(),));
    // Moving updated_at makes an update that read the old role answer 409, not undo it.
    let now = guard.map(|_| quote!(let now = chrono::Utc::now();));
    Some(quote! {
        /// Gives the account with this login `role`; `false` when there is no such account.
        pub async fn grant_role(db: &Database, login: &str, role: crate::domain::#role) -> Result<bool, AppError> {
            #now
            Ok(db.execute(#sql, &[role.param(), #now_param login.param()]).await? > 0)
        }
    })
}

/// Whether the operator can grant roles: the identity has an enum role field.
pub fn admin_grants_roles(ir: &Ir) -> bool {
    ir.auth.as_ref().is_some_and(|a| {
        a.role_field
            .is_some_and(|r| matches!(ir.entity(a.identity).fields[r].ty, FieldType::Enum(_)))
    })
}

/// `src/admin.rs`: operator commands the service binary runs instead of serving, when
/// there are roles to grant or API keys to issue.
pub fn admin_rs(ir: &Ir) -> Option<TokenStream> {
    let auth = ir.auth.as_ref()?;
    let entity = ir.entity(auth.identity);
    let role_enum = auth
        .role_field
        .filter(|_| admin_grants_roles(ir))
        .and_then(|r| match &entity.fields[r].ty {
            FieldType::Enum(e) => Some(*e),
            _ => None,
        });
    let keys = super::api_keys::admin_items(ir);
    if role_enum.is_none() && keys.is_none() {
        return None;
    }
    let repo = super::repo::module(ir, auth.identity);
    let grant = role_enum.map(|e| {
        let role = type_ident(&ir.enum_(e).name);
        quote! {
            /// Gives an existing account a role, e.g. the first administrator. Takes effect
            /// with the account's next access token.
            pub async fn grant_role(settings: &Settings, login: &str, role: &str) -> Result<(), AdminError> {
                let role: crate::domain::#role = role.parse().map_err(|expected| AdminError::UnknownRole {
                    role: role.to_owned(),
                    expected,
                })?;
                let db = connect(settings).await?;
                let granted = crate::repo::#repo::grant_role(&db, login, role).await;
                db.close().await;
                if granted? {
                    Ok(())
                } else {
                    Err(AdminError::NoAccount(login.to_owned()))
                }
            }
        }
    });
    let key_errors = keys.is_some().then(|| {
        quote! {
            #[error("unknown API key scope `{scope}`: expected one of {expected}")]
            UnknownScope { scope: String, expected: String },
            #[error("an API key's name must have 1 to 100 characters")]
            BadName,
            #[error("no live API key has the id `{0}`")]
            NoApiKey(String),
        }
    });
    let role_error = grant.is_some().then(|| {
        quote! {
            #[error("unknown role `{role}`: expected {expected}")]
            UnknownRole { role: String, expected: String },
        }
    });
    Some(quote! {
        //! Operator commands, run by the service binary (see `src/main.rs`) against the
        //! database the environment configures.

        use crate::config::Settings;
        use crate::db::Database;
        use crate::error::AppError;

        #[derive(Debug, thiserror::Error)]
        pub enum AdminError {
            #role_error
            #key_errors
            #[error("no account has the login `{0}`")]
            NoAccount(String),
            #[error("cannot connect to the database: {0}")]
            Database(#[from] sqlx::Error),
            #[error("cannot apply migrations: {0}")]
            Migrate(#[from] sqlx::migrate::MigrateError),
            #[error("the database refused the change: {0}")]
            Query(#[from] AppError),
        }

        /// The configured database, migrated first when `MIGRATE_ON_START` is on.
        async fn connect(settings: &Settings) -> Result<Database, AdminError> {
            let db = Database::connect(settings).await?;
            if settings.migrate_on_start {
                db.migrate().await?;
            }
            Ok(db)
        }

        #grant
        #keys
    })
}
