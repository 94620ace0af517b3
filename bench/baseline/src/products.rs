//! `/api/v1/products`: a public, filtered and paged list; a public get served from
//! a 30-second cache with an ETag; create, update and (soft) delete by admins.
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

use crate::AppState;
use crate::auth::User;
use crate::error::{ApiError, Problems, decimal, length, range};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/products", get(list).post(create))
        .route(
            "/api/v1/products/{id}",
            get(read).patch(update).delete(remove),
        )
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Product {
    id: Uuid,
    name: String,
    description: Option<String>,
    price: Decimal,
    stock: i32,
    #[sqlx(rename = "category_id")]
    category: Uuid,
    active: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Product {
    /// Prices always carry two places, as the column does (zero comes back bare).
    fn scaled(mut self) -> Self {
        self.price.rescale(2);
        self
    }
}

/// The columns of `Product`, in order, for `concat!` into the statements below.
macro_rules! columns {
    () => {
        "id, name, description, price, stock, category_id, active, created_at, updated_at"
    };
}

// ---------------------------------------------------------------- cache

/// A product page as sent: the JSON body and its ETag, computed once when cached.
#[derive(Debug)]
pub struct Page {
    body: Bytes,
    etag: HeaderValue,
}

pub type PageCache = moka::future::Cache<Uuid, Arc<Page>>;

pub fn page_cache() -> PageCache {
    moka::future::Cache::builder()
        .max_capacity(10_000)
        .time_to_live(std::time::Duration::from_secs(30))
        .build()
}

fn page_response(request: &HeaderMap, page: &Page, hit: bool) -> Response {
    let not_modified = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|v| v.trim().trim_start_matches("W/"))
        .any(|v| v.as_bytes() == page.etag.as_bytes() || v == "*");
    let mut response = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            page.body.clone(),
        )
            .into_response()
    };
    let headers = response.headers_mut();
    headers.insert(header::ETAG, page.etag.clone());
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=30"),
    );
    headers.insert(header::VARY, HeaderValue::from_static("authorization"));
    headers.insert(
        "x-cache",
        HeaderValue::from_static(if hit { "HIT" } else { "MISS" }),
    );
    response
}

// ---------------------------------------------------------------- list

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    limit: Option<i64>,
    offset: Option<i64>,
    sort: Option<String>,
    category: Option<Uuid>,
    active: Option<bool>,
    min_price: Option<Decimal>,
    max_price: Option<Decimal>,
}

/// `GET /products`: a page of live products, the match count in `X-Total-Count`.
async fn list(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
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
        Some("price") => " ORDER BY price ASC, id",
        Some("-price") => " ORDER BY price DESC, id",
        Some(_) => {
            problems.add(
                "sort",
                "must be one of: price, -price, created_at, -created_at",
            );
            ""
        }
    };
    let (Some(limit), Some(offset)) = (limit, offset) else {
        return Err(problems.into_error());
    };
    if !problems.is_empty() {
        return Err(problems.into_error());
    }

    let filter = |query: &mut QueryBuilder<'_, Postgres>| {
        if let Some(category) = params.category {
            query.push(" AND category_id = ").push_bind(category);
        }
        if let Some(active) = params.active {
            query.push(" AND active = ").push_bind(active);
        }
        if let Some(min) = params.min_price {
            query.push(" AND price >= ").push_bind(min);
        }
        if let Some(max) = params.max_price {
            query.push(" AND price <= ").push_bind(max);
        }
    };
    let mut count = QueryBuilder::new("SELECT count(*) FROM products WHERE deleted_at IS NULL");
    filter(&mut count);
    let mut select = QueryBuilder::new(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE deleted_at IS NULL"
    ));
    filter(&mut select);
    select
        .push(order)
        .push(" LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);

    let mut conn = state.db.acquire().await?;
    let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    let items: Vec<Product> = select.build_query_as().fetch_all(&mut *conn).await?;
    drop(conn);
    let items: Vec<Product> = items.into_iter().map(Product::scaled).collect();
    Ok(([("x-total-count", total.to_string())], Json(items)).into_response())
}

// ---------------------------------------------------------------- get

