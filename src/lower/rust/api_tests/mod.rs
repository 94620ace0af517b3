//! The generated crate's own integration tests, `tests/api/`: one test binary that boots
//! the real router on a fresh SQLite database per test. What svcc can derive from the spec
//! alone is tested: health and the error body format, registration and login, and per
//! operation the answers that hold whatever the database holds (sign-in required, unknown
//! fields rejected, a missing record is 404: one test per resource and kind, within the
//! rate limits; the page size is capped) plus a create round trip wherever svcc can build a
//! valid body from the field constraints.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;

use proc_macro2::TokenStream;
use quote::{ToTokens as _, format_ident, quote};
use serde_json::{Value, json};

use super::authz;
use super::config::{self, env_vars};
use super::repo;
use super::types::{self, ident};
use super::view::{self, Shape};
use crate::ir::{
    AuthRule, Default, ErrorFormat, Field, FieldType, Ir, Method, OpKind, Operation, Resource,
    ResourceId, Step,
};

mod access;
mod table;

/// Callers the tests sign up; sample values derived from them must pass validation.
const CALLERS: [&str; 6] = ["alice", "bob", "nobody", "carol", "dave", "erin"];
/// The accounts of the authorization matrix that hold a role, one per role.
const ROLE_CALLERS: &[&str] = CALLERS.split_at(3).1;
const MISSING_UUID: &str = "00000000-0000-4000-8000-000000000000";

/// The files under `tests/api/`, made in parts that any thread may take (`Tests::parts`),
/// then `main.rs` and the helpers, which depend on what every part used (`Tests::finish`).
pub struct Tests<'a> {
    ir: &'a Ir,
    crate_name: &'a str,
    /// Per resource, the operations that were not generated (they answer 501 and get no
    /// tests).
    skipped: &'a [Vec<usize>],
    accounts: Option<Accounts>,
    uses: Uses,
}

/// A part of the tests, which makes the modules `Tests::part` answers.
#[derive(Debug, Clone, Copy)]
pub enum Part {
    /// Health, registration and login, API keys.
    Basics,
    /// The authorization matrix.
    Access,
    /// Each rate policy spent.
    RateLimits,
    /// A resource's answers that hold whatever the database holds.
    Resource(usize),
}

impl<'a> Tests<'a> {
    pub fn new(ir: &'a Ir, crate_name: &'a str, skipped: &'a [Vec<usize>]) -> Self {
        Tests {
            ir,
            crate_name,
            skipped,
            accounts: Accounts::of(ir),
            uses: Uses::default(),
        }
    }

    /// Every part, in the order their modules are declared.
    pub fn parts(&self) -> impl Iterator<Item = Part> + use<> {
        [Part::Basics, Part::Access, Part::RateLimits]
            .into_iter()
            .chain((0..self.ir.resources.len()).map(Part::Resource))
    }

    /// Makes a part's files; answers the names of the modules it made.
    pub fn part(&self, part: Part, files: &mut impl Extend<(String, TokenStream)>) -> Vec<String> {
        let (ir, accounts) = (self.ir, self.accounts.as_ref());
        let mut made = |module: &str, tokens: TokenStream| {
            files.extend([(format!("tests/api/{module}.rs"), tokens)]);
            module.to_string()
        };
        match part {
            Part::Basics => {
                let mut modules = vec![made("health", health_rs(ir, self.crate_name, accounts))];
                if let Some(a) = accounts {
                    modules.push(made("auth", auth_rs(a, self.crate_name)));
                    if let Some(tests) = api_keys_rs(ir, a, self.crate_name) {
                        self.uses.api_keys.store(true, Relaxed);
                        self.uses.database.store(true, Relaxed);
                        modules.push(made("api_keys", tests));
                    }
                }
                modules
            }
            Part::Access => accounts
                .and_then(|a| access::access_rs(ir, a, self.skipped, &self.uses))
                .map(|tests| made("access", tests))
                .into_iter()
                .collect(),
            Part::RateLimits => {
                let limits = rate_tests(ir, self.skipped, accounts);
                (!limits.is_empty())
                    .then(|| {
                        made(
                            "rate_limits",
                            quote! {
                                //! Each rate policy answers 429, with `Retry-After` and `RateLimit-*`, once spent.
                                use crate::helpers::TestApp;
                                #(#limits)*
                            },
                        )
                    })
                    .into_iter()
                    .collect()
            }
            Part::Resource(i) => self
                .resource_rs(i)
                .map(|tests| made(&ir.resources[i].name, tests))
                .into_iter()
                .collect(),
        }
    }

    /// The tests of `ir.resources[i]`, if svcc can derive any.
    fn resource_rs(&self, i: usize) -> Option<TokenStream> {
        let (ir, skipped) = (self.ir, self.skipped);
        let r = &ir.resources[i];
        let id = ResourceId(crate::ir::id32(i));
        let target = Target {
            uses: &self.uses,
            accounts: self.accounts.as_ref(),
            krate: ident(self.crate_name),
            updatable: r.operations.iter().enumerate().any(|(n, op)| {
                op.kind == OpKind::Update && !skipped.get(i).is_some_and(|s| s.contains(&n))
            }),
        };
        let mut probes = Vec::new();
        let operation_tests: Vec<TokenStream> = r
            .operations
            .iter()
            .enumerate()
            .filter(|(n, _)| !skipped.get(i).is_some_and(|s| s.contains(n)))
            .flat_map(|(_, op)| operation_tests(ir, id, op, &target, &mut probes))
            .collect();
        let mut tests = probe_tests(ir, &r.name, probes, self.accounts.is_some());
        tests.extend(operation_tests);
        if tests.is_empty() {
            return None;
        }
        let doc = format!(
            " The `{}` resource: answers that hold whatever the database holds.",
            r.name
        );
        Some(quote! {
            #![doc = #doc]
            #[allow(unused_imports)]
            use serde_json::{json, Value};
            use crate::helpers::TestApp;
            #(#tests)*
        })
    }

    /// `helpers.rs` and `main.rs`, once every part is made; `modules` are what the parts
    /// answered, in `parts` order.
    pub fn finish(&self, modules: &[String], files: &mut impl Extend<(String, TokenStream)>) {
        let helpers = helpers_rs(self.ir, self.crate_name, self.accounts.as_ref(), &self.uses);
        let modules = modules.iter().map(|m| ident(m));
        files.extend([
            ("tests/api/helpers.rs".into(), helpers),
            (
                "tests/api/main.rs".into(),
                quote! {
                    //! Integration tests generated from the spec; add your own in another file under
                    //! `tests/`, since this directory is regenerated.
                    mod helpers;
                    #(mod #modules;)*
                },
            ),
        ]);
    }
}

/// What the tests need to sign callers up, when registration is generated and svcc can
/// fill in a valid registration body.
struct Accounts {
    register: String,
    login: String,
    me: String,
    refresh: String,
    logout: String,
    login_json: String,
    password_json: String,
    token_field: String,
    /// The JSON name of the identity's key, which access tokens carry as `sub`.
    id_json: String,
    envelope: Option<String>,
    /// The login value for a caller named `who`: `who` itself or `who@example.com`.
    email_login: bool,
    /// Registration fields other than the login, and their sample values.
    body: Vec<(String, Value)>,
    /// Other unique registration fields: each caller's own value, like the login's.
    per_caller: Vec<(String, bool)>,
    password: String,
    password_min: u32,
    /// The role a fresh account holds, if accounts have roles.
    default_role: Option<String>,
    /// Fields registration must refuse: the key, `@readonly` ones such as the role.
    managed: Vec<String>,
    /// The role field's JSON name, when accounts have roles.
    role_json: Option<String>,
    /// The roles other than the default, which tests grant through the operator command.
    other_roles: Vec<String>,
    /// The token signature algorithm: `hs256`, `eddsa` or `rs256`.
    algorithm: String,
    /// The session cookie's name, with cookie sessions.
    cookie: Option<String>,
}

