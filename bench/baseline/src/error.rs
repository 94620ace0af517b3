//! The error type and its JSON shape, identical to the generated service's:
//! `{"error": {"code", "message", "details": [{"field", "message"}]}}`.
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("bad request")]
    BadRequest(Vec<FieldError>),
    #[error("unauthorized")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("request timed out")]
    Timeout,
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Database(sqlx::Error),
}

impl ApiError {
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field,
            message: message.into(),
        }])
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "VALIDATION_ERROR",
                "the request is invalid",
            ),
            ApiError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "the request is malformed",
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "authentication is required",
            ),
            ApiError::Forbidden => (
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "you are not allowed to do this",
            ),
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "the resource was not found",
            ),
            ApiError::Conflict(_) => (
                StatusCode::CONFLICT,
                "CONFLICT",
                "the request conflicts with existing data",
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "the request body is too large",
            ),
            ApiError::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                "the request took too long",
            ),
            ApiError::Internal(_) | ApiError::Database(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "an unexpected error occurred",
            ),
        }
    }
}

/// Constraint violations are the client's doing; any other database error is ours.
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db)
                if db.is_unique_violation() || db.is_foreign_key_violation() =>
            {
                ApiError::Conflict(db.message().to_owned())
            }
            sqlx::Error::Database(db) if db.is_check_violation() => {
                ApiError::invalid("body", "violates a constraint of the data model")
            }
            sqlx::Error::RowNotFound => ApiError::NotFound,
            _ => ApiError::Database(err),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let details = vec![FieldError {
            field: "body",
            message: rejection.body_text(),
        }];
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Validation(details),
            _ => ApiError::BadRequest(details),
        }
    }
}

/// A path segment that is not a UUID names no record.
impl From<PathRejection> for ApiError {
    fn from(_: PathRejection) -> Self {
        ApiError::NotFound
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::invalid("query", rejection.body_text())
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
/// Keys in the order the generated service writes them (`serde_json::json!` sorts).
struct Inner<'a> {
    code: &'static str,
    details: &'a [FieldError],
    message: &'static str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if status.is_server_error() {
            tracing::error!(error = ?self, "request failed");
        }
        let details = match &self {
            ApiError::Validation(details) | ApiError::BadRequest(details) => details.as_slice(),
            _ => &[],
        };
        let mut response = (
            status,
            axum::Json(Body {
                error: Inner {
                    code,
                    message,
                    details,
                },
            }),
        )
            .into_response();
        if matches!(self, ApiError::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Collects field problems so a client hears about all of them at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<FieldError>);

impl Problems {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    /// `value` when `check` passes; otherwise records the problem.
    pub fn check<T>(
        &mut self,
        field: &'static str,
        value: T,
        check: impl FnOnce(&T) -> Result<(), String>,
    ) -> Option<T> {
        match check(&value) {
            Ok(()) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_error(self) -> ApiError {
        ApiError::Validation(self.0)
    }
}

pub fn range<T: PartialOrd + std::fmt::Display>(
    value: &T,
    min: Option<T>,
    max: Option<T>,
) -> Result<(), String> {
    match (min, max) {
        (Some(min), _) if *value < min => Err(format!("must be at least {min}")),
        (_, Some(max)) if *value > max => Err(format!("must be at most {max}")),
        _ => Ok(()),
    }
}

/// Length in characters.
pub fn length(value: &str, min: Option<usize>, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    match min {
        Some(1) if n == 0 => Err("must not be empty".to_owned()),
        Some(min) if n < min => Err(format!("must be at least {min} characters")),
        _ if n > max => Err(format!("must be at most {max} characters")),
        _ => Ok(()),
    }
}

/// A `numeric(precision, scale)` value: at most `scale` places and
/// `precision - scale` integer digits.
pub fn decimal(value: &rust_decimal::Decimal, precision: u32, scale: u32) -> Result<(), String> {
    if value.scale() > scale && value.normalize().scale() > scale {
        return Err(format!("must have at most {scale} decimal places"));
    }
    let integer_digits = value
        .trunc()
        .abs()
        .to_string()
        .trim_start_matches('0')
        .len();
    let allowed = (precision - scale) as usize;
    if integer_digits > allowed {
        return Err(format!(
            "must have at most {allowed} digits before the decimal point"
        ));
    }
    Ok(())
}
