//! Access tokens: HS256 JWTs as the generated service issues them at `/auth/login`,
//! checked with the same algorithm, leeway, required claims, issuer and audience.
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use uuid::Uuid;

use crate::AppState;
use crate::config::Config;
use crate::error::ApiError;

/// What the service reads from a token. `iat` is required, as in the generated
/// claims type; `iss` and `aud` are checked by `Validation` when configured.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    roles: Vec<String>,
    #[serde(rename = "iat")]
    _issued_at: i64,
}

pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier").finish_non_exhaustive()
    }
}

impl Verifier {
    pub fn new(config: &Config) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub"]);
        if let Some(issuer) = &config.jwt_issuer {
            validation.set_issuer(&[issuer]);
        }
        match &config.jwt_audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        Verifier {
            key: DecodingKey::from_secret(config.jwt_secret.as_bytes()),
            validation,
        }
    }

    fn verify(&self, token: &str) -> Result<User, ApiError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|_| ApiError::Unauthorized)?
            .claims;
        let id = claims.sub.parse().map_err(|_| ApiError::Unauthorized)?;
        let admin = claims.roles.iter().any(|role| role == "admin");
        Ok(User { id, admin })
    }
}

/// A signed-in caller; requests without a valid bearer token get 401.
#[derive(Debug, Clone, Copy)]
pub struct User {
    pub id: Uuid,
    pub admin: bool,
}

impl FromRequestParts<AppState> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        state.verifier.verify(token.trim())
    }
}