async fn find(state: &AppState, id: Uuid) -> Result<Option<Product>, ApiError> {
    let product: Option<Product> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM products WHERE id = $1 AND deleted_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    Ok(product.map(Product::scaled))
}

/// `GET /products/{id}`: from the cache while fresh; `If-None-Match` gets a 304.
async fn read(
    State(state): State<AppState>,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    if let Some(page) = state.products.get(&id).await {
        return Ok(page_response(&headers, &page, true));
    }
    let product = find(&state, id).await?.ok_or(ApiError::NotFound)?;
    let body = serde_json::to_vec(&product).map_err(|err| ApiError::Internal(err.to_string()))?;
    let etag = HeaderValue::try_from(format!("\"{:x}\"", Sha256::digest(&body)))
        .map_err(|err| ApiError::Internal(err.to_string()))?;
    let page = Arc::new(Page {
        body: Bytes::from(body),
        etag,
    });
    state.products.insert(id, Arc::clone(&page)).await;
    Ok(page_response(&headers, &page, false))
}

// ---------------------------------------------------------------- create

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    price: Option<Decimal>,
    #[serde(default)]
    stock: Option<i32>,
    #[serde(default)]
    category: Option<Uuid>,
    #[serde(default)]
    active: Option<bool>,
}

fn check_name(problems: &mut Problems, name: String) -> Option<String> {
    problems.check("name", name, |v| length(v, Some(1), 200))
}

fn check_description(problems: &mut Problems, description: String) -> Option<String> {
    problems.check("description", description, |v| length(v, None, 5000))
}

fn check_price(problems: &mut Problems, price: Decimal) -> Option<Decimal> {
    problems
        .check("price", price, |v| {
            decimal(v, 12, 2).and_then(|()| range(v, Some(Decimal::ZERO), None))
        })
        .map(|mut v| {
            v.rescale(2);
            v
        })
}

fn check_stock(problems: &mut Problems, stock: i32) -> Option<i32> {
    problems.check("stock", stock, |v| range(v, Some(0), None))
}

/// `POST /products` (admin): validation comes first, then the role check.
async fn create(
    State(state): State<AppState>,
    user: User,
    body: Result<Json<CreateBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(body) = body?;
    let mut problems = Problems::default();
    let name = match body.name {
        Some(v) => check_name(&mut problems, v),
        None => {
            problems.add("name", "is required");
            None
        }
    };
    let description = match body.description {
        Some(v) => check_description(&mut problems, v).map(Some),
        None => Some(None),
    };
    let price = match body.price {
        Some(v) => check_price(&mut problems, v),
        None => {
            problems.add("price", "is required");
            None
        }
    };
    let stock = match body.stock {
        Some(v) => check_stock(&mut problems, v),
        None => {
            problems.add("stock", "is required");
            None
        }
    };
    if body.category.is_none() {
        problems.add("category", "is required");
    }
    let (Some(name), Some(description), Some(price), Some(stock), Some(category)) =
        (name, description, price, stock, body.category)
    else {
        return Err(problems.into_error());
    };
    if !user.admin {
        return Err(ApiError::Forbidden);
    }
    let now = Utc::now();
    let mut tx = state.db.begin().await?;
    let product: Product = sqlx::query_as(concat!(
        "INSERT INTO products (",
        columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING ",
        columns!()
    ))
    .bind(Uuid::now_v7())
    .bind(name)
    .bind(description)
    .bind(price)
    .bind(stock)
    .bind(category)
    .bind(body.active.unwrap_or(true))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    let product = product.scaled();
    record_product_added(&mut tx, &product, now).await?;
    tx.commit().await?;
    state.products.invalidate_all();
    Ok((StatusCode::CREATED, Json(product)).into_response())
}

