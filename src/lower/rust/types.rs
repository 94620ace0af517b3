//! How spec fields become Rust: identifiers, types, JSON names, and the per-database
//! conversions between a field's Rust value and its column.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{Entity, EntityId, Field, FieldType, Ir, JsonCase, names};
use crate::lower::sql::Dialect;

/// A Rust identifier for a spec name, raw where it is a keyword (`type`, `ref`...).
pub fn ident(name: &str) -> syn::Ident {
    syn::parse_str::<syn::Ident>(name).unwrap_or_else(|_| format_ident!("r#{}", name))
}

/// `LineItem` for the entity `LineItem`, `OrderStatus` for an enum, `in_progress` → `InProgress`.
pub fn type_ident(name: &str) -> syn::Ident {
    let camel = names::camel_case(name);
    let mut chars = camel.chars();
    let pascal: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect();
    format_ident!("{}", pascal)
}

/// The name a field has in JSON bodies.
pub fn json_name(ir: &Ir, field: &Field) -> String {
    field
        .json_name
        .clone()
        .unwrap_or_else(|| json_case(ir, &field.name))
}

/// A spec name in the service's JSON case.
pub fn json_case(ir: &Ir, name: &str) -> String {
    match ir.service.json_case {
        JsonCase::Snake => name.to_string(),
        JsonCase::Camel => names::camel_case(name),
    }
}