impl Accounts {
    fn of(ir: &Ir) -> Option<Accounts> {
        let auth = ir.auth.as_ref()?;
        let entity = ir.entity(auth.identity);
        let login = &entity.fields[auth.login_field];
        let email_login = is_email(ir, login);
        if !fits_every_caller(ir, login) {
            return None;
        }
        let password = sample_password(auth.password_min, auth.password_max)?;
        let mut body = Vec::new();
        let mut per_caller = Vec::new();
        let registered = super::auth::register_fields(ir, auth.identity);
        let managed = entity
            .fields
            .iter()
            .enumerate()
            .filter(|(i, f)| !registered.contains(i) && f.ty != FieldType::Password)
            .map(|(_, f)| types::json_name(ir, f))
            .collect();
        for i in registered {
            let f = &entity.fields[i];
            if i == auth.login_field || i == auth.password_field {
                continue;
            }
            match sample(ir, f) {
                // A second account would collide on a shared value.
                Some(_) if f.flags.unique => {
                    if !fits_every_caller(ir, f) {
                        return None;
                    }
                    per_caller.push((types::json_name(ir, f), is_email(ir, f)));
                }
                Some(v) => body.push((types::json_name(ir, f), v)),
                None if needs_value(f) => return None,
                None => {}
            }
        }
        let path = |name: &str| {
            format!(
                "{}{}",
                ir.service.base_path.trim_end_matches('/'),
                auth.path(name)
            )
        };
        let default_role = auth
            .role_field
            .and_then(|r| match &entity.fields[r].default {
                Some(Default::EnumVariant(v)) => Some(v.clone()),
                Some(Default::Value(crate::ir::Value::Str(s))) => Some(s.clone()),
                _ => None,
            });
        let role = auth.role_field.map(|r| &entity.fields[r]);
        let other_roles = match role.map(|f| &f.ty) {
            Some(FieldType::Enum(e)) => ir
                .enum_(*e)
                .variants
                .iter()
                .filter(|v| Some(*v) != default_role.as_ref())
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        Some(Accounts {
            register: path("register"),
            login: path("login"),
            me: path("me"),
            refresh: path("refresh"),
            logout: path("logout"),
            login_json: types::json_name(ir, login),
            password_json: types::json_name(ir, &entity.fields[auth.password_field]),
            token_field: auth.token_field.clone(),
            id_json: types::json_name(ir, types::primary_key(entity)?),
            envelope: auth.envelope.clone(),
            email_login,
            body,
            per_caller,
            password,
            password_min: auth.password_min,
            default_role,
            managed,
            role_json: role.map(|f| types::json_name(ir, f)),
            other_roles,
            algorithm: auth.algorithm.clone(),
            cookie: auth.cookies.as_ref().map(|c| c.name.clone()),
        })
    }
}

fn is_email(ir: &Ir, f: &Field) -> bool {
    matches!(types::storage_type(ir, &f.ty), FieldType::Email)
}

/// Whether every test caller's name (as an address, for an e-mail field) is a valid value.
fn fits_every_caller(ir: &Ir, f: &Field) -> bool {
    CALLERS.iter().all(|who| {
        let value = if is_email(ir, f) {
            format!("{who}@example.com")
        } else {
            (*who).to_string()
        };
        text_fits(f, &value)
    })
}

/// Whether a body must carry the field: required, with no default to fall back on.
fn needs_value(f: &Field) -> bool {
    !f.optional && f.default.is_none()
}

/// A sample JSON value that passes every check the generated service makes on `f`, or
/// `None` when svcc cannot be sure of one (references, CHECK expressions).
fn sample(ir: &Ir, f: &Field) -> Option<Value> {
    // A reference needs a row to point at; storage_type would make it a plain key.
    if !f.checks.is_empty() || matches!(f.ty, FieldType::Ref(_)) {
        return None;
    }
    let value = match types::storage_type(ir, &f.ty) {
        FieldType::String | FieldType::Text => json!(sample_text(f)?),
        FieldType::Email => json!("sample@example.com"),
        FieldType::Url => json!("https://example.com/sample"),
        FieldType::Int | FieldType::BigInt => json!(sample_number(f)?),
        FieldType::Float => json!(sample_number(f)? as f64 + 0.5),
        FieldType::Decimal { scale, .. } => {
            let whole = sample_number(f)?;
            let scale = usize::try_from(*scale).ok()?;
            if scale == 0 {
                json!(whole.to_string())
            } else {
                json!(format!("{whole}.{}", "0".repeat(scale)))
            }
        }
        FieldType::Bool => json!(true),
        FieldType::Timestamp => json!("2026-01-02T03:04:05Z"),
        FieldType::Date => json!("2026-01-02"),
        FieldType::Json => json!({ "sample": true }),
        FieldType::Uuid => json!("0190f1e4-0000-7000-8000-000000000001"),
        FieldType::Enum(e) => json!(ir.enum_(*e).variants.first()?),
        FieldType::Password => {
            let a = ir.auth.as_ref()?;
            json!(sample_password(a.password_min, a.password_max)?)
        }
        FieldType::Ref(_) => return None,
    };
    Some(value)
}

fn sample_password(min: u32, max: u32) -> Option<String> {
    let base = "Correct-Horse-Battery-9-staple";
    let len = usize::try_from(min.max(12)).ok()?;
    let text: String = base.chars().cycle().take(len.max(base.len())).collect();
    let text: String = text.chars().take(usize::try_from(max).ok()?).collect();
    (text.len() >= usize::try_from(min).ok()?).then_some(text)
}

/// The first of a few plain words that fits the field's length and pattern.
fn sample_text(f: &Field) -> Option<String> {
    const CANDIDATES: [&str; 12] = [
        "sample",
        "sample-text",
        "Sample",
        "sample_1",
        "SAMPLE",
        "sample1",
        "AB",
        "ABC",
        "ab",
        "abc",
        "a",
        "1",
    ];
    let min = f.length.as_ref().and_then(|b| b.min).unwrap_or(0);
    let min = usize::try_from(min).ok()?;
    CANDIDATES.iter().find_map(|c| {
        let mut text = (*c).to_string();
        if f.pattern.is_none() {
            while text.chars().count() < min {
                text.push('x');
            }
        }
        text_fits(f, &text).then_some(text)
    })
}

/// Whether `text` passes the field's length bounds and pattern.
fn text_fits(f: &Field, text: &str) -> bool {
    let len = text.chars().count();
    let bounds = f.length.as_ref();
    let within = |limit: Option<u32>, ok: fn(usize, usize) -> bool| {
        limit.is_none_or(|l| usize::try_from(l).is_ok_and(|l| ok(len, l)))
    };
    within(bounds.and_then(|b| b.min), |len, l| len >= l)
        && within(bounds.and_then(|b| b.max), |len, l| len <= l)
        && f.pattern
            .as_ref()
            .is_none_or(|p| regex::Regex::new(p).is_ok_and(|re| re.is_match(text)))
}

/// A whole number inside the field's range: 1 when allowed, else the range's minimum.
fn sample_number(f: &Field) -> Option<i64> {
    let parse = |s: &Option<String>| -> Option<Option<f64>> {
        match s {
            None => Some(None),
            Some(s) => s.parse::<f64>().ok().map(Some),
        }
    };
    let (min, max) = match &f.range {
        Some(r) => (parse(&r.min)?, parse(&r.max)?),
        None => (None, None),
    };
    let mut value = 1.0_f64;
    if let Some(lo) = min
        && value < lo
    {
        value = lo.ceil();
    }
    if max.is_some_and(|hi| value > hi) {
        return None;
    }
    format!("{value:.0}").parse().ok()
}

/// Whether a caller who signed up and holds `role` passes `rule` on a record whose `owned`
/// fields hold them (none, for someone else's record): `Some(bool)` when that follows from
/// the rule alone.
fn member_passes(rule: &AuthRule, role: Option<&str>, owned: &[usize]) -> Option<bool> {
    let owns = |steps: &[Step]| {
        Some(matches!(steps, [Step::Field { field, .. }] if owned.contains(field)))
    };
    decide(rule, &|leaf| match leaf {
        AuthRule::Public | AuthRule::Authenticated => Some(true),
        AuthRule::Role(r) => Some(role == Some(r.as_str())),
        AuthRule::Owner(path) => owns(&path.steps),
        AuthRule::ApiKey(_) => Some(false),
        _ => None,
    })
}

/// Whether `rule` holds, given what `leaf` says of its rules other than `and`, `or` and
/// `not`: `None` when that is unknown. `and` is settled by one false part and `or` by one
/// true part; otherwise every part must be known.
fn decide(rule: &AuthRule, leaf: &dyn Fn(&AuthRule) -> Option<bool>) -> Option<bool> {
    match rule {
        AuthRule::And(rules) | AuthRule::Or(rules) => {
            let decisive = matches!(rule, AuthRule::Or(_));
            let parts: Vec<Option<bool>> = rules.iter().map(|r| decide(r, leaf)).collect();
            if parts.contains(&Some(decisive)) {
                Some(decisive)
            } else if parts.iter().all(Option::is_some) {
                Some(!decisive)
            } else {
                None
            }
        }
        AuthRule::Not(inner) => decide(inner, leaf).map(|passes| !passes),
        AuthRule::Predicate(_) => None,
        leaf_rule => leaf(leaf_rule),
    }
}

/// What the tests of a resource may call in the crate beyond its HTTP API.
struct Target<'a> {
    krate: syn::Ident,
    /// The resource updates records, so its repo has a guarded `update`.
    updatable: bool,
    uses: &'a Uses,
    accounts: Option<&'a Accounts>,
}

/// Helpers only some specs' tests call: the others are left out of `helpers.rs`, where
/// an unused function is a warning.
#[derive(Default)]
struct Uses {
    sign_up_as: AtomicBool,
    database: AtomicBool,
    api_keys: AtomicBool,
}