/// The `ProductAdded` event, in the outbox the generated service's dispatcher reads,
/// written in the product's transaction.
async fn record_product_added(
    tx: &mut sqlx::Transaction<'_, Postgres>,
    product: &Product,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let payload = serde_json::to_string(product).map_err(|err| ApiError::Internal(err.to_string()))?;
    let millis = now.timestamp_millis();
    sqlx::query(
        "INSERT INTO outbox_events (id, event, payload, created_at, available_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(Uuid::now_v7().to_string())
    .bind("ProductAdded")
    .bind(payload)
    .bind(millis)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- update

/// Absent (`None`), null (`Some(None)`) or a value, so PATCH can tell them apart.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateBody {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    price: Option<Option<Decimal>>,
    #[serde(default, deserialize_with = "present")]
    stock: Option<Option<i32>>,
    #[serde(default, deserialize_with = "present")]
    category: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    active: Option<Option<bool>>,
}

/// A required field may be left out of a PATCH but not set to null.
fn not_null<T>(
    problems: &mut Problems,
    field: &'static str,
    value: Option<Option<T>>,
) -> Option<T> {
    match value {
        Some(None) => {
            problems.add(field, "must not be null");
            None
        }
        Some(Some(v)) => Some(v),
        None => None,
    }
}

/// `PATCH /products/{id}` (admin; others get 404): only the fields sent change, and
/// only if nobody changed the row in between (409 otherwise).
async fn update(
    State(state): State<AppState>,
    user: User,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
    body: Result<Json<UpdateBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let Json(body) = body?;
    let mut problems = Problems::default();
    let name =
        not_null(&mut problems, "name", body.name).and_then(|v| check_name(&mut problems, v));
    let description = match body.description {
        None => None,
        Some(None) => Some(None),
        Some(Some(v)) => check_description(&mut problems, v).map(Some),
    };
    let price =
        not_null(&mut problems, "price", body.price).and_then(|v| check_price(&mut problems, v));
    let stock =
        not_null(&mut problems, "stock", body.stock).and_then(|v| check_stock(&mut problems, v));
    let category = not_null(&mut problems, "category", body.category);
    let active = not_null(&mut problems, "active", body.active);
    if !problems.is_empty() {
        return Err(problems.into_error());
    }

    let mut product = find(&state, id).await?.ok_or(ApiError::NotFound)?;
    if !user.admin {
        return Err(ApiError::NotFound);
    }
    let seen = product.updated_at;
    if let Some(v) = name {
        product.name = v;
    }
    if let Some(v) = description {
        product.description = v;
    }
    if let Some(v) = price {
        product.price = v;
    }
    if let Some(v) = stock {
        product.stock = v;
    }
    if let Some(v) = category {
        product.category = v;
    }
    if let Some(v) = active {
        product.active = v;
    }
    let updated: Option<Product> = sqlx::query_as(concat!(
        "UPDATE products SET name = $2, description = $3, price = $4, stock = $5, category_id = $6, ",
        "active = $7, updated_at = $8 WHERE id = $1 AND deleted_at IS NULL AND updated_at = $9 RETURNING ",
        columns!()
    ))
    .bind(id)
    .bind(&product.name)
    .bind(&product.description)
    .bind(product.price)
    .bind(product.stock)
    .bind(product.category)
    .bind(product.active)
    .bind(Utc::now())
    .bind(seen)
    .fetch_optional(&state.db)
    .await?;
    let updated = updated.ok_or_else(|| {
        ApiError::Conflict(
            "the record changed while this request was applied; read it again and retry".to_owned(),
        )
    })?;
    state.products.invalidate_all();
    Ok(Json(updated.scaled()).into_response())
}

// ---------------------------------------------------------------- delete

/// `DELETE /products/{id}` (admin; others get 404): marks the row deleted.
async fn remove(
    State(state): State<AppState>,
    user: User,
    id: Result<Path<Uuid>, axum::extract::rejection::PathRejection>,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    find(&state, id).await?.ok_or(ApiError::NotFound)?;
    if !user.admin {
        return Err(ApiError::NotFound);
    }
    let deleted =
        sqlx::query("UPDATE products SET deleted_at = $2 WHERE id = $1 AND deleted_at IS NULL")
            .bind(id)
            .bind(Utc::now())
            .execute(&state.db)
            .await?
            .rows_affected();
    if deleted == 0 {
        return Err(ApiError::NotFound);
    }
    state.products.invalidate_all();
    Ok(StatusCode::NO_CONTENT.into_response())
}
