//! How spec fields become Rust: identifiers, types, JSON names, and how a column is read
//! back into a field's value (the per-database conversions live in `statements.rs`).

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{Entity, EntityId, Field, FieldType, Ir, JsonCase, names};

/// A Rust identifier for a spec name, raw where it is a keyword (`type`, `ref`...).
/// Looked up rather than parsed: a build makes hundreds of thousands of identifiers.
pub fn ident(name: &str) -> syn::Ident {
    let span = proc_macro2::Span::call_site();
    if KEYWORDS.binary_search(&name).is_ok() {
        syn::Ident::new_raw(name, span)
    } else {
        syn::Ident::new(name, span)
    }
}

/// The words syn refuses as identifiers (Rust's strict and reserved keywords), sorted.
const KEYWORDS: [&str; 52] = [
    "Self", "_", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

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
    syn::Ident::new(&pascal, proc_macro2::Span::call_site())
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

/// Whether values of the type are `Copy`, so they are read out of a record without `clone`.
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

/// Whether `row.get` returns the field's Rust value as is: enums are read as text and
/// parsed, decimals get the column's scale back.
pub fn reads_as_is(ir: &Ir, field: &Field) -> bool {
    !matches!(
        storage_type(ir, &field.ty),
        FieldType::Enum(_) | FieldType::Decimal { .. }
    )
}

/// An expression that reads column `index` of a `crate::db::Row` named `row` as the
/// field's Rust value, with `?`. `typed` names the type read where the context does not.
pub fn read_column(ir: &Ir, field: &Field, index: usize, typed: bool) -> TokenStream {
    let index = proc_macro2::Literal::usize_unsuffixed(index);
    let get = |ty: TokenStream, typed: bool| {
        if typed {
            quote!(row.get::<#ty>(#index)?)
        } else {
            quote!(row.get(#index)?)
        }
    };
    match storage_type(ir, &field.ty) {
        FieldType::Enum(_) if field.optional => {
            let read = get(quote!(Option<String>), true);
            quote!(#read.map(crate::repo::decode_enum).transpose()?)
        }
        FieldType::Enum(_) => {
            let read = get(quote!(String), false);
            quote!(crate::repo::decode_enum(#read)?)
        }
        FieldType::Decimal { scale, .. } => {
            // Reads back with the column's scale: PostgreSQL returns zero without places.
            let s = proc_macro2::Literal::u32_unsuffixed(*scale);
            if field.optional {
                let read = get(quote!(Option<rust_decimal::Decimal>), true);
                quote!(#read.map(|v| crate::domain::with_scale(v, #s)))
            } else {
                let read = get(quote!(rust_decimal::Decimal), false);
                quote!(crate::domain::with_scale(#read, #s))
            }
        }
        _ => get(field_type(ir, field), typed),
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

#[cfg(test)]
mod tests {
    use super::{KEYWORDS, ident};

    #[test]
    fn keywords_are_the_words_syn_refuses_and_become_raw() {
        assert!(KEYWORDS.is_sorted());
        for word in KEYWORDS {
            assert!(syn::parse_str::<syn::Ident>(word).is_err(), "{word}");
        }
        for word in [
            "gen",
            "union",
            "auto",
            "default",
            "raw",
            "r50",
            "created_at",
        ] {
            assert!(syn::parse_str::<syn::Ident>(word).is_ok(), "{word}");
            assert_eq!(ident(word).to_string(), word);
        }
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("ref").to_string(), "r#ref");
    }
}
