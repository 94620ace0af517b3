//! `/api/v1/orders`: customers list and read their own orders (others' read as 404),
//! admins see all; any signed-in user opens a new, empty order.
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::QueryBuilder;
use uuid::Uuid;

use crate::AppState;
use crate::auth::User;
use crate::error::{ApiError, Problems, range};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", get(list).post(create))
        .route("/api/v1/orders/{id}", get(read))
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Order {
    id: Uuid,
    #[sqlx(rename = "customer_id")]
    customer: Uuid,
    status: String,
    total: Decimal,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Order {
    fn scaled(mut self) -> Self {
        self.total.rescale(2);
        self
    }
}

macro_rules! columns {
    () => {
        "id, customer_id, status, total, created_at, updated_at"
    };
}

const STATUSES: [&str; 4] = ["pending", "paid", "shipped", "cancelled"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<i64>,
    offset: Option<i64>,
    sort: Option<String>,
    status: Option<String>,
}

/// `GET /orders`: the caller's orders, or everyone's for an admin.
async fn list(
    State(state): State<AppState>,
    user: User,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params?;
    let mut problems = Problems::default();
    let limit = problems.check("limit", params.limit.unwrap_or(20), |v| {
        range(v, Some(1), Some(100))
    });
    let offset = problems.check("offset", params.offset.unwrap_or(0), |v| {
        range(v, Some(0), None)
    });
    let order = match params.sort.as_deref() {
        None | Some("-created_at") => " ORDER BY created_at DESC, id",
        Some("created_at") => " ORDER BY created_at ASC, id",
        Some(_) => {
            problems.add("sort", "must be one of: created_at, -created_at");
            ""
        }
    };
    if let Some(status) = params.status.as_deref()
        && !STATUSES.contains(&status)
    {
        problems.add(
            "status",
            "must be one of: pending, paid, shipped, cancelled",
        );
    }
    let (Some(limit), Some(offset)) = (limit, offset) else {
        return Err(problems.into_error());
    };
    if !problems.is_empty() {
        return Err(problems.into_error());
    }

    let filter = |query: &mut QueryBuilder<'_, sqlx::Postgres>| {
        if let Some(status) = &params.status {
            query.push(" AND status = ").push_bind(status.clone());
        }
        if !user.admin {
            query.push(" AND customer_id = ").push_bind(user.id);
        }
    };
    let mut count = QueryBuilder::new("SELECT count(*) FROM orders WHERE true");
    filter(&mut count);
    let mut select = QueryBuilder::new(concat!("SELECT ", columns!(), " FROM orders WHERE true"));
    filter(&mut select);
    select
        .push(order)
        .push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);

    let mut conn = state.db.acquire().await?;
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let items: Vec<Order> = select.build_query_as().fetch_all(&mut *conn).await?;
    drop(conn);
    let items: Vec<Order> = items.into_iter().map(Order::scaled).collect();
    Ok(([("x-total-count", total.to_string())], Json(items)).into_response())
}

/// `GET /orders/{id}`: 404 unless the caller owns it or is an admin, so nobody
/// learns which ids exist.
async fn read(
    State(state): State<AppState>,
    user: User,
    id: Result<Path<Uuid>, PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let order: Order = sqlx::query_as(concat!("SELECT ", columns!(), " FROM orders WHERE id = $1"))
        .bind(id)
        .fetch_optional(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    if order.customer != user.id && !user.admin {
        return Err(ApiError::NotFound);
    }
    Ok(Json(order.scaled()).into_response())
}

/// The body of `POST /orders`: no fields, and none others accepted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {}

/// `POST /orders`: a pending order with a zero total for the caller.
async fn create(
    State(state): State<AppState>,
    user: User,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(CreateBody {}) = body?;
    let now = Utc::now();
    let order: Order = sqlx::query_as(concat!(
        "INSERT INTO orders (",
        columns!(),
        ") VALUES ($1, $2, 'pending', $3, $4, $4) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(user.id)
    .bind(Decimal::new(0, 2))
    .bind(now)
    .fetch_one(&state.db)
    .await?;
    Ok((StatusCode::CREATED, Json(order.scaled())).into_response())
}
