//! Cookie sessions, when the auth block has `cookies`: sign-in also sets the access token
//! and the refresh token as HttpOnly cookies, the caller extractor reads the access cookie
//! when a request has no `Authorization` header, refresh and logout take the refresh cookie
//! when the body has no token, and logout clears both.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{Cookies, Ir};

/// The spec's `cookies` block, when cookie sessions are generated.
pub fn of(ir: &Ir) -> Option<&Cookies> {
    ir.auth.as_ref()?.cookies.as_ref()
}

/// The path both refresh and logout live under, so the refresh cookie goes nowhere else.
fn refresh_scope(ir: &Ir) -> String {
    let Some(auth) = &ir.auth else {
        return "/".into();
    };
    let base = ir.service.base_path.trim_end_matches('/');
    let refresh = format!("{base}{}", auth.path("refresh"));
    let logout = format!("{base}{}", auth.path("logout"));
    let common: Vec<&str> = refresh
        .split('/')
        .zip(logout.split('/'))
        .take_while(|(a, b)| a == b)
        .map(|(a, _)| a)
        .collect();
    let path = common.join("/");
    if path.is_empty() { "/".into() } else { path }
}

/// Items of `src/auth.rs`: the cookie names and how they are read, set and cleared.
pub fn auth_items(ir: &Ir) -> Option<TokenStream> {
    let cookies = of(ir)?;
    let session = &cookies.name;
    let refresh = format!("{}_refresh", cookies.name);
    let same_site = match cookies.same_site.as_str() {
        "strict" => "Strict",
        "none" => "None",
        _ => "Lax",
    };
    let secure = if cookies.secure { "; Secure" } else { "" };
    let attributes = format!("; HttpOnly; SameSite={same_site}{secure}");
    let refresh_path = refresh_scope(ir);
    Some(quote! {
        /// The cookie that carries the access token, for browsers.
        pub const SESSION_COOKIE: &str = #session;
        /// The cookie that carries the refresh token, sent only to refresh and logout.
        pub const REFRESH_COOKIE: &str = #refresh;
        const COOKIE_ATTRIBUTES: &str = #attributes;
        const REFRESH_COOKIE_PATH: &str = #refresh_path;

        /// The value of the cookie `name` in the request's `Cookie` headers.
        pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
            headers
                .get_all(axum::http::header::COOKIE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value)
        }

        /// `Set-Cookie` values for a signed-in browser: the access and the refresh token,
        /// each living as long as its token.
        pub fn session_cookies(access: &str, refresh: &str) -> [String; 2] {
            [
                format!("{SESSION_COOKIE}={access}; Path=/; Max-Age={ACCESS_TOKEN_SECONDS}{COOKIE_ATTRIBUTES}"),
                format!("{REFRESH_COOKIE}={refresh}; Path={REFRESH_COOKIE_PATH}; Max-Age={REFRESH_TOKEN_SECONDS}{COOKIE_ATTRIBUTES}"),
            ]
        }

        /// `Set-Cookie` values that make the browser forget both cookies.
        pub fn cleared_cookies() -> [String; 2] {
            [
                format!("{SESSION_COOKIE}=; Path=/; Max-Age=0{COOKIE_ATTRIBUTES}"),
                format!("{REFRESH_COOKIE}=; Path={REFRESH_COOKIE_PATH}; Max-Age=0{COOKIE_ATTRIBUTES}"),
            ]
        }
    })
}

/// What the extractor does with a request without an `Authorization` header.
pub fn without_header(ir: &Ir) -> TokenStream {
    match of(ir) {
        Some(_) => quote! {
            let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
                return Ok(MaybeCaller(None));
            };
            return Ok(MaybeCaller(Some(state.jwt.verify(token)?)));
        },
        None => quote!(return Ok(MaybeCaller(None));),
    }
}