/// `#[serde(rename = "...")]` when the JSON name differs from the Rust field name.
pub fn serde_rename(ir: &Ir, field: &Field) -> TokenStream {
    let json = json_name(ir, field);
    if json == field.name {
        quote!()
    } else {
        quote!(#[serde(rename = #json)])
    }
}

/// The name a collection has in JSON bodies.
pub fn collection_json_name(ir: &Ir, c: crate::ir::CollectionId) -> String {
    let collection = ir.collection(c);
    collection
        .json_name
        .clone()
        .unwrap_or_else(|| json_case(ir, &collection.name))
}

/// `#[serde(rename = "...")]` for a collection whose JSON name (`@json` or the service's
/// case) differs from its Rust name.
pub fn collection_rename(ir: &Ir, c: crate::ir::CollectionId) -> TokenStream {
    let json = collection_json_name(ir, c);
    if json == ir.collection(c).name {
        quote!()
    } else {
        quote!(#[serde(rename = #json)])
    }
}

/// The single-column primary key of an entity.
pub fn primary_key(entity: &Entity) -> Option<&Field> {
    match entity.primary_key.as_slice() {
        [one] => entity.fields.get(*one),
        _ => None,
    }
}

/// The Rust type of a field's value, without `Option`.
pub fn value_type(ir: &Ir, ty: &FieldType) -> TokenStream {
    match ty {
        FieldType::Uuid => quote!(uuid::Uuid),
        FieldType::String
        | FieldType::Text
        | FieldType::Email
        | FieldType::Url
        | FieldType::Password => quote!(String),
        FieldType::Int => quote!(i32),
        FieldType::BigInt => quote!(i64),
        FieldType::Float => quote!(f64),
        FieldType::Decimal { .. } => quote!(rust_decimal::Decimal),
        FieldType::Bool => quote!(bool),
        FieldType::Timestamp => quote!(chrono::DateTime<chrono::Utc>),
        FieldType::Date => quote!(chrono::NaiveDate),
        FieldType::Json => quote!(serde_json::Value),
        FieldType::Enum(id) => {
            let name = type_ident(&ir.enum_(*id).name);
            quote!(crate::domain::#name)
        }
        FieldType::Ref(target) => key_type(ir, *target),
    }
}

/// The Rust type of an entity's primary key (what references to it hold).
pub fn key_type(ir: &Ir, entity: EntityId) -> TokenStream {
    primary_key(ir.entity(entity)).map_or_else(|| quote!(uuid::Uuid), |pk| value_type(ir, &pk.ty))
}

/// The field's Rust type, `Option` when optional.
pub fn field_type(ir: &Ir, field: &Field) -> TokenStream {
    let ty = value_type(ir, &field.ty);
    if field.optional {
        quote!(Option<#ty>)
    } else {
        ty
    }
}

/// The column type a reference resolves to, following `Ref` to the target's key.
pub fn storage_type<'a>(ir: &'a Ir, ty: &'a FieldType) -> &'a FieldType {
    match ty {
        FieldType::Ref(target) => {
            primary_key(ir.entity(*target)).map_or(ty, |pk| storage_type(ir, &pk.ty))
        }
        other => other,
    }
}

/// Whether values of the type are `Copy`, so they bind by value rather than by reference.
pub fn is_copy(ir: &Ir, ty: &FieldType) -> bool {
    !matches!(
        storage_type(ir, ty),
        FieldType::String
            | FieldType::Text
            | FieldType::Email
            | FieldType::Url
            | FieldType::Password
            | FieldType::Json
    )
}

/// An expression that binds the value at `place` (a reference when `is_ref`, `Option`
/// when `optional`) to a query for `dialect`: what differs is how SQLite stores uuids,
/// decimals and timestamps (as text), and how both store enums and JSON.
pub fn bind_value(
    ir: &Ir,
    ty: &FieldType,
    optional: bool,
    dialect: Dialect,
    place: TokenStream,
    is_ref: bool,
) -> TokenStream {
    // `v` is the value, or a reference to it when `v_is_ref`.
    let convert = |v: TokenStream, v_is_ref: bool| -> Option<TokenStream> {
        let by_ref = if v_is_ref { v.clone() } else { quote!(&#v) };
        match (storage_type(ir, ty), dialect) {
            (FieldType::Enum(_), _) => Some(quote!(#v.as_str())),
            (FieldType::Json, _) => Some(quote!(sqlx::types::Json(#by_ref))),
            (FieldType::Uuid, Dialect::Sqlite) => Some(quote!(#v.hyphenated())),
            (FieldType::Decimal { .. }, Dialect::Sqlite) => Some(quote!(#v.to_string())),
            (FieldType::Timestamp, Dialect::Sqlite) => {
                Some(quote!(crate::repo::sqlite_timestamp(#by_ref)))
            }
            _ => None,
        }
    };
    if optional {
        match (storage_type(ir, ty), dialect) {
            (FieldType::Timestamp, Dialect::Sqlite) => {
                return quote!(#place.as_ref().map(crate::repo::sqlite_timestamp));
            }
            (FieldType::Json, _) => return quote!(#place.as_ref().map(sqlx::types::Json)),
            _ => {}
        }
        if let Some(converted) = convert(quote!(v), true) {
            return quote!(#place.as_ref().map(|v| #converted));
        }
    } else if let Some(converted) = convert(place.clone(), is_ref) {
        return converted;
    }
    match (is_copy(ir, ty), is_ref) {
        (true, true) => quote!(*#place),
        (false, false) => quote!(&#place),
        _ => place,
    }
}

/// Whether the field's Rust type decodes from its column as is, with no conversion.
pub fn decodes_directly(ir: &Ir, field: &Field, dialect: Dialect) -> bool {
    !matches!(
        (storage_type(ir, &field.ty), dialect),
        (
            FieldType::Enum(_) | FieldType::Json | FieldType::Decimal { .. },
            _
        ) | (FieldType::Uuid, Dialect::Sqlite)
    )
}

/// An expression that reads column `index` of `row` as the field's Rust value, with `?`.
pub fn decode_column(ir: &Ir, field: &Field, dialect: Dialect, index: usize) -> TokenStream {
    let raw = |t: TokenStream| quote!(row.try_get::<#t, _>(#index)?);
    let optional = field.optional;
    let wrap = |t: TokenStream, convert: TokenStream| {
        if optional {
            let read = raw(quote!(Option<#t>));
            quote!(#read.map(#convert).transpose()?)
        } else {
            let read = raw(t);
            quote!((#convert)(#read)?)
        }
    };
    match (storage_type(ir, &field.ty), dialect) {
        (FieldType::Enum(_), _) => wrap(quote!(String), quote!(crate::repo::decode_enum)),
        (FieldType::Json, _) => {
            let t = quote!(sqlx::types::Json<serde_json::Value>);
            if optional {
                let read = raw(quote!(Option<#t>));
                quote!(#read.map(|json| json.0))
            } else {
                let read = raw(t);
                quote!(#read.0)
            }
        }
        (FieldType::Uuid, Dialect::Sqlite) => {
            let t = quote!(uuid::fmt::Hyphenated);
            if optional {
                let read = raw(quote!(Option<#t>));
                quote!(#read.map(uuid::fmt::Hyphenated::into_uuid))
            } else {
                let read = raw(t);
                quote!(#read.into_uuid())
            }
        }
        (FieldType::Decimal { scale, .. }, dialect) => {
            // Reads back with the column's scale: PostgreSQL returns zero without places.
            let s = proc_macro2::Literal::u32_unsuffixed(*scale);
            let read = match dialect {
                Dialect::Sqlite => wrap(quote!(String), quote!(crate::repo::decode_decimal)),
                Dialect::Postgres => raw(if optional {
                    quote!(Option<rust_decimal::Decimal>)
                } else {
                    quote!(rust_decimal::Decimal)
                }),
            };
            if optional {
                quote!(#read.map(|v| crate::domain::with_scale(v, #s)))
            } else {
                quote!(crate::domain::with_scale(#read, #s))
            }
        }
        _ => {
            let ty = field_type(ir, field);
            raw(ty)
        }
    }
}

/// The fields a record carries in memory and in responses: everything but password
/// hashes, which only the credentials query reads.
pub fn record_fields(entity: &Entity) -> impl Iterator<Item = (usize, &Field)> {
    entity
        .fields
        .iter()
        .enumerate()
        .filter(|(_, f)| f.ty != FieldType::Password)
}

/// Whether a field is left out of every response.
pub fn hidden(entity: &Entity, index: usize, field: &Field) -> bool {
    field.flags.sensitive || field.flags.write_only || entity.soft_delete == Some(index)
}

/// The entity's module name in the generated crate: `line_item`.
pub fn module_name(entity: &Entity) -> syn::Ident {
    ident(&names::snake_case(&entity.name))
}

/// Doc attributes from spec doc comments.
pub fn docs(lines: &[String]) -> TokenStream {
    let lines = lines.iter().map(|l| format!(" {}", l.trim()));
    quote!(#(#[doc = #lines])*)
}
