//! Request bodies: the wire DTO a client sends (raw serde types, unknown fields rejected)
//! and its validation into the service's input type, reporting every bad field at once.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::types::{self, ident, type_ident};
use crate::ir::{CollectionId, Default as FieldDefault, Entity, Field, FieldType, Ir, Value};

/// How a body treats fields it leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Required fields must be present; defaults fill the rest.
    Create,
    /// The body replaces every listed field (PUT without `partial`).
    Replace,
    /// Absent fields stay as they are; `null` clears an optional field.
    Patch,
}

/// A request body's two types.
#[derive(Debug)]
pub struct BodyTypes {
    /// The wire DTO and `impl Body { fn validate(self) -> Result<Input, AppError> }`: the
    /// HTTP layer's.
    pub dto: TokenStream,
    /// The validated input struct: the service layer's.
    pub input: TokenStream,
}

/// The DTO `body` and the validated `input` struct for `fields` of `entity`; `input_path`
/// is how the DTO's module names the input type.
#[allow(clippy::too_many_arguments)]
pub fn body_and_input(
    ir: &Ir,
    entity: &Entity,
    fields: &[usize],
    collections: &[CollectionId],
    mode: Mode,
    body: &syn::Ident,
    input: &syn::Ident,
    input_path: &TokenStream,
) -> BodyTypes {
    let collection_parts: Vec<_> = collections
        .iter()
        .filter_map(|c| collection_input(ir, *c, mode))
        .collect();
    let dto_fields = fields.iter().map(|i| {
        let f = &entity.fields[*i];
        let name = ident(&f.name);
        let raw = raw_type(ir, f);
        let rename = types::serde_rename(ir, f);
        if mode == Mode::Patch {
            quote!(#rename #[serde(default, deserialize_with = "crate::domain::double_option")] pub #name: Option<Option<#raw>>,)
        } else {
            quote!(#rename #[serde(default)] pub #name: Option<#raw>,)
        }
    });
    let input_fields = fields.iter().map(|i| {
        let f = &entity.fields[*i];
        let name = ident(&f.name);
        let ty = types::field_type(ir, f);
        match mode {
            Mode::Patch => quote!(pub #name: Option<#ty>,),
            _ => quote!(pub #name: #ty,),
        }
    });
    let dto_fields = dto_fields.chain(collection_parts.iter().map(|p| p.dto.clone()));
    let input_fields = input_fields.chain(collection_parts.iter().map(|p| p.input.clone()));
    let steps = fields
        .iter()
        .map(|i| field_step(ir, entity, &entity.fields[*i], mode))
        .chain(collection_parts.iter().map(|p| p.step.clone()));
    let names: Vec<syn::Ident> = fields
        .iter()
        .map(|i| ident(&entity.fields[*i].name))
        .chain(collections.iter().map(|c| ident(&ir.collection(*c).name)))
        .collect();
    let finish = if names.is_empty() {
        quote!(Ok(#input_path {}))
    } else {
        quote! {
            let (#(Some(#names),)*) = (#(#names,)*) else {
                return Err(errors.into_error());
            };
            Ok(#input_path { #(#names,)* })
        }
    };
    let body_doc = " The JSON body a client sends; unknown fields are rejected.";
    let input_doc = match mode {
        Mode::Patch => " Validated changes: `None` leaves a field as it is.",
        _ => " Validated input.",
    };
    let errors_binding = if names.is_empty() {
        quote!()
    } else {
        quote!(let mut errors = crate::validate::Errors::default();)
    };
    let dto = quote! {
        #[doc = #body_doc]
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct #body {
            #(#dto_fields)*
        }

        impl #body {
            /// Checks every field and reports all problems together.
            pub fn validate(self) -> Result<#input_path, AppError> {
                #errors_binding
                #(#steps)*
                #finish
            }
        }
    };
    let input = quote! {
        #[doc = #input_doc]
        #[derive(Debug, Clone)]
        pub struct #input {
            #(#input_fields)*
        }
    };
    BodyTypes { dto, input }
}

/// A collection written by value (`tags` as a list of names): its DTO field, input field
/// and validation step.
struct CollectionInput {
    dto: TokenStream,
    input: TokenStream,
    step: TokenStream,
}

fn collection_input(ir: &Ir, c: CollectionId, mode: Mode) -> Option<CollectionInput> {
    let collection = ir.collection(c);
    let target = ir.entity(collection.target);
    let value = target.fields.get(collection.write_by?)?;
    let name = ident(&collection.name);
    let json = types::collection_json_name(ir, c);
    let rename = types::collection_rename(ir, c);
    let ty = types::value_type(ir, &value.ty);
    let checks = constraint_checks(ir, value);
    let checked = match checks.split_first() {
        Some((first, rest)) => {
            quote!(errors.check_each(#json, values, |v| #first #(.and_then(|()| #rest))*))
        }
        None => quote!(Some(values)),
    };
    let (input_ty, step) = if mode == Mode::Patch {
        (
            quote!(Option<Vec<#ty>>),
            quote! {
                let #name = match self.#name {
                    Some(values) => #checked.map(Some),
                    None => Some(None),
                };
            },
        )
    } else {
        (
            quote!(Vec<#ty>),
            quote! {
                let #name = match self.#name {
                    Some(values) => #checked,
                    None => Some(Vec::new()),
                };
            },
        )
    };
    Some(CollectionInput {
        dto: quote!(#rename #[serde(default)] pub #name: Option<Vec<#ty>>,),
        input: quote!(pub #name: #input_ty,),
        step,
    })
}

/// The type a field arrives as: enums as text so a bad value is a field error.
fn raw_type(ir: &Ir, f: &Field) -> TokenStream {
    match f.ty {
        FieldType::Enum(_) => quote!(String),
        _ => types::value_type(ir, &f.ty),
    }
}

/// `let name = ...;` producing `Option<T>` (for the input field's type), `None` after
/// recording an error.
fn field_step(ir: &Ir, entity: &Entity, f: &Field, mode: Mode) -> TokenStream {
    let name = ident(&f.name);
    let json = types::json_name(ir, f);
    let check = value_check(ir, f, &json);
    let default = if mode == Mode::Create {
        default_value(ir, entity, f)
    } else {
        None
    };
    // `wrap(t)`: the checked value wrapped by `t`, e.g. `Some(Some(v))` for a patch.
    // The checked value passed through `mapper`, or `direct` when there is nothing to check.
    let wrap = |mapper: TokenStream, direct: TokenStream| match &check {
        Some(check) => quote!(#check.map(#mapper)),
        None => quote!(Some(#direct)),
    };
    let plain = match &check {
        Some(check) => check.clone(),
        None => quote!(Some(v)),
    };
    let value = match mode {
        Mode::Patch if f.optional => {
            let set = wrap(quote!(|v| Some(Some(v))), quote!(Some(Some(v))));
            quote! {
                match self.#name {
                    None => Some(None),
                    Some(None) => Some(Some(None)),
                    Some(Some(v)) => #set,
                }
            }
        }
        Mode::Patch => {
            let accept = match &check {
                Some(check) => quote!(|errors, v| #check),
                None => quote!(|_, v| Some(v)),
            };
            quote!(errors.not_null(#json, self.#name, #accept))
        }
        _ if f.optional => {
            let set = wrap(quote!(Some), quote!(Some(v)));
            quote! {
                match self.#name {
                    Some(v) => #set,
                    None => Some(None),
                }
            }
        }
        _ => match default {
            Some(d) => quote! {
                match self.#name {
                    Some(v) => #plain,
                    None => Some(#d),
                }
            },
            None => match &check {
                Some(check) => quote!(errors.required(#json, self.#name).and_then(|v| #check)),
                None => quote!(errors.required(#json, self.#name)),
            },
        },
    };
    quote!(let #name = #value;)
}

/// An expression over `v` (the raw value) and `errors` giving `Option<T>`; `None` when
/// any value is acceptable.
fn value_check(ir: &Ir, f: &Field, json: &str) -> Option<TokenStream> {
    if let FieldType::Enum(_) = f.ty {
        return Some(quote!(errors.parse(#json, &v)));
    }
    let mut checks = constraint_checks(ir, f).into_iter();
    let first = checks.next()?;
    let checked = quote!(errors.check(#json, v, |v| #first #(.and_then(|()| #checks))*));
    // Decimals keep the column's scale, so `2.5` reads back as `2.50` on every database.
    Some(match f.ty {
        FieldType::Decimal { scale, .. } => {
            let s = Literal::u32_unsuffixed(scale);
            quote!(#checked.map(|v| crate::domain::with_scale(v, #s)))
        }
        _ => checked,
    })
}

/// `Result<(), String>` expressions over `v: &T`, one per constraint of the field.
fn constraint_checks(ir: &Ir, f: &Field) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let (min, max) = match (&f.ty, ir.auth.as_ref()) {
        (FieldType::Password, Some(a)) => (Some(a.password_min), Some(a.password_max)),
        _ => f.length.map_or((None, None), |b| (b.min, b.max)),
    };
    if min.is_some() || max.is_some() {
        let min = option_lit(min.map(|m| Literal::usize_unsuffixed(m as usize)));
        let max = option_lit(max.map(|m| Literal::usize_unsuffixed(m as usize)));
        out.push(quote!(crate::validate::length(v, #min, #max)));
    }
    match f.ty {
        FieldType::Email => out.push(quote!(crate::validate::email(v))),
        FieldType::Url => out.push(quote!(crate::validate::url(v))),
        FieldType::Decimal { precision, scale } => {
            let p = Literal::u32_unsuffixed(precision);
            let s = Literal::u32_unsuffixed(scale);
            out.push(quote!(crate::validate::decimal_digits(v, #p, #s)));
        }
        _ => {}
    }
    if f.pattern.is_some() {
        let re = pattern_static(f);
        out.push(quote!(crate::validate::pattern(v, &#re)));
    }
    if let Some(range) = &f.range {
        let lo = range.min.as_deref().and_then(|m| number(&f.ty, m));
        let hi = range.max.as_deref().and_then(|m| number(&f.ty, m));
        if lo.is_some() || hi.is_some() {
            let lo = option_lit(lo);
            let hi = option_lit(hi);
            out.push(quote!(crate::validate::range(v, #lo, #hi)));
        }
    }
    out
}

/// The name of the `LazyLock<Regex>` holding a field's pattern.
pub fn pattern_static(f: &Field) -> syn::Ident {
    format_ident!("{}_PATTERN", f.name.to_ascii_uppercase())
}

/// `static NAME_PATTERN: LazyLock<Regex>` for every patterned field in `fields`.
pub fn pattern_statics(entity: &Entity, fields: &[usize]) -> TokenStream {
    let mut seen = Vec::new();
    let statics = fields.iter().filter_map(|i| {
        let f = &entity.fields[*i];
        let pattern = f.pattern.as_ref()?;
        if seen.contains(i) {
            return None;
        }
        seen.push(*i);
        let name = pattern_static(f);
        let doc = format!(" `{}` must match `{pattern}`.", f.name);
        Some(quote! {
            #[doc = #doc]
            static #name: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
                // svcc compiled this pattern when it checked the spec.
                regex::Regex::new(#pattern).expect("the spec's pattern is a valid regex")
            });
        })
    });
    quote!(#(#statics)*)
}

fn option_lit(v: Option<impl quote::ToTokens>) -> TokenStream {
    match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}

/// A range bound as a constant of the field's type.
fn number(ty: &FieldType, text: &str) -> Option<TokenStream> {
    match ty {
        FieldType::Int => text.parse::<i32>().ok().map(|n| {
            let l = Literal::i32_unsuffixed(n);
            quote!(#l)
        }),
        FieldType::BigInt => text.parse::<i64>().ok().map(|n| {
            let l = Literal::i64_unsuffixed(n);
            quote!(#l)
        }),
        FieldType::Float => text.parse::<f64>().ok().map(|n| {
            let l = Literal::f64_unsuffixed(n);
            quote!(#l)
        }),
        FieldType::Decimal { .. } => decimal(text),
        _ => None,
    }
}

/// `rust_decimal::Decimal::new(mantissa, scale)` for a decimal literal.
pub fn decimal(text: &str) -> Option<TokenStream> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let mantissa: i64 = format!("{int}{frac}").parse().ok()?;
    let scale = u32::try_from(frac.len()).ok()?;
    let m = Literal::i64_unsuffixed(mantissa);
    let s = Literal::u32_unsuffixed(scale);
    Some(quote!(rust_decimal::Decimal::new(#m, #s)))
}

/// A decimal literal padded to `scale` places: `0` with scale 2 is `Decimal::new(0, 2)`.
fn decimal_with_scale(text: &str, scale: u32) -> Option<TokenStream> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let places = usize::try_from(scale).ok()?;
    if frac.len() > places {
        return decimal(text);
    }
    decimal(&format!("{int}.{frac:0<places$}"))
}

/// The value the service gives a column the client does not write: one `now` per row for
/// timestamps (`uses_now` asks the caller to bind it), else the spec's default.
pub fn insert_default(
    ir: &Ir,
    entity: &Entity,
    f: &Field,
    uses_now: &mut bool,
) -> Option<TokenStream> {
    if matches!(f.default, Some(FieldDefault::Now)) && f.ty == FieldType::Timestamp {
        *uses_now = true;
        return Some(if f.optional {
            quote!(Some(now))
        } else {
            quote!(now)
        });
    }
    default_value(ir, entity, f)
}

/// The value a field takes on create when the body leaves it out, if the spec gives one
/// the service can compute.
pub fn default_value(ir: &Ir, entity: &Entity, f: &Field) -> Option<TokenStream> {
    let d = f.default.as_ref()?;
    let value = match (d, &f.ty) {
        (FieldDefault::Now, FieldType::Date) => quote!(chrono::Utc::now().date_naive()),
        (FieldDefault::Now, _) => quote!(chrono::Utc::now()),
        (FieldDefault::Uuid4, _) => quote!(uuid::Uuid::new_v4()),
        (FieldDefault::Uuid7, _) => quote!(uuid::Uuid::now_v7()),
        (FieldDefault::EnumVariant(v), FieldType::Enum(id)) => {
            let e = type_ident(&ir.enum_(*id).name);
            let v = type_ident(v);
            quote!(crate::domain::#e::#v)
        }
        (FieldDefault::Value(Value::Bool(b)), _) => quote!(#b),
        (FieldDefault::Value(Value::Str(s)), _) => quote!(#s.to_owned()),
        (FieldDefault::Value(Value::Int(i)), FieldType::Decimal { scale, .. }) => {
            decimal_with_scale(&i.to_string(), *scale)?
        }
        (FieldDefault::Value(Value::Decimal(t)), FieldType::Decimal { scale, .. }) => {
            decimal_with_scale(t, *scale)?
        }
        (FieldDefault::Value(Value::Int(i)), FieldType::Float) => {
            let l = Literal::f64_unsuffixed(*i as f64);
            quote!(#l)
        }
        (FieldDefault::Value(Value::Int(i)), _) => {
            let l = Literal::i64_unsuffixed(*i);
            quote!(#l)
        }
        (FieldDefault::Value(Value::Decimal(t)), FieldType::Float) => {
            let l = Literal::f64_unsuffixed(t.parse().ok()?);
            quote!(#l)
        }
        (FieldDefault::Slugify(source), _) => {
            let source = ident(&entity.fields.get(*source)?.name);
            quote!(crate::validate::slugify(&input.#source))
        }
        _ => return None,
    };
    Some(if f.optional {
        quote!(Some(#value))
    } else {
        value
    })
}

/// `src/validate.rs`: the checks bodies use, and the error collector.
pub fn validate_rs() -> TokenStream {
    quote! {
        //! Field checks for request bodies. Each returns the message a client sees.

        use crate::error::{AppError, FieldError};

        /// Problems found in one body, in field order.
        #[derive(Debug, Default)]
        pub struct Errors(Vec<FieldError>);

        impl Errors {
            pub fn add(&mut self, field: &str, message: impl Into<String>) {
                self.0.push(FieldError { field: field.to_owned(), message: message.into() });
            }

            /// `value`, or `None` after recording that the field is missing.
            pub fn required<T>(&mut self, field: &str, value: Option<T>) -> Option<T> {
                if value.is_none() {
                    self.add(field, "is required");
                }
                value
            }

            /// A field a patch may leave out but not set to null: `Some(None)` when left out,
            /// the value `check` accepts in `Some`, or `None` after recording the problem.
            pub fn not_null<T, U>(&mut self, field: &str, value: Option<Option<T>>, check: impl FnOnce(&mut Self, T) -> Option<U>) -> Option<Option<U>> {
                match value {
                    None => Some(None),
                    Some(None) => {
                        self.add(field, "must not be null");
                        None
                    }
                    Some(Some(v)) => check(self, v).map(Some),
                }
            }

            /// `value` if `check` accepts it; otherwise records why and gives `None`.
            pub fn check<T>(&mut self, field: &str, value: T, check: impl FnOnce(&T) -> Result<(), String>) -> Option<T> {
                match check(&value) {
                    Ok(()) => Some(value),
                    Err(message) => {
                        self.add(field, message);
                        None
                    }
                }
            }

            /// Text parsed into an enum or other type, or the accepted values as the error.
            pub fn parse<T: std::str::FromStr<Err = String>>(&mut self, field: &str, text: &str) -> Option<T> {
                match text.parse() {
                    Ok(value) => Some(value),
                    Err(message) => {
                        self.add(field, format!("must be {message}"));
                        None
                    }
                }
            }

            /// `values` if `check` accepts each; otherwise records the first that fails.
            pub fn check_each<T>(&mut self, field: &str, values: Vec<T>, check: impl Fn(&T) -> Result<(), String>) -> Option<Vec<T>> {
                for (n, value) in values.iter().enumerate() {
                    if let Err(message) = check(value) {
                        self.add(field, format!("item {}: {message}", n + 1));
                        return None;
                    }
                }
                Some(values)
            }

            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            pub fn into_error(self) -> AppError {
                AppError::Validation(self.0)
            }
        }

        /// Length in characters, not bytes.
        pub fn length(value: &str, min: Option<usize>, max: Option<usize>) -> Result<(), String> {
            let n = value.chars().count();
            match (min, max) {
                (Some(1), _) if n == 0 => Err("must not be empty".to_owned()),
                (Some(min), _) if n < min => Err(format!("must be at least {min} characters")),
                (_, Some(max)) if n > max => Err(format!("must be at most {max} characters")),
                _ => Ok(()),
            }
        }

        pub fn range<T: PartialOrd + std::fmt::Display>(value: &T, min: Option<T>, max: Option<T>) -> Result<(), String> {
            match (min, max) {
                (Some(min), _) if *value < min => Err(format!("must be at least {min}")),
                (_, Some(max)) if *value > max => Err(format!("must be at most {max}")),
                _ => Ok(()),
            }
        }

        pub fn pattern(value: &str, pattern: &regex::Regex) -> Result<(), String> {
            if pattern.is_match(value) {
                Ok(())
            } else {
                Err(format!("must match {}", pattern.as_str()))
            }
        }

        /// A plausible address: one `@`, a local part, a dotted domain, no spaces.
        pub fn email(value: &str) -> Result<(), String> {
            let valid = match value.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains('@')
                        && !value.chars().any(char::is_whitespace)
                }
                None => false,
            };
            if valid { Ok(()) } else { Err("must be an e-mail address".to_owned()) }
        }

        /// An absolute http(s) URL with a host.
        pub fn url(value: &str) -> Result<(), String> {
            let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
            match rest {
                Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !value.chars().any(char::is_whitespace) => Ok(()),
                _ => Err("must be an http(s) URL".to_owned()),
            }
        }

        /// At most `precision` digits, `scale` of them after the point.
        pub fn decimal_digits(value: &rust_decimal::Decimal, precision: u32, scale: u32) -> Result<(), String> {
            if value.scale() > scale && value.normalize().scale() > scale {
                return Err(format!("must have at most {scale} decimal places"));
            }
            let integer_digits = value.trunc().abs().to_string().trim_start_matches('0').len();
            let allowed = usize::try_from(precision.saturating_sub(scale)).unwrap_or(usize::MAX);
            if integer_digits > allowed {
                return Err(format!("must have at most {allowed} digits before the decimal point"));
            }
            Ok(())
        }

        /// A URL-safe slug: lowercase ASCII letters and digits joined by single dashes.
        pub fn slugify(text: &str) -> String {
            let mut slug = String::with_capacity(text.len());
            for c in text.chars() {
                if c.is_ascii_alphanumeric() {
                    slug.push(c.to_ascii_lowercase());
                } else if !slug.is_empty() && !slug.ends_with('-') {
                    slug.push('-');
                }
            }
            while slug.ends_with('-') {
                slug.pop();
            }
            slug
        }
    }
}