/// The tests of one operation. Requests that answer an error whatever the operation
/// (sign-in required, unknown fields, a missing record) go to `probes`, to be tested
/// together with the resource's other operations.
fn operation_tests(
    ir: &Ir,
    resource_id: ResourceId,
    op: &Operation,
    target: &Target,
    probes: &mut Vec<Probe>,
) -> Vec<TokenStream> {
    let accounts = target.accounts;
    let resource = ir.resource(resource_id);
    let Some(rule) = op.auth.as_ref().map(|a| &a.value) else {
        return Vec::new();
    };
    let path = missing_path(ir, resource, op);
    let method = op.method.as_str();
    let name = |what: &str| format_ident!("{}_{}_{what}", resource.name, op.name);
    let takes_body = matches!(op.kind, OpKind::Create | OpKind::Update);
    let empty_body = if takes_body {
        quote!(Some(json!({})))
    } else {
        quote!(None)
    };
    let rate = super::rate::of_operation(ir, op);
    let probe =
        |kind: ProbeKind, sign_in: &TokenStream, token: &TokenStream, body: TokenStream| Probe {
            kind,
            test: name(kind.test_name()),
            method,
            path: path.clone(),
            sign_in: sign_in.clone(),
            token: token.clone(),
            body,
            rate,
        };
    let mut tests = Vec::new();
    if !rule.is_public() {
        probes.push(probe(
            ProbeKind::SignInRequired,
            &quote!(),
            &quote!(None),
            empty_body,
        ));
    }
    // From here on the caller is signed in when the service has accounts.
    let (sign_in, token) = match accounts {
        Some(_) => (
            quote!(let token = app.sign_up("alice").await;),
            quote!(Some(token.as_str())),
        ),
        None if rule.is_public() => (quote!(), quote!(None)),
        None => return tests,
    };
    let role = accounts.and_then(|a| a.default_role.as_deref());
    if takes_body {
        let unknown = quote!(Some(json!({ "svccNoSuchField": true })));
        probes.push(probe(ProbeKind::UnknownField, &sign_in, &token, unknown));
    }
    if takes_body && let Some(t) = mass_assignment(ir, resource, op, &path, &sign_in, &token, &name)
    {
        tests.push(t);
    }
    let addresses_record = !resource.singleton
        && matches!(
            op.kind,
            OpKind::Get | OpKind::Delete | OpKind::Action | OpKind::Link
        );
    if addresses_record {
        probes.push(probe(
            ProbeKind::MissingRecord,
            &sign_in,
            &token,
            quote!(None),
        ));
    }
    if resource.singleton && op.kind == OpKind::Get && accounts.is_some() {
        let test = name("answers_the_caller");
        tests.push(quote! {
            #[tokio::test]
            async fn #test() {
                let app = TestApp::spawn().await;
                #sign_in
                let (status, body) = app.send(#method, #path, #token, None).await;
                assert_eq!(status, 200, "{body}");
            }
        });
    }
    if op.kind == OpKind::List && resource.parents.is_empty() && !resource.singleton {
        tests.extend(list_tests(op, rule, role, &path, &sign_in, &token, &name));
    }
    if op.kind == OpKind::Create {
        tests.extend(
            create_round_trip(ir, resource_id, op, rule, &sign_in, &token, target)
                .into_iter()
                .flatten(),
        );
    }
    tests
}

/// Every server-managed field the operation does not take (keys, `@readonly`, fields set
/// from the caller, timestamps) is refused by name, whatever its value.
fn mass_assignment(
    ir: &Ir,
    resource: &Resource,
    op: &Operation,
    path: &str,
    sign_in: &TokenStream,
    token: &TokenStream,
    name: &dyn Fn(&str) -> syn::Ident,
) -> Option<TokenStream> {
    let entity = ir.entity(resource.entity);
    let taken = op.writable_fields();
    let managed: Vec<String> = entity
        .fields
        .iter()
        .enumerate()
        .filter(|(i, f)| {
            !taken.contains(i)
                && (f.flags.primary
                    || f.flags.readonly
                    || f.flags.updated_at
                    || f.auto.is_some()
                    || op.set.iter().any(|(s, _)| s == i)
                    || f.origin.as_deref() == Some("timestamps"))
        })
        .map(|(_, f)| types::json_name(ir, f))
        .collect();
    if managed.is_empty() {
        return None;
    }
    let test = name("refuses_server_managed_fields");
    let method = op.method.as_str();
    Some(quote! {
        #[tokio::test]
        async fn #test() {
            let app = TestApp::spawn().await;
            #sign_in
            for field in [#(#managed),*] {
                let mut body = json!({});
                body[field] = json!("server-managed");
                let (status, body) = app.send(#method, #path, #token, Some(body)).await;
                assert_eq!(status, 422, "`{field}` is accepted from the client: {body}");
                app.assert_error(422, status, &body);
            }
        }
    })
}

/// A test that one request, after `sign_in`, answers `status` in the error format.
fn error_test(
    test: &syn::Ident,
    sign_in: &TokenStream,
    request: &TokenStream,
    status: u16,
) -> TokenStream {
    let status = proc_macro2::Literal::u16_unsuffixed(status);
    quote! {
        #[tokio::test]
        async fn #test() {
            let app = TestApp::spawn().await;
            #sign_in
            let (status, body) = #request.await;
            app.assert_error(#status, status, &body);
        }
    }
}

/// Errors every operation of a resource answers alike, whatever the database holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProbeKind {
    /// 401 without a token.
    SignInRequired,
    /// 422 for a body with a field the operation does not take.
    UnknownField,
    /// 404 for a record that does not exist.
    MissingRecord,
}

impl ProbeKind {
    const ALL: [ProbeKind; 3] = [
        ProbeKind::SignInRequired,
        ProbeKind::UnknownField,
        ProbeKind::MissingRecord,
    ];

    fn status(self) -> u16 {
        match self {
            ProbeKind::SignInRequired => 401,
            ProbeKind::UnknownField => 422,
            ProbeKind::MissingRecord => 404,
        }
    }

    /// The name of a test of one operation's probe, after `<resource>_<operation>_`.
    fn test_name(self) -> &'static str {
        match self {
            ProbeKind::SignInRequired => "requires_sign_in",
            ProbeKind::UnknownField => "rejects_unknown_fields",
            ProbeKind::MissingRecord => "answers_404_for_a_missing_record",
        }
    }

    /// The name of the test of all the resource's probes of this kind, after `<resource>_`.
    fn folded_name(self) -> &'static str {
        match self {
            ProbeKind::SignInRequired => "requires_sign_in",
            ProbeKind::UnknownField => "rejects_unknown_fields",
            ProbeKind::MissingRecord => "answers_404_for_missing_records",
        }
    }
}

/// One request of an operation that must answer `kind`'s error.
struct Probe {
    kind: ProbeKind,
    /// The test's name when it tests this probe alone.
    test: syn::Ident,
    method: &'static str,
    path: String,
    /// Signs the caller up (the same for every probe of a resource and kind), and the
    /// token the request carries.
    sign_in: TokenStream,
    token: TokenStream,
    body: TokenStream,
    rate: Option<crate::ir::RateId>,
}

