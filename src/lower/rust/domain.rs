//! `src/domain/`: the spec's enums and one record type per entity the API exposes.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::{self, docs, ident, type_ident};
use crate::ir::{Entity, EntityId, Ir};

/// Entities the generated API reads or writes: those of a resource, and the auth identity.
pub fn exposed_entities(ir: &Ir) -> Vec<EntityId> {
    let mut ids: Vec<EntityId> = ir.resources.iter().map(|r| r.entity).collect();
    ids.extend(ir.auth.as_ref().map(|a| a.identity));
    ids.sort();
    ids.dedup();
    ids.retain(|id| types::primary_key(ir.entity(*id)).is_some());
    ids
}

/// `src/domain/mod.rs`: the enums, and a module per exposed entity.
pub fn mod_rs(ir: &Ir) -> TokenStream {
    let modules = exposed_entities(ir).into_iter().map(|id| {
        let entity = ir.entity(id);
        let module = types::module_name(entity);
        let record = type_ident(&entity.name);
        quote! {
            mod #module;
            pub use #module::#record;
        }
    });
    let enums = ir.enums.iter().map(|e| {
        let name = type_ident(&e.name);
        let doc = docs(&e.docs);
        let variants: Vec<_> = e.variants.iter().map(|v| type_ident(v)).collect();
        let texts = &e.variants;
        let variant_docs = e.variant_docs.iter().map(|d| docs(d));
        let expected = format!("one of: {}", e.variants.join(", "));
        quote! {
            #doc
            #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
            pub enum #name {
                #( #variant_docs #[serde(rename = #texts)] #variants, )*
            }

            impl #name {
                /// The value as stored and sent.
                pub fn as_str(self) -> &'static str {
                    match self {
                        #( #name::#variants => #texts, )*
                    }
                }
            }

            impl crate::db::ToParam for #name {
                const NULL: crate::db::Param<'static> = crate::db::Param::Text(None);

                fn param(&self) -> crate::db::Param<'_> {
                    crate::db::Param::Text(Some(self.as_str()))
                }
            }

            impl std::str::FromStr for #name {
                type Err = String;

                fn from_str(text: &str) -> Result<Self, Self::Err> {
                    match text {
                        #( #texts => Ok(#name::#variants), )*
                        _ => Err(#expected.to_owned()),
                    }
                }
            }
        }
    });
    quote! {
        //! The spec's data types: enums and the records of every entity the API exposes.

        #(#enums)*
        #(#modules)*

        /// A decimal with exactly the column's `scale` places, however the value was written
        /// or read back (PostgreSQL returns zero without places).
        pub fn with_scale(mut value: rust_decimal::Decimal, scale: u32) -> rust_decimal::Decimal {
            value.rescale(scale);
            value
        }

        /// Deserializes a field that may be absent (`None`), null (`Some(None)`) or set
        /// (`Some(Some(v))`), so a partial update can tell "leave" from "clear".
        pub fn double_option<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
        where
            D: serde::Deserializer<'de>,
            T: serde::Deserialize<'de>,
        {
            serde::Deserialize::deserialize(deserializer).map(Some)
        }
    }
}

/// `src/domain/<entity>.rs`: the record as stored and, minus hidden fields, as sent. Records
/// that domain events carry are also read back from their payloads, hidden fields taking
/// their defaults.
pub fn entity_rs(ir: &Ir, entity: &Entity, carried_by_events: bool) -> TokenStream {
    let name = type_ident(&entity.name);
    let doc = if entity.docs.is_empty() {
        let line = format!(" A `{}` record.", entity.name);
        quote!(#[doc = #line])
    } else {
        docs(&entity.docs)
    };
    let fields = types::record_fields(entity).map(|(i, f)| {
        let field = ident(&f.name);
        let ty = types::field_type(ir, f);
        let doc = docs(&f.docs);
        let rename = types::serde_rename(ir, f);
        let skip = types::hidden(entity, i, f).then(|| {
            if carried_by_events {
                quote!(#[serde(skip_serializing, default)])
            } else {
                quote!(#[serde(skip_serializing)])
            }
        });
        quote!(#doc #rename #skip pub #field: #ty,)
    });
    let header = format!(" The `{}` entity (table `{}`).", entity.name, entity.table);
    let deserialize = carried_by_events.then(|| quote!(, serde::Deserialize));
    quote! {
        #![doc = #header]

        #doc
        #[derive(Debug, Clone, PartialEq, serde::Serialize #deserialize)]
        pub struct #name {
            #(#fields)*
        }
    }
}