/// One test per kind of probe of a resource, sending each operation's request in turn; a
/// kind with one probe, or more requests than a rate policy they share lets through, keeps
/// one test per operation.
fn probe_tests(ir: &Ir, resource: &str, probes: Vec<Probe>, signs_up: bool) -> Vec<TokenStream> {
    let mut tests = Vec::new();
    for kind in ProbeKind::ALL {
        let group: Vec<&Probe> = probes.iter().filter(|p| p.kind == kind).collect();
        let status = proc_macro2::Literal::u16_unsuffixed(kind.status());
        let signs_in = signs_up && kind != ProbeKind::SignInRequired;
        match group.as_slice() {
            [] => {}
            [first, ..] if group.len() > 1 && within_rate_limits(ir, &group, signs_in) => {
                let test = format_ident!("{}_{}", resource, kind.folded_name());
                let sign_in = &first.sign_in;
                let token = &first.token;
                let requests = group.iter().map(|p| {
                    let (method, path, body) = (p.method, &p.path, &p.body);
                    quote!((#method, #path, #body))
                });
                tests.push(quote! {
                    #[tokio::test]
                    async fn #test() {
                        let app = TestApp::spawn().await;
                        #sign_in
                        for (method, path, body) in [#(#requests),*] {
                            let (status, body) = app.send(method, path, #token, body).await;
                            assert_eq!(status, #status, "{method} {path}: {body}");
                            app.assert_error(#status, status, &body);
                        }
                    }
                });
            }
            _ => tests.extend(group.iter().map(|p| {
                let Probe {
                    method,
                    path,
                    token,
                    body,
                    ..
                } = p;
                let request = quote!(app.send(#method, #path, #token, #body));
                error_test(&p.test, &p.sign_in, &request, kind.status())
            })),
        }
    }
    tests
}

/// Whether one test can send all of `group`'s requests (and sign up first, if `signs_in`)
/// without a rate policy they share answering 429 before the window ends.
fn within_rate_limits(ir: &Ir, group: &[&Probe], signs_in: bool) -> bool {
    let sign_up = signs_in.then(|| super::rate::of_auth(ir)).flatten();
    let rates: Vec<crate::ir::RateId> =
        group.iter().filter_map(|p| p.rate).chain(sign_up).collect();
    rates.iter().all(|id| {
        let policy = ir.rate(*id);
        let allowed = policy.burst.map_or(policy.limit, |b| b.min(policy.limit));
        let sent = rates.iter().filter(|r| *r == id).count();
        u32::try_from(sent).is_ok_and(|sent| sent <= allowed)
    })
}

fn list_tests(
    op: &Operation,
    rule: &AuthRule,
    role: Option<&str>,
    path: &str,
    sign_in: &TokenStream,
    token: &TokenStream,
    name: &dyn Fn(&str) -> syn::Ident,
) -> Vec<TokenStream> {
    let mut tests = Vec::new();
    // Ownership rules filter the list instead of refusing it.
    let expected = match authz::caller_only(rule) {
        Ok(Some(_)) => match member_passes(rule, role, &[]) {
            Some(true) => 200u16,
            Some(false) => 403,
            None => return tests,
        },
        Ok(None) => 200,
        Err(_) => return tests,
    };
    let request = quote!(app.send("GET", #path, #token, None));
    if expected == 200 {
        let test = name("answers_an_empty_page");
        tests.push(quote! {
            #[tokio::test]
            async fn #test() {
                let app = TestApp::spawn().await;
                #sign_in
                let (status, body) = #request.await;
                assert_eq!(status, 200, "{body}");
            }
        });
    } else {
        tests.push(error_test(
            &name("refuses_callers_without_the_role"),
            sign_in,
            &request,
            403,
        ));
    }
    if let Some(max) = op.list.as_ref().and_then(|l| l.max_page_size)
        && expected == 200
    {
        let too_big = format!("{path}?limit={}", u64::from(max) + 1);
        tests.push(error_test(
            &name("caps_the_page_size"),
            sign_in,
            &quote!(app.send("GET", #too_big, #token, None)),
            422,
        ));
    }
    tests
}

/// Creates a record from sample values and reads it back, when a fresh caller may do both
/// and svcc can fill in every field the operation takes.
fn create_round_trip(
    ir: &Ir,
    resource_id: ResourceId,
    op: &Operation,
    rule: &AuthRule,
    sign_in: &TokenStream,
    token: &TokenStream,
    target: &Target,
) -> Option<Vec<TokenStream>> {
    let accounts = target.accounts;
    let resource = ir.resource(resource_id);
    let entity = ir.entity(resource.entity);
    if !resource.parents.is_empty()
        || resource.singleton
        || !op.collections.is_empty()
        || op.status == 204
        || authz::caller_only(rule).ok()?.is_none()
    {
        return None;
    }
    // A fresh account when it may create, else one granted a role that may.
    let default_role = accounts.and_then(|a| a.default_role.as_deref());
    let (role, sign_in) = if member_passes(rule, default_role, &[]) == Some(true) {
        (default_role, sign_in.clone())
    } else {
        let granted = accounts?
            .other_roles
            .iter()
            .find(|r| member_passes(rule, Some(r.as_str()), &[]) == Some(true))?;
        target.uses.sign_up_as.store(true, Relaxed);
        (
            Some(granted.as_str()),
            quote!(let token = app.sign_up_as("alice", #granted).await;),
        )
    };
    let mut body = serde_json::Map::new();
    for i in op.writable_fields() {
        let f = &entity.fields[*i];
        match sample(ir, f) {
            Some(v) => {
                body.insert(types::json_name(ir, f), v);
            }
            None if needs_value(f) => return None,
            None => {}
        }
    }
    let body = json_tokens(&Value::Object(body));
    let status = op.status;
    let base = ir.service.base_path.trim_end_matches('/');
    let create_path = format!("{base}{}", op.path);
    let test = format_ident!("{}_{}_then_get", resource.name, op.name);
    // The new record belongs to its creator through the fields set to the caller.
    let owned = access::caller_fields(entity, op);
    let read_back = resource
        .operations
        .iter()
        .filter(|_| view::shape_of(ir, resource_id, op) == Shape::Record)
        .find(|g| g.kind == OpKind::Get && view::shape_of(ir, resource_id, g) == Shape::Record)
        .filter(|g| {
            g.auth
                .as_ref()
                .is_some_and(|a| member_passes(&a.value, role, &owned) == Some(true))
        })
        .and_then(|g| {
            let key = types::json_name(ir, &entity.fields[resource.key]);
            let get_path = format!("{base}{}", g.path);
            let param = format!("{{{}}}", path_params(&g.path).last()?);
            let envelope = resource.envelope.as_ref().map(|e| quote!([#e]));
            Some(quote! {
                let key = match &created #envelope [#key] {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                let path = #get_path.replace(#param, &key);
                let (status, read) = app.send("GET", &path, #token, None).await;
                assert_eq!(status, 200, "{read}");
                assert_eq!(read, created, "a record reads back as it was created");
            })
        });
    let create = quote! {
        let app = TestApp::spawn().await;
        #sign_in
        let (status, created) = app.send("POST", #create_path, #token, Some(#body)).await;
        assert_eq!(status, #status, "{created}");
    };
    let mut tests = vec![quote! {
        #[tokio::test]
        async fn #test() {
            #create
            #read_back
        }
    }];
    if view::shape_of(ir, resource_id, op) == Shape::Record {
        tests.extend(stale_update(ir, resource, &create, target));
    }
    tests.extend(event_tests(ir, resource, op, &create, target));
    Some(tests)
}

/// For each event a create publishes: it is in the outbox with the new record, it is not
/// when its transaction rolls back, and a restarted service delivers it. Then, once, how
/// the outbox leases events and retries failures.
fn event_tests(
    ir: &Ir,
    resource: &Resource,
    op: &Operation,
    create: &TokenStream,
    target: &Target,
) -> Vec<TokenStream> {
    let key = types::json_name(ir, &ir.entity(resource.entity).fields[resource.key]);
    let krate = &target.krate;
    let read = read_created(ir, resource, krate);
    let envelope = resource.envelope.as_ref().map(|e| quote!([#e]));
    let mut tests = Vec::new();
    for (n, id) in op.emits.iter().enumerate() {
        let event = ir.event(*id);
        if event.entity != resource.entity {
            continue;
        }
        target.uses.database.store(true, Relaxed);
        let name = &event.name;
        let record_fn = super::events::record_fn(event);
        let snake = record_fn.to_string();
        let recorded = format_ident!("{}_{}_records_{snake}", resource.name, op.name);
        let rolled_back = format_ident!("{snake}_is_not_recorded_when_its_transaction_rolls_back");
        let restarted = format_ident!("{snake}_is_delivered_after_a_restart");
        tests.push(quote! {
            #[tokio::test]
            async fn #recorded() {
                #create
                let db = app.database().await;
                let events = #krate::repo::outbox_events::of_kind(&db, #name).await.expect("reads the outbox");
                assert_eq!(events.len(), 1, "one event per change");
                let payload: Value = serde_json::from_str(&events[0].payload).expect("a JSON payload");
                assert_eq!(payload[#key], created #envelope [#key], "the event carries the new record");
                assert_eq!(events[0].delivered_at, None, "nothing delivers without the dispatcher");
            }

            #[tokio::test]
            async fn #rolled_back() {
                use #krate::repo::outbox_events::of_kind;

                #create
                let db = app.database().await;
                #read
                let mut tx = db.begin().await.expect("begins a transaction");
                #krate::events::#record_fn(&mut tx, &read).await.expect("records the event");
                // Dropped without commit, as when a later statement of the change fails.
                drop(tx);
                assert_eq!(of_kind(&db, #name).await.expect("reads the outbox").len(), 1, "only the committed change's event");
                let mut tx = db.begin().await.expect("begins a transaction");
                #krate::events::#record_fn(&mut tx, &read).await.expect("records the event");
                tx.commit().await.expect("commits");
                assert_eq!(of_kind(&db, #name).await.expect("reads the outbox").len(), 2);
            }

            #[tokio::test]
            async fn #restarted() {
                // The test router never dispatches, like a service stopped before delivery.
                #create
                let db = app.database().await;
                let restarted = #krate::startup::Application::build(app.settings()).await.expect("the service restarts");
                let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
                let server = tokio::spawn(restarted.run_until_stopped(async {
                    stopped.await.ok();
                }));
                let mut delivered = Vec::new();
                for _ in 0..100 {
                    delivered = #krate::repo::outbox_events::of_kind(&db, #name).await.expect("reads the outbox");
                    if delivered.iter().all(|e| e.delivered_at.is_some()) {
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                stop.send(()).ok();
                server.await.expect("the server task ends").expect("the server stops cleanly");
                assert_eq!(delivered.len(), 1);
                assert!(delivered[0].delivered_at.is_some(), "the pending event is delivered: {:?}", delivered[0]);
                assert_eq!(delivered[0].attempts, 1, "delivered on the first attempt");
                assert_eq!(delivered[0].last_error, None);
            }
        });
        if n == 0 {
            let leases = format_ident!("outbox_leases_each_{snake}_once_and_retries_failures");
            tests.push(quote! {
                #[tokio::test]
                async fn #leases() {
                    use #krate::repo::outbox_events::{claim, failed, of_kind};

                    #create
                    let db = app.database().await;
                    let now = chrono::Utc::now().timestamp_millis();
                    let lease_until = now + 30_000;
                    let first = claim(&db, now, lease_until, 10).await.expect("claims");
                    assert_eq!(first.len(), 1, "the due event is claimed");
                    assert_eq!(first[0].attempts, 1);
                    let again = claim(&db, now, lease_until, 10).await.expect("claims");
                    assert!(again.is_empty(), "a leased event is not claimed twice");
                    failed(&db, &first[0].id, now + 1_000, "the handler failed").await.expect("releases the event");
                    let early = claim(&db, now + 999, lease_until, 10).await.expect("claims");
                    assert!(early.is_empty(), "a failed event waits for its retry time");
                    let retried = claim(&db, now + 1_000, lease_until, 10).await.expect("claims");
                    assert_eq!(retried.len(), 1, "then it is claimed again");
                    assert_eq!(retried[0].attempts, 2);
                    let stored = of_kind(&db, #name).await.expect("reads the outbox");
                    assert_eq!(stored[0].last_error.as_deref(), Some("the handler failed"));
                    assert_eq!(stored[0].delivered_at, None);
                }
            });
        }
    }
    tests
}

/// `read`: the record the test just created (`created`), loaded through the repository
/// from `db`.
fn read_created(ir: &Ir, resource: &Resource, krate: &syn::Ident) -> TokenStream {
    let entity = ir.entity(resource.entity);
    let lookup = &entity.fields[resource.key];
    let key = types::json_name(ir, lookup);
    let key_type = types::value_type(ir, &lookup.ty);
    let repo = repo::module(ir, resource.entity);
    let find = repo::find_fn(entity, resource.key);
    let envelope = resource.envelope.as_ref().map(|e| quote!([#e]));
    quote! {
        let key: #key_type = serde_json::from_value(created #envelope [#key].clone()).expect("the key of the new record");
        let read = #krate::repo::#repo::#find(&db, &key).await.expect("reads").expect("the record exists");
    }
}

/// Two writers read the same version and both update it: the second write must be refused
/// (the repo's compare-and-swap on `updated_at`), which the service answers with 409.
fn stale_update(
    ir: &Ir,
    resource: &Resource,
    create: &TokenStream,
    target: &Target,
) -> Option<TokenStream> {
    let entity = ir.entity(resource.entity);
    repo::update_guard(entity)?;
    if !target.updatable {
        return None;
    }
    let krate = &target.krate;
    let repo = repo::module(ir, resource.entity);
    let read = read_created(ir, resource, krate);
    let test = format_ident!("{}_refuses_a_stale_update", resource.name);
    target.uses.database.store(true, Relaxed);
    Some(quote! {
        #[tokio::test]
        async fn #test() {
            use #krate::repo::#repo::update;

            #create
            let db = app.database().await;
            #read
            let seen = read.updated_at;
            let mut first = read.clone();
            first.updated_at = seen + chrono::Duration::seconds(1);
            let mut second = read;
            second.updated_at = seen + chrono::Duration::seconds(2);
            let won = update(&db, &first, &seen).await.expect("the first update runs");
            assert!(won.is_some(), "the first writer wins");
            let lost = update(&db, &second, &seen).await.expect("the second update runs");
            assert!(lost.is_none(), "a write based on a stale read is refused");
        }
    })
}

/// One test per rate policy, on the first endpoint it limits. Requests are anonymous and
/// carry no body: the limit is checked before anything else, so they count all the same.
fn rate_tests(ir: &Ir, skipped: &[Vec<usize>], accounts: Option<&Accounts>) -> Vec<TokenStream> {
    let mut endpoints: Vec<(crate::ir::RateId, &'static str, String)> = Vec::new();
    if let (Some(a), Some(rate)) = (accounts, super::rate::of_auth(ir)) {
        endpoints.push((rate, "POST", a.login.clone()));
    }
    for (i, r) in ir.resources.iter().enumerate() {
        for (n, op) in r.operations.iter().enumerate() {
            if skipped.get(i).is_some_and(|s| s.contains(&n)) {
                continue;
            }
            if let Some(rate) = super::rate::of_operation(ir, op) {
                endpoints.push((rate, op.method.as_str(), missing_path(ir, r, op)));
            }
        }
    }
    super::rate::used(ir)
        .into_iter()
        .filter_map(|id| {
            let (_, method, path) = endpoints.iter().find(|(rate, _, _)| *rate == id)?;
            let policy = ir.rate(id);
            let admitted = match policy.algorithm {
                crate::ir::RateAlgorithm::TokenBucket => policy.burst.unwrap_or(policy.limit),
                _ => policy.limit,
            };
            // A bucket refills while the test runs; allow for a few fresh tokens.
            let ceiling = admitted + admitted / 2 + 10;
            if ceiling > 5000 {
                return None;
            }
            let test = format_ident!("the_{}_limit_answers_429_once_spent", policy.name);
            let limit = policy.limit.to_string();
            Some(quote! {
                #[tokio::test]
                async fn #test() {
                    let app = TestApp::spawn().await;
                    for _ in 0..#admitted {
                        let (status, body) = app.send(#method, #path, None, None).await;
                        assert_ne!(status, 429, "refused within the budget: {body}");
                    }
                    let mut refused = None;
                    for _ in #admitted..#ceiling {
                        let (status, headers, body) = app.exchange(#method, #path, None, None).await;
                        if status == 429 {
                            refused = Some((status, headers, body));
                            break;
                        }
                    }
                    let (status, headers, body) = refused.expect("the budget runs out");
                    app.assert_error(429, status, &body);
                    assert!(headers.contains_key("retry-after"), "{headers:?}");
                    assert_eq!(headers["ratelimit-limit"], #limit, "{headers:?}");
                    assert_eq!(headers["ratelimit-remaining"], "0", "{headers:?}");
                }
            })
        })
        .collect()
}

fn path_params(path: &str) -> Vec<String> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(str::to_string)
        .collect()
}

/// The operation's full path with every parameter naming a record that does not exist.
fn missing_path(ir: &Ir, resource: &Resource, op: &Operation) -> String {
    let entity = ir.entity(resource.entity);
    let mut path = format!("{}{}", ir.service.base_path.trim_end_matches('/'), op.path);
    for param in path_params(&op.path) {
        let parent = resource
            .parents
            .iter()
            .find(|(field, _)| entity.fields[*field].name == param);
        let key_field = match parent {
            Some((_, p)) => {
                let pr = ir.resource(*p);
                &ir.entity(pr.entity).fields[pr.key]
            }
            None => &entity.fields[resource.key],
        };
        let missing = match types::storage_type(ir, &key_field.ty) {
            FieldType::Uuid | FieldType::Ref(_) => MISSING_UUID,
            FieldType::Int | FieldType::BigInt => "2147480000",
            _ => "no-such-record",
        };
        path = path.replace(&format!("{{{param}}}"), missing);
    }
    path
}

/// `json!(...)` for a value known when generating.
fn json_tokens(value: &Value) -> TokenStream {
    let inner = json_inner(value);
    quote!(json!(#inner))
}

/// A value in `json!` syntax, to place inside a `json!` invocation.
fn json_inner(value: &Value) -> TokenStream {
    match value {
        Value::Null => quote!(null),
        Value::Bool(b) => quote!(#b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => proc_macro2::Literal::i64_unsuffixed(i).into_token_stream(),
            (None, Some(f)) => proc_macro2::Literal::f64_unsuffixed(f).into_token_stream(),
            _ => quote!(null),
        },
        Value::String(s) => quote!(#s),
        Value::Array(items) => {
            let items = items.iter().map(json_inner);
            quote!([#(#items),*])
        }
        Value::Object(map) => {
            let entries = map.iter().map(|(k, v)| {
                let v = json_inner(v);
                quote!(#k: #v)
            });
            quote!({ #(#entries),* })
        }
    }
}

/// `tests/api/api_keys.rs`: a key issued by the operator command acts for its owner
/// without the owner's roles; forged and revoked keys get 401; owners list and revoke
/// their own keys only, and a key cannot manage keys.
fn api_keys_rs(ir: &Ir, a: &Accounts, crate_name: &str) -> Option<TokenStream> {
    let keys = super::api_keys::of(ir)?;
    let krate = ident(crate_name);
    let scopes: Vec<&String> = keys.roles.iter().take(1).collect();
    let prefix = &keys.prefix;
    let me = &a.me;
    let id_json = &a.id_json;
    let envelope = a.envelope.as_ref().map(|e| quote!([#e]));
    let keys_path = format!(
        "{}{}",
        ir.service.base_path.trim_end_matches('/'),
        super::api_keys::KEYS_PATH
    );
    Some(quote! {
        //! API keys: issued by the operator command, shown once, stored hashed, revocable.
        use serde_json::Value;

        use crate::helpers::TestApp;

        /// Signs `who` up and issues them a key; answers their token and the key.
        async fn keyed(app: &TestApp, who: &str) -> (String, String) {
            let token = app.sign_up(who).await;
            let scopes: Vec<String> = vec![#(#scopes.to_owned()),*];
            let key = #krate::admin::issue_api_key(&app.settings(), &TestApp::login_of(who), "ci", &scopes)
                .await
                .expect("issues a key");
            (token, key)
        }

        #[tokio::test]
        async fn an_api_key_acts_for_its_owner() {
            let app = TestApp::spawn().await;
            let (token, key) = keyed(&app, "alice").await;
            assert!(key.starts_with(#prefix), "keys carry the prefix: {key}");
            let (status, by_token) = app.send("GET", #me, Some(token.as_str()), None).await;
            assert_eq!(status, 200, "{by_token}");
            let (status, by_key) = app.send_with_key("GET", #me, &key).await;
            assert_eq!(status, 200, "{by_key}");
            assert_eq!(by_key #envelope [#id_json], by_token #envelope [#id_json]);
        }

        #[tokio::test]
        async fn forged_and_malformed_api_keys_are_refused() {
            let app = TestApp::spawn().await;
            let (_, key) = keyed(&app, "alice").await;
            let mut forged = key.clone();
            let last = if forged.ends_with('0') { '1' } else { '0' };
            forged.pop();
            forged.push(last);
            for candidate in [forged.as_str(), "not-a-key", #prefix, ""] {
                let (status, body) = app.send_with_key("GET", #me, candidate).await;
                app.assert_error(401, status, &body);
            }
        }

        #[tokio::test]
        async fn owners_list_and_revoke_their_own_keys() {
            let app = TestApp::spawn().await;
            let (alice, key) = keyed(&app, "alice").await;
            let bob = app.sign_up("bob").await;
            let (status, listed) = app.send("GET", #keys_path, Some(alice.as_str()), None).await;
            assert_eq!(status, 200, "{listed}");
            let listed = listed.as_array().expect("a list of keys").clone();
            assert_eq!(listed.len(), 1);
            let id = listed[0]["id"].as_str().expect("a key id").to_owned();
            assert!(key.contains(&id), "the id is the key's public part");
            assert!(!listed[0].to_string().contains(&key[#prefix.len() + id.len()..]), "the secret is never shown again");
            let (status, others) = app.send("GET", #keys_path, Some(bob.as_str()), None).await;
            assert_eq!((status.as_u16(), others), (200, Value::Array(Vec::new())));
            let path = format!("{}/{id}", #keys_path);
            let (status, body) = app.send("DELETE", &path, Some(bob.as_str()), None).await;
            app.assert_error(404, status, &body);
            let (status, body) = app.send_with_key("DELETE", &path, &key).await;
            app.assert_error(403, status, &body);
            let (status, _) = app.send("DELETE", &path, Some(alice.as_str()), None).await;
            assert_eq!(status, 204);
            let (status, body) = app.send_with_key("GET", #me, &key).await;
            app.assert_error(401, status, &body);
        }

        #[tokio::test]
        async fn the_operator_revokes_any_key_and_refuses_unknown_scopes() {
            let app = TestApp::spawn().await;
            let (_, key) = keyed(&app, "alice").await;
            let id = &key[#prefix.len()..#prefix.len() + 12];
            #krate::admin::revoke_api_key(&app.settings(), id).await.expect("revokes");
            let (status, body) = app.send_with_key("GET", #me, &key).await;
            app.assert_error(401, status, &body);
            let unknown = #krate::admin::issue_api_key(&app.settings(), &TestApp::login_of("alice"), "ci", &["svcc-no-such-scope".to_owned()]).await;
            assert!(unknown.is_err(), "an undeclared scope is refused");
        }
    })
}

/// `tests/api/health.rs`: probes, the error body, the body limit, and serving over TCP
/// with a graceful stop.
fn health_rs(ir: &Ir, crate_name: &str, accounts: Option<&Accounts>) -> TokenStream {
    let title = &ir.service.name;
    let krate = ident(crate_name);
    let base = ir.service.base_path.trim_end_matches('/');
    let unknown = format!("{base}/svcc-no-such-route");
    let post_path = accounts.map(|a| a.register.clone()).or_else(|| {
        ir.resources.iter().find_map(|r| {
            r.operations
                .iter()
                .find(|o| {
                    o.method == Method::Post
                        && o.kind == OpKind::Create
                        && o.auth.as_ref().is_some_and(|a| a.value.is_public())
                })
                .map(|o| format!("{base}{}", o.path))
        })
    });
    let too_large = post_path.map(|path| {
        quote! {
            #[tokio::test]
            async fn an_oversized_body_is_413() {
                let app = TestApp::spawn().await;
                let padding = "x".repeat(crate::helpers::BODY_LIMIT + 1);
                let (status, body) = app.send("POST", #path, None, Some(json!({ "padding": padding }))).await;
                app.assert_error(413, status, &body);
            }
        }
    });
    quote! {
        //! Probes, the error body format, the body limit, and a graceful stop.

        use serde_json::json;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        use crate::helpers::TestApp;

        #[tokio::test]
        async fn liveness_and_readiness_answer_200() {
            let app = TestApp::spawn().await;
            let (status, body) = app.send("GET", "/health", None, None).await;
            assert_eq!(status, 200, "{body}");
            let (status, body) = app.send("GET", "/health/ready", None, None).await;
            assert_eq!(status, 200, "{body}");
        }

        #[tokio::test]
        async fn metrics_count_requests_by_route() {
            let app = TestApp::spawn().await;
            app.send("GET", "/health", None, None).await;
            let (status, body) = app.send("GET", "/metrics", None, None).await;
            assert_eq!(status, 200, "{body}");
            let text = body.as_str().unwrap_or_default();
            assert!(text.contains("http_requests_total{"), "{text}");
            assert!(text.contains("route=\"/health\""), "{text}");
            assert!(text.contains("db_pool_connections{"), "{text}");
        }

        #[tokio::test]
        async fn serves_its_openapi_document() {
            let app = TestApp::spawn().await;
            let (status, body) = app.send("GET", "/openapi.json", None, None).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(body["openapi"], "3.1.0");
            assert_eq!(body["info"]["title"], #title);
        }

        #[tokio::test]
        async fn an_unknown_route_is_404_in_the_error_format() {
            let app = TestApp::spawn().await;
            let (status, body) = app.send("GET", #unknown, None, None).await;
            app.assert_error(404, status, &body);
        }

        #too_large

        #[tokio::test]
        async fn serves_over_tcp_and_stops_gracefully() {
            let database = crate::helpers::scratch_database();
            let settings = crate::helpers::settings(&database);
            let app = #krate::startup::Application::build(settings).await.expect("the application starts");
            let address = app.local_addr().expect("a bound address");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(app.run_until_stopped(async {
                stopped.await.ok();
            }));
            let mut stream = tokio::net::TcpStream::connect(address).await.expect("connects");
            stream
                .write_all(b"GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                .await
                .expect("sends a request");
            let mut answer = String::new();
            stream.read_to_string(&mut answer).await.expect("reads the answer");
            assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
            stop.send(()).ok();
            server.await.expect("the server task ends").expect("the server stops cleanly");
            std::fs::remove_file(database).ok();
        }
    }
}

/// `tests/api/auth.rs`: registration, login and `me`, with their failure modes.
fn auth_rs(a: &Accounts, crate_name: &str) -> TokenStream {
    let cookie_test = a.cookie.as_ref().map(|name| {
        let refresh_name = format!("{name}_refresh");
        let (login, me, refresh, logout) = (&a.login, &a.me, &a.refresh, &a.logout);
        let (login_json, password_json, password) = (&a.login_json, &a.password_json, &a.password);
        quote! {
            /// Sign-in sets HttpOnly cookies that alone sign a browser in, refresh from an
            /// empty body, and log out; logout clears them and revokes the session.
            #[tokio::test]
            async fn browser_sessions_live_in_http_only_cookies() {
                let app = TestApp::spawn().await;
                app.register("alice").await;
                let credentials = json!({ #login_json: TestApp::login_of("alice"), #password_json: #password });
                let (status, headers, body) = app.send_with("POST", #login, &[], Some(credentials)).await;
                assert_eq!(status, 200, "{body}");
                let session = set_cookie(&headers, #name);
                let refresh_cookie = set_cookie(&headers, #refresh_name);
                let (status, _, body) = app.send_with("GET", #me, &[("cookie", session.as_str())], None).await;
                assert_eq!(status, 200, "the session cookie signs in: {body}");
                let (status, headers, body) = app.send_with("POST", #refresh, &[("cookie", refresh_cookie.as_str())], Some(json!({}))).await;
                assert_eq!(status, 200, "refresh takes the cookie: {body}");
                let rotated = set_cookie(&headers, #refresh_name);
                assert_ne!(rotated, refresh_cookie, "refresh rotates the cookie");
                let (status, headers, _) = app.send_with("POST", #logout, &[("cookie", rotated.as_str())], Some(json!({}))).await;
                assert_eq!(status, 204);
                let cleared: Vec<&str> = headers.get_all("set-cookie").iter().filter_map(|v| v.to_str().ok()).collect();
                assert_eq!(cleared.len(), 2, "{cleared:?}");
                assert!(cleared.iter().all(|c| c.contains("Max-Age=0")), "logout clears both cookies: {cleared:?}");
                let (status, _, body) = app.send_with("POST", #refresh, &[("cookie", rotated.as_str())], Some(json!({}))).await;
                app.assert_error(401, status, &body);
            }

            /// `name=value` of the `Set-Cookie` header for `name`, checking its attributes.
            fn set_cookie(headers: &axum::http::HeaderMap, name: &str) -> String {
                let cookie = headers
                    .get_all("set-cookie")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find(|c| c.starts_with(&format!("{name}=")))
                    .unwrap_or_else(|| panic!("no `{name}` cookie in {headers:?}"));
                assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite="), "{cookie}");
                cookie.split(';').next().unwrap_or_default().to_owned()
            }
        }
    });
    // Forged tokens: signed by another key of the same kind, and by HMAC keyed with what
    // the service verifies with (its secret, or for key pairs the public key: the
    // algorithm-confusion attack).
    let (alg, keys, confused_alg) = match super::test_keys::for_algorithm(&a.algorithm) {
        Some(k) => {
            let (alg, from_pem) = if a.algorithm == "eddsa" {
                (quote!(EdDSA), quote!(from_ed_pem))
            } else {
                (quote!(RS256), quote!(from_rsa_pem))
            };
            let other = k.other_private;
            (
                alg,
                quote! {
                    let own = EncodingKey::#from_pem(crate::helpers::JWT_SECRET.as_bytes()).expect("the test key");
                    let other = EncodingKey::#from_pem(#other.as_bytes()).expect("another test key");
                    let confused = EncodingKey::from_secret(crate::helpers::JWT_PUBLIC_KEY.as_bytes());
                },
                quote!(Algorithm::HS256),
            )
        }
        None => (
            quote!(HS256),
            quote! {
                let own = EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes());
                let other = EncodingKey::from_secret(b"another-secret-0123456789abcdef0123456789");
                let confused = EncodingKey::from_secret(crate::helpers::JWT_SECRET.as_bytes());
            },
            quote!(Algorithm::HS512),
        ),
    };
    let Accounts {
        register,
        login,
        me,
        refresh,
        logout,
        login_json,
        password_json,
        ..
    } = a;
    let password = &a.password;
    let short = "x".repeat(usize::try_from(a.password_min.saturating_sub(1)).unwrap_or(0));
    let user = match &a.envelope {
        Some(e) => quote!(&body[#e]),
        None => quote!(&body),
    };
    let token_field = &a.token_field;
    let id_json = &a.id_json;
    let managed = &a.managed;
    let granted = a.role_json.as_ref().zip(a.other_roles.first());
    let grant_role = granted.map(|(role_json, role)| {
        let krate = ident(crate_name);
        quote! {
            #[tokio::test]
            async fn the_operator_command_grants_a_role() {
                use #krate::admin::{AdminError, grant_role};

                let app = TestApp::spawn().await;
                app.sign_up("alice").await;
                let alice = TestApp::login_of("alice");
                let settings = app.settings();
                grant_role(&settings, &alice, #role).await.expect("the role is granted");
                let token = app.sign_in("alice").await;
                let (status, body) = app.send("GET", #me, Some(&token), None).await;
                assert_eq!(status, 200, "{body}");
                let me = #user;
                assert_eq!(me[#role_json], json!(#role), "{body}");
                let unknown = grant_role(&settings, &TestApp::login_of("nobody"), #role).await;
                assert!(matches!(unknown, Err(AdminError::NoAccount(_))), "{unknown:?}");
                let bad = grant_role(&settings, &alice, "no-such-role").await;
                assert!(matches!(bad, Err(AdminError::UnknownRole { .. })), "{bad:?}");
            }
        }
    });
    quote! {
        //! Registration, login and the caller's own record.

        use serde_json::json;

        use crate::helpers::{TestApp, text};

        #[tokio::test]
        async fn register_login_and_read_me() {
            let app = TestApp::spawn().await;
            let token = app.sign_up("alice").await;
            let (status, body) = app.send("GET", #me, Some(&token), None).await;
            assert_eq!(status, 200, "{body}");
            let user = #user;
            assert_eq!(user[#login_json], json!(TestApp::login_of("alice")));
            assert!(user.get(#password_json).is_none(), "the password is never returned: {body}");
        }

        #[tokio::test]
        async fn registering_twice_is_409() {
            let app = TestApp::spawn().await;
            app.sign_up("alice").await;
            let (status, body) = app.send("POST", #register, None, Some(TestApp::registration("alice"))).await;
            app.assert_error(409, status, &body);
        }

        #[tokio::test]
        async fn a_wrong_password_and_an_unknown_login_are_the_same_401() {
            let app = TestApp::spawn().await;
            app.sign_up("alice").await;
            let wrong = json!({ #login_json: TestApp::login_of("alice"), #password_json: "not the password at all" });
            let (status, wrong_body) = app.send("POST", #login, None, Some(wrong)).await;
            app.assert_error(401, status, &wrong_body);
            let unknown = json!({ #login_json: TestApp::login_of("nobody"), #password_json: #password });
            let (status, unknown_body) = app.send("POST", #login, None, Some(unknown)).await;
            app.assert_error(401, status, &unknown_body);
            assert_eq!(wrong_body, unknown_body, "the answers do not tell which part was wrong");
        }

        #[tokio::test]
        async fn registration_refuses_server_managed_fields() {
            let app = TestApp::spawn().await;
            for field in [#(#managed),*] {
                let mut body = TestApp::registration("alice");
                body[field] = json!("admin");
                let (status, body) = app.send("POST", #register, None, Some(body)).await;
                assert_eq!(status, 422, "`{field}` is accepted at registration: {body}");
                app.assert_error(422, status, &body);
            }
        }

        #[tokio::test]
        async fn a_short_password_is_422() {
            let app = TestApp::spawn().await;
            let mut body = TestApp::registration("alice");
            body[#password_json] = json!(#short);
            let (status, body) = app.send("POST", #register, None, Some(body)).await;
            app.assert_error(422, status, &body);
        }

        #[tokio::test]
        async fn a_refresh_token_rotates_and_its_reuse_revokes_the_family() {
            let app = TestApp::spawn().await;
            let account = app.register("alice").await;
            let first = text(&account, "refresh_token");
            let (status, body) = app.send("POST", #refresh, None, Some(json!({ "refresh_token": first }))).await;
            assert_eq!(status, 200, "{body}");
            let renewed = #user;
            let second = text(renewed, "refresh_token");
            assert_ne!(first, second, "every refresh issues a new token");
            let (status, body) = app.send("GET", #me, Some(&text(renewed, #token_field)), None).await;
            assert_eq!(status, 200, "the new access token works: {body}");
            let (status, body) = app.send("POST", #refresh, None, Some(json!({ "refresh_token": first }))).await;
            app.assert_error(401, status, &body);
            let (status, body) = app.send("POST", #refresh, None, Some(json!({ "refresh_token": second }))).await;
            app.assert_error(401, status, &body);
        }

        #[tokio::test]
        async fn logout_revokes_the_refresh_token() {
            let app = TestApp::spawn().await;
            let token = text(&app.register("alice").await, "refresh_token");
            let (status, body) = app.send("POST", #logout, None, Some(json!({ "refresh_token": token }))).await;
            assert_eq!(status, 204, "{body}");
            let (status, body) = app.send("POST", #refresh, None, Some(json!({ "refresh_token": token }))).await;
            app.assert_error(401, status, &body);
            let (status, body) = app.send("POST", #logout, None, Some(json!({ "refresh_token": "unknown" }))).await;
            assert_eq!(status, 204, "logout is idempotent: {body}");
        }

        #[tokio::test]
        async fn an_unknown_refresh_token_is_401() {
            let app = TestApp::spawn().await;
            let (status, body) = app.send("POST", #refresh, None, Some(json!({ "refresh_token": "not-a-token" }))).await;
            app.assert_error(401, status, &body);
        }

        /// Tokens signed with the service's own secret and claims, each with one defect:
        /// the untouched one passes, so each 401 is that defect's.
        #[tokio::test]
        async fn tokens_with_any_defect_are_401() {
            let app = TestApp::spawn().await;
            let token = app.sign_up("alice").await;
            let (status, body) = app.send("GET", #me, Some(&token), None).await;
            assert_eq!(status, 200, "{body}");
            let id = match &#user[#id_json] {
                serde_json::Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let now = chrono::Utc::now().timestamp();
            let claims = json!({
                "sub": id, "roles": [], "iat": now, "exp": now + 600,
                "iss": crate::helpers::JWT_ISSUER, "aud": crate::helpers::JWT_AUDIENCE,
            });
            use jsonwebtoken::{Algorithm, EncodingKey};
            let sign = |claims: &serde_json::Value, algorithm: Algorithm, key: &EncodingKey| {
                jsonwebtoken::encode(&jsonwebtoken::Header::new(algorithm), claims, key).expect("a token")
            };
            #keys
            let with = |key: &str, value: serde_json::Value| {
                let mut changed = claims.clone();
                changed[key] = value;
                sign(&changed, Algorithm::#alg, &own)
            };
            let sound = sign(&claims, Algorithm::#alg, &own);
            let (status, body) = app.send("GET", #me, Some(&sound), None).await;
            assert_eq!(status, 200, "a well-formed token passes: {body}");
            let (payload, _) = sound.split_once('.').map(|(_, rest)| rest).and_then(|rest| rest.split_once('.')).expect("three parts");
            let defects = [
                ("expired", with("exp", json!(now - 60))),
                ("not yet valid", with("nbf", json!(now + 600))),
                ("another issuer", with("iss", json!("someone-else"))),
                ("another audience", with("aud", json!("someone-else"))),
                ("another key", sign(&claims, Algorithm::#alg, &other)),
                ("another algorithm", sign(&claims, #confused_alg, &confused)),
                // {"alg":"none","typ":"JWT"}, and no signature.
                ("alg none", format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.")),
            ];
            for (defect, forged) in defects {
                let (status, body) = app.send("GET", #me, Some(&forged), None).await;
                assert_eq!(status, 401, "{defect}: {body}");
            }
        }

        #[tokio::test]
        async fn a_forged_token_is_401() {
            let app = TestApp::spawn().await;
            let (status, body) = app.send("GET", #me, Some("not.a.token"), None).await;
            app.assert_error(401, status, &body);
        }

        #[tokio::test]
        async fn a_token_with_a_bad_signature_is_401() {
            let app = TestApp::spawn().await;
            let token = app.sign_up("alice").await;
            let (head, _) = token.rsplit_once('.').expect("a JWT has three parts");
            let forged = format!("{head}.c2lnbmF0dXJlLWZyb20tc29tZW9uZS1lbHNl");
            let (status, body) = app.send("GET", #me, Some(&forged), None).await;
            app.assert_error(401, status, &body);
        }

        #grant_role
        #cookie_test
    }
}

/// `tests/api/helpers.rs`: `TestApp` over the real router and a scratch SQLite database.
fn helpers_rs(ir: &Ir, crate_name: &str, accounts: Option<&Accounts>, uses: &Uses) -> TokenStream {
    let krate = ident(crate_name);
    let granted = accounts.is_some_and(|a| a.role_json.is_some() && !a.other_roles.is_empty());
    let vars = env_vars(ir);
    let name = |i: usize| vars[i].name.clone();
    let database = name(config::DATABASE_URL);
    let host = name(config::HOST);
    let port = name(config::PORT);
    let cors = name(config::CORS_ORIGINS);
    let jwt = ir.auth.as_ref().map(|_| {
        let secret = name(config::JWT_SECRET);
        let issuer = name(config::JWT_ISSUER);
        let audience = name(config::JWT_AUDIENCE);
        let public = config::asymmetric(ir).then(|| {
            let var = config::JWT_PUBLIC_KEY;
            quote!(#var => Some(JWT_PUBLIC_KEY.to_owned()),)
        });
        quote! {
            #secret => Some(JWT_SECRET.to_owned()),
            #public
            #issuer => Some(JWT_ISSUER.to_owned()),
            #audience => Some(JWT_AUDIENCE.to_owned()),
        }
    });
    let jwt_constants = ir.auth.as_ref().map(|a| {
        let keys = match super::test_keys::for_algorithm(&a.algorithm) {
            Some(keys) => {
                let (private, public) = (keys.private, keys.public);
                quote! {
                    /// The key pair the tests sign and check access tokens with (test-only).
                    pub const JWT_SECRET: &str = #private;
                    pub const JWT_PUBLIC_KEY: &str = #public;
                }
            }
            None => quote! {
                /// What the tests sign and check access tokens with.
                pub const JWT_SECRET: &str = "test-only-secret-0123456789abcdef0123456789";
            },
        };
        quote! {
            #keys
            pub const JWT_ISSUER: &str = "svcc-test-issuer";
            pub const JWT_AUDIENCE: &str = "svcc-test-audience";
        }
    });
    let scheme = ir.auth.as_ref().map_or("Bearer", |a| a.scheme.as_str());
    let scheme_prefix = format!("{scheme} {{token}}");
    let error_check = match ir.service.error_format {
        ErrorFormat::Structured => quote! {
            assert!(body["error"]["code"].is_string(), "a structured error body: {body}");
            assert!(body["error"]["message"].is_string(), "a structured error body: {body}");
        },
        ErrorFormat::Problem => quote! {
            assert_eq!(body["status"], serde_json::json!(expected), "a problem body: {body}");
            assert!(body["title"].is_string(), "a problem body: {body}");
        },
        ErrorFormat::FieldMap => quote! {
            assert!(body["errors"].is_object(), "a field-keyed error body: {body}");
        },
    };
    let accounts_fns = accounts.map(|a| {
        let register = &a.register;
        let login_json = &a.login_json;
        let password_json = &a.password_json;
        let password = &a.password;
        let token_field = &a.token_field;
        let user = match &a.envelope {
            Some(e) => quote!(body[#e]),
            None => quote!(body),
        };
        let login = &a.login;
        // Only the role tests log in again; everything else keeps its sign-up token.
        let sign_in = granted.then(|| {
            quote! {
                /// Logs `who` in; answers a fresh access token.
                pub async fn sign_in(&self, who: &str) -> String {
                    let credentials = json!({ #login_json: Self::login_of(who), #password_json: #password });
                    let (status, body) = self.send("POST", #login, None, Some(credentials)).await;
                    assert_eq!(status, 200, "login: {body}");
                    text(&#user, #token_field)
                }
            }
        });
        let sign_up_as = uses.sign_up_as.load(Relaxed).then(|| {
            quote! {
                /// Registers `who`, grants them `role` and answers a token carrying it.
                pub async fn sign_up_as(&self, who: &str, role: &str) -> String {
                    self.register(who).await;
                    #krate::admin::grant_role(&self.settings(), &Self::login_of(who), role)
                        .await
                        .expect("grants the role");
                    self.sign_in(who).await
                }
            }
        });
        let login_of = if a.email_login {
            quote!(format!("{who}@example.com"))
        } else {
            quote!(who.to_owned())
        };
        let mut fields = serde_json::Map::new();
        for (k, v) in &a.body {
            fields.insert(k.clone(), v.clone());
        }
        let fields = json_tokens(&Value::Object(fields));
        let per_caller = a.per_caller.iter().map(|(name, email)| {
            let value = if *email {
                quote!(format!("{who}@example.com"))
            } else {
                quote!(who)
            };
            quote!(body[#name] = json!(#value);)
        });
        quote! {
            impl TestApp {
                /// The login of the test caller `who`.
                pub fn login_of(who: &str) -> String {
                    #login_of
                }

                /// A valid registration body for `who`.
                pub fn registration(who: &str) -> Value {
                    let mut body = #fields;
                    body[#login_json] = json!(Self::login_of(who));
                    body[#password_json] = json!(#password);
                    #(#per_caller)*
                    body
                }

                /// Registers `who`; answers the account with its tokens.
                pub async fn register(&self, who: &str) -> Value {
                    let (status, body) = self.send("POST", #register, None, Some(Self::registration(who))).await;
                    assert_eq!(status, 201, "registration: {body}");
                    #user.clone()
                }

                /// Registers `who` and returns their access token.
                pub async fn sign_up(&self, who: &str) -> String {
                    let account = self.register(who).await;
                    text(&account, #token_field)
                }

                #sign_in
                #sign_up_as
            }
        }
    });
    let database_fn = uses.database.load(Relaxed).then(|| {
        quote! {
            /// A second connection to this app's database, for calling the repo directly.
            pub async fn database(&self) -> #krate::db::Database {
                #krate::db::Database::connect(&self.settings()).await.expect("connects to the test database")
            }
        }
    });
    let key_fn = super::api_keys::of(ir).filter(|_| uses.api_keys.load(Relaxed)).map(|_| {
        quote! {
            /// Sends a request without a body that carries an API key instead of a token.
            pub async fn send_with_key(&self, method: &str, path: &str, key: &str) -> (StatusCode, Value) {
                let (status, _, body) = self.send_with(method, path, &[(#krate::auth::API_KEY_HEADER, key)], None).await;
                (status, body)
            }
        }
    });
    let settings_fn = (uses.database.load(Relaxed) || granted).then(|| {
        quote! {
            /// The settings this app runs with, for calling the crate directly.
            pub fn settings(&self) -> Settings {
                settings(&self.database)
            }
        }
    });
    quote! {
        //! `TestApp`: the service's real router on its own scratch SQLite database.

        use std::net::SocketAddr;
        use std::path::PathBuf;

        use axum::body::Body;
        use axum::extract::connect_info::MockConnectInfo;
        use axum::http::{HeaderMap, Request, StatusCode, header};
        use http_body_util::BodyExt;
        #[allow(unused_imports)]
        use serde_json::{Value, json};
        use tower::ServiceExt;

        use #krate::config::Settings;
        use #krate::startup::Application;

        /// The request body limit the tests run with.
        pub const BODY_LIMIT: usize = 16 * 1024;

        #jwt_constants

        /// One test's service. The database file goes away with it.
        pub struct TestApp {
            router: axum::Router,
            database: PathBuf,
        }

        /// The string at `key` of `body`.
        pub fn text(body: &Value, key: &str) -> String {
            body[key].as_str().unwrap_or_else(|| panic!("no `{key}` in {body}")).to_owned()
        }

        /// A path for a fresh SQLite database.
        pub fn scratch_database() -> PathBuf {
            std::env::temp_dir().join(format!("{}-test-{}.db", env!("CARGO_PKG_NAME"), uuid::Uuid::new_v4()))
        }

        /// Settings for tests: the given database, a free port, small limits, a test secret;
        /// everything else at its default, whatever the environment holds.
        pub fn settings(database: &std::path::Path) -> Settings {
            let url = format!("sqlite://{}?mode=rwc", database.display());
            let settings = Settings::from_lookup(|key| match key {
                #database => Some(url.clone()),
                #host => Some("127.0.0.1".to_owned()),
                #port => Some("0".to_owned()),
                #cors => Some(String::new()),
                "MIGRATE_ON_START" => Some("true".to_owned()),
                "BODY_LIMIT_BYTES" => Some(BODY_LIMIT.to_string()),
                "LOG_FORMAT" => Some("pretty".to_owned()),
                #jwt
                _ => None,
            });
            settings.expect("the test settings are valid")
        }

        impl TestApp {
            /// Migrates a fresh database and builds the router.
            pub async fn spawn() -> TestApp {
                let database = scratch_database();
                let app = Application::build(settings(&database)).await.expect("the application starts");
                // Requests come from one address, as the rate limits see them.
                let router = app.router().layer(MockConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
                TestApp { router, database }
            }

            #database_fn
            #settings_fn
            #key_fn

            /// Sends one request; answers the status and the JSON body (`null` when empty).
            pub async fn send(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
                let (status, _, body) = self.exchange(method, path, token, body).await;
                (status, body)
            }

            /// Sends one request; answers the status, the headers and the JSON body.
            pub async fn exchange(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, HeaderMap, Value) {
                let authorization = token.map(|token| format!(#scheme_prefix));
                let headers: Vec<(&str, &str)> = authorization.iter().map(|a| (header::AUTHORIZATION.as_str(), a.as_str())).collect();
                self.send_with(method, path, &headers, body).await
            }

            /// Sends one request with these headers; answers the status, the headers and the JSON body.
            pub async fn send_with(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> (StatusCode, HeaderMap, Value) {
                let mut request = Request::builder().method(method).uri(path);
                for (name, value) in headers {
                    request = request.header(*name, *value);
                }
                let body = match body {
                    Some(json) => {
                        let text = json.to_string();
                        request = request
                            .header(header::CONTENT_TYPE, "application/json")
                            .header(header::CONTENT_LENGTH, text.len());
                        Body::from(text)
                    }
                    None => Body::empty(),
                };
                self.answer(request.body(body).expect("a valid request")).await
            }

            /// Runs a request through the router; answers the status, the headers and the JSON body.
            async fn answer(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Value) {
                let response = self.router.clone().oneshot(request).await.expect("the router answers");
                let status = response.status();
                let headers = response.headers().clone();
                let bytes = response.into_body().collect().await.expect("a readable body").to_bytes();
                let json = if bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
                };
                (status, headers, json)
            }

            /// Checks an error answer: the expected status, in the spec's error format.
            pub fn assert_error(&self, expected: u16, status: StatusCode, body: &Value) {
                assert_eq!(status.as_u16(), expected, "{body}");
                #error_check
            }
        }

        #accounts_fns

        impl Drop for TestApp {
            fn drop(&mut self) {
                for suffix in ["", "-shm", "-wal"] {
                    let mut path = self.database.clone().into_os_string();
                    path.push(suffix);
                    std::fs::remove_file(path).ok();
                }
            }
        }
    }
}
