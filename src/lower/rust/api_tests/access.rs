//! `tests/api/access.rs`: the authorization matrix. Every operation is sent by an anonymous
//! caller, by the owner of the records it touches, by another user and by an account of each
//! role, and must answer what the spec's rules give; a list must show each of them exactly
//! the records their rule lets them see. The records come from the API itself: each request
//! gets fresh ones, created with their parents and references by callers the rules let
//! create them, so no request depends on what another one did.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::atomic::Ordering::Relaxed;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use serde_json::{Value, json};

use super::{Accounts, ROLE_CALLERS, Uses, decide, json_inner, needs_value, sample, text_fits};
use crate::ir::{
    AuthRule, Entity, Expr, Field, FieldType, Ir, OpKind, Operation, ResourceId, Step,
};
use crate::lower::rust::authz;
use crate::lower::rust::resource::option_str;
use crate::lower::rust::types::{self, ident};
use crate::lower::rust::view::{self, Item, Shape};

/// Parents and references nest at most this deep.
const MAX_DEPTH: usize = 5;

/// `tests/api/access.rs`, when the service has accounts and some operation can be tested.
pub fn access_rs(
    ir: &Ir,
    accounts: &Accounts,
    skipped: &[Vec<usize>],
    uses: &Uses,
) -> Option<TokenStream> {
    let roles = &accounts.other_roles[..accounts.other_roles.len().min(ROLE_CALLERS.len())];
    let helpers = Helpers::default();
    let memo = Memo::default();
    let mut cases = Vec::new();
    for (i, resource) in ir.resources.iter().enumerate() {
        let rid = ResourceId(crate::ir::id32(i));
        for (n, op) in resource.operations.iter().enumerate() {
            if skipped.get(i).is_some_and(|s| s.contains(&n)) {
                continue;
            }
            let matrix = Matrix {
                ir,
                accounts,
                roles,
                skipped,
                helpers: &helpers,
                memo: &memo,
            };
            cases.extend(matrix.case(rid, op));
        }
    }
    if cases.is_empty() {
        return None;
    }
    let owner_roles = cases.iter().any(|c| c.owner_role.is_some());
    helpers.owner_roles.set(owner_roles);
    if !roles.is_empty() || owner_roles {
        uses.sign_up_as.store(true, Relaxed);
    }
    let tests: Vec<TokenStream> = cases.iter().map(|c| c.render(owner_roles)).collect();
    Some(file(roles, &helpers, &tests))
}

/// The file around the tests: the callers and the helpers the tests use.
fn file(roles: &[String], helpers: &Helpers, tests: &[TokenStream]) -> TokenStream {
    let role_fields: Vec<syn::Ident> = roles.iter().map(|r| role_field(r)).collect();
    let role_variants: Vec<syn::Ident> = roles.iter().map(|r| role_variant(r)).collect();
    let role_labels = roles
        .iter()
        .map(|r| format!("another account with role `{r}`"));
    let role_docs = roles
        .iter()
        .map(|r| format!(" An account granted `{r}` that owns nothing."));
    let role_sign_ups = roles
        .iter()
        .zip(ROLE_CALLERS.iter())
        .map(|(role, who)| quote!(app.sign_up_as(#who, #role).await));
    // The owner signs up with a role only where some resource's create needs one.
    let (owner_param, owner) = if helpers.owner_roles.get() {
        (
            quote!(owner_role: Option<&str>),
            quote! {
                match owner_role {
                    Some(role) => app.sign_up_as("alice", role).await,
                    None => app.sign_up("alice").await,
                }
            },
        )
    } else {
        (quote!(), quote!(app.sign_up("alice").await))
    };
    let sign_up = quote! {
        async fn sign_up(app: &TestApp, #owner_param) -> Callers {
            Callers {
                owner: #owner,
                user: app.sign_up("bob").await,
                #(#role_fields: #role_sign_ups,)*
            }
        }
    };
    let listing = helpers.lists.get().then(|| {
        quote! {
            /// Checks that a page (under `envelope`, if any) lists `record`, found by its
            /// `key`, exactly when `caller` may see it.
            fn assert_listing(page: &Value, envelope: Option<&str>, key: &str, record: &Value, caller: Caller, visible: bool) {
                let items = envelope.map_or(page, |e| &page[e]);
                let listed = items.as_array().is_some_and(|items| items.iter().any(|item| item[key] == record[key]));
                let what = if visible { "does not list" } else { "lists, though they may not see it," };
                assert_eq!(listed, visible, "the page {caller} gets {what} {}: {page}", record[key]);
            }
        }
    });
    let let_through = helpers.allowed.get().then(|| {
        quote! {
            /// Sends a request to a hand-written handler the rules let `caller` through to:
            /// whatever it answers, it is not a refusal (401, 403 or `denied`).
            async fn expect_let_through(&self, app: &TestApp, caller: Caller, method: &str, path: &str, body: Option<Value>, denied: u16) {
                let (status, body) = app.send(method, path, self.token(caller), body).await;
                let let_through = ![401, 403, denied].contains(&status.as_u16());
                assert!(let_through, "{method} {path} as {caller}: refused with {status}: {body}");
            }
        }
    });
    let fit = helpers.fit.get().then(|| {
        quote! {
            /// `text` shortened so that it and `suffix` fit in `max` characters, then `suffix`.
            fn fit(text: &str, suffix: &str, max: usize) -> String {
                let keep = max.saturating_sub(suffix.chars().count());
                text.chars().take(keep).chain(suffix.chars()).collect()
            }
        }
    });
    let letters = helpers.letters.get().then(|| {
        quote! {
            /// `n` in letters, for fields that take no digits: `a` to `z`, then `ba`, `bb`...
            fn letters(mut n: usize) -> String {
                const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
                let mut out = Vec::new();
                loop {
                    out.push(char::from(ALPHABET[n % 26]));
                    n /= 26;
                    if n == 0 {
                        break;
                    }
                }
                out.into_iter().rev().collect()
            }
        }
    });
    let seeds = helpers.seeds.take().into_values();
    quote! {
        //! The authorization matrix: each operation sent anonymously, by the owner of the
        //! records it touches, by another user and by an account of each role, answers what
        //! the spec's rules give, and lists show each caller exactly the records they may see.
        //! Every request gets records of its own, created through the API just before it.

        #[allow(unused_imports)]
        use serde_json::{json, Value};

        use crate::helpers::TestApp;

        /// The signed-in callers of a matrix test.
        struct Callers {
            /// Creates the records; holds the role creating them needs, if any.
            owner: String,
            /// An account with the default role that owns nothing.
            user: String,
            #(#[doc = #role_docs] #role_fields: String,)*
        }

        /// Who sends a matrix request.
        #[derive(Debug, Clone, Copy)]
        enum Caller {
            Anonymous,
            Owner,
            User,
            #(#role_variants,)*
        }

        impl std::fmt::Display for Caller {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(match self {
                    Caller::Anonymous => "an anonymous caller",
                    Caller::Owner => "the owner",
                    Caller::User => "another user",
                    #(Caller::#role_variants => #role_labels,)*
                })
            }
        }

        impl Callers {
            #sign_up

            fn token(&self, caller: Caller) -> Option<&str> {
                match caller {
                    Caller::Anonymous => None,
                    Caller::Owner => Some(&self.owner),
                    Caller::User => Some(&self.user),
                    #(Caller::#role_variants => Some(&self.#role_fields),)*
                }
            }

            /// Sends a request as `caller`, checks its status and answers its body.
            async fn expect(&self, app: &TestApp, caller: Caller, method: &str, path: &str, body: Option<Value>, status: u16) -> Value {
                let (answered, body) = app.send(method, path, self.token(caller), body).await;
                assert_eq!(answered, status, "{method} {path} as {caller}: {body}");
                body
            }

            #let_through
        }

        /// Creates a record a request needs; answers it without its envelope.
        async fn create(app: &TestApp, path: &str, token: &str, body: Value, envelope: Option<&str>) -> Value {
            let (status, created) = app.send("POST", path, Some(token), Some(body)).await;
            assert!(status.is_success(), "creating a record the test needs, POST {path}: {status} {created}");
            envelope.map_or(created.clone(), |e| created[e].clone())
        }

        /// A record's `field` as a path segment.
        fn param(record: &Value, field: &str) -> String {
            match &record[field] {
                Value::String(text) => text.clone(),
                Value::Null => panic!("no `{field}` in {record}"),
                other => other.to_string(),
            }
        }

        #listing
        #fit
        #letters

        #(#seeds)*

        #(#tests)*
    }
}

/// Which helpers some test uses (an unused one is a warning in the generated crate).
#[derive(Default)]
struct Helpers {
    /// Some test's owner holds a role other than the default.
    owner_roles: Cell<bool>,
    lists: Cell<bool>,
    allowed: Cell<bool>,
    fit: Cell<bool>,
    letters: Cell<bool>,
    /// The function creating records of each resource the tests seed.
    seeds: RefCell<BTreeMap<ResourceId, TokenStream>>,
}

/// The callers every matrix has; a role with one of their names gets a `_role` suffix, so
/// a spec's `owner` or `user` role does not declare a second `Caller::Owner` or `owner`.
const FIXED_CALLERS: [&str; 3] = ["anonymous", "owner", "user"];

fn role_name(role: &str) -> String {
    let name = crate::ir::names::snake_case(role);
    if FIXED_CALLERS.contains(&name.as_str()) {
        format!("{name}_role")
    } else {
        name
    }
}

fn role_field(role: &str) -> syn::Ident {
    ident(&role_name(role))
}

fn role_variant(role: &str) -> syn::Ident {
    types::type_ident(&role_name(role))
}

/// Who sends a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Anonymous,
    Owner,
    User,
    /// The account of `roles[i]`.
    Role(usize),
}

/// What a matrix cell expects.
enum Expect {
    Status(u16),
    /// A hand-written handler runs: anything but a refusal (401, 403 or the given status).
    LetThrough(u16),
}

struct Matrix<'a> {
    ir: &'a Ir,
    accounts: &'a Accounts,
    roles: &'a [String],
    skipped: &'a [Vec<usize>],
    helpers: &'a Helpers,
    memo: &'a Memo<'a>,
}

/// What every test asks again, worked out once per build: the matrix seeds thousands of
/// records on a large spec.
#[derive(Default)]
struct Memo<'a> {
    /// How records fill each field in, by entity name and field index.
    fills: RefCell<HashMap<(&'a str, usize), Rc<Fill>, foldhash::fast::FixedState>>,
    /// The owner's role per resource.
    owner_roles: RefCell<HashMap<ResourceId, Option<&'a str>>>,
}

impl<'a> Matrix<'a> {
    /// The test of one operation, when svcc can tell what every caller gets.
    fn case(&self, rid: ResourceId, op: &Operation) -> Option<Case> {
        let rule = &op.auth.as_ref()?.value;
        if !matches!(
            op.kind,
            OpKind::Get
                | OpKind::List
                | OpKind::Create
                | OpKind::Update
                | OpKind::Delete
                | OpKind::Action
                | OpKind::Link
        ) {
            return None;
        }
        let owner_role = self.owner_role(rid);
        let mut seeder = Seeder::new(self, owner_role);
        // A list's cells may not all look at their record, which would leave shared
        // parents unused; every other operation's cells use theirs.
        seeder.share = op.kind != OpKind::List;
        let mut cells = Vec::new();
        for who in self.everyone() {
            cells.push(seeder.cell(rid, op, rule, who)?);
        }
        let shared = seeder.shared;
        let resource = self.ir.resource(rid);
        Some(Case {
            name: format_ident!("{}_{}", resource.name, op.name),
            shared,
            owner_role: owner_role
                .filter(|r| Some(*r) != self.accounts.default_role.as_deref())
                .map(str::to_string),
            cells: super::table::fold(cells),
        })
    }

    fn everyone(&self) -> Vec<Who> {
        let mut all = vec![Who::Anonymous, Who::Owner, Who::User];
        all.extend((0..self.roles.len()).map(Who::Role));
        all
    }

    /// The owner's role: the default when the owner can then create a record of `rid`,
    /// else the first role that can.
    fn owner_role(&self, rid: ResourceId) -> Option<&'a str> {
        if let Some(role) = self.memo.owner_roles.borrow().get(&rid) {
            return *role;
        }
        let default = self.accounts.default_role.as_deref();
        let role = std::iter::once(default)
            .chain(self.roles.iter().map(|r| Some(r.as_str())))
            .find(|role| {
                let mut seeder = Seeder::new(self, *role);
                seeder
                    .record(rid, Who::Owner, 0)
                    .is_some_and(|node| node.creator == Who::Owner)
            })
            .unwrap_or(default);
        self.memo.owner_roles.borrow_mut().insert(rid, role);
        role
    }

    /// How records fill an entity's field in, worked out once.
    fn fill(&self, entity: &'a Entity, field: usize) -> Rc<Fill> {
        let key = (entity.name.as_str(), field);
        if let Some(fill) = self.memo.fills.borrow().get(&key) {
            return Rc::clone(fill);
        }
        let f = &entity.fields[field];
        let fill = match sample(self.ir, f) {
            None => Fill::Unknown,
            Some(value) => {
                let distinct = match types::storage_type(self.ir, &f.ty) {
                    FieldType::Email => Some(Distinct::Email),
                    FieldType::String | FieldType::Text => {
                        value.as_str().and_then(|text| Distinct::text(f, text))
                    }
                    _ => None,
                };
                match distinct {
                    Some(distinct) => Fill::Distinct(distinct),
                    None if unique(entity, field) => Fill::Unknown,
                    None => Fill::Same(value),
                }
            }
        };
        let fill = Rc::new(fill);
        self.memo.fills.borrow_mut().insert(key, Rc::clone(&fill));
        fill
    }
}

/// How the records a test creates fill a field in.
enum Fill {
    /// The same valid value in every record.
    Same(Value),
    /// A valid value of each record's own, from the record's number (text and e-mail
    /// fields, which unique indexes may cover).
    Distinct(Distinct),
    /// svcc cannot be sure of a valid value.
    Unknown,
}

/// A value made distinct by a record's number `n`.
enum Distinct {
    /// `sample{n}@example.com`.
    Email,
    /// `text` followed by `n` written as `suffix`, cut to at most `max` characters.
    Text {
        text: String,
        suffix: Suffix,
        max: Option<usize>,
    },
}

/// How a number is written at the end of a text.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Suffix {
    Digits,
    Dashed,
    Letters,
    UpperLetters,
}

/// The highest record number a test may give; `Distinct::text` checks the numbers up to it.
const MAX_NUMBER: usize = 9999;

impl Distinct {
    /// The first way of writing numbers after `text` that keeps the field valid for every
    /// number a test may give: the ones where the length changes or letters roll over.
    fn text(f: &Field, text: &str) -> Option<Distinct> {
        const PROBES: [usize; 12] = [1, 9, 10, 25, 26, 99, 100, 675, 676, 999, 1000, MAX_NUMBER];
        let max = f
            .length
            .and_then(|b| b.max)
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        let length = text.chars().count();
        [
            Suffix::Digits,
            Suffix::Dashed,
            Suffix::Letters,
            Suffix::UpperLetters,
        ]
        .into_iter()
        .map(|suffix| Distinct::Text {
            text: text.to_string(),
            suffix,
            // A limit no value reaches needs no cutting.
            max: max.filter(|&m| m < length + suffix.of(MAX_NUMBER).chars().count()),
        })
        .find(|distinct| PROBES.iter().all(|&n| text_fits(f, &distinct.value(n))))
    }

    /// The value of record `n`, as the generated expression computes it.
    fn value(&self, n: usize) -> String {
        match self {
            Distinct::Email => format!("sample{n}@example.com"),
            Distinct::Text { text, suffix, max } => {
                let suffix = suffix.of(n);
                let keep = max.map_or(usize::MAX, |max| max.saturating_sub(suffix.chars().count()));
                text.chars().take(keep).chain(suffix.chars()).collect()
            }
        }
    }

    /// The expression computing the value from `n`; marks the helpers it calls.
    fn expr(&self, helpers: &Helpers) -> TokenStream {
        let (text, suffix, max) = match self {
            Distinct::Email => return quote!(format!("sample{n}@example.com")),
            Distinct::Text { text, suffix, max } => (text, *suffix, *max),
        };
        if matches!(suffix, Suffix::Letters | Suffix::UpperLetters) {
            helpers.letters.set(true);
        }
        let number = match suffix {
            Suffix::Digits => quote!(n.to_string()),
            Suffix::Dashed => quote!(format!("-{n}")),
            Suffix::Letters => quote!(letters(n)),
            Suffix::UpperLetters => quote!(letters(n).to_uppercase()),
        };
        match max {
            Some(max) => {
                helpers.fit.set(true);
                let max = proc_macro2::Literal::usize_unsuffixed(max);
                quote!(fit(#text, &#number, #max))
            }
            None => {
                let format = text.replace('{', "{{").replace('}', "}}");
                match suffix {
                    Suffix::Digits => {
                        let format = format!("{format}{{n}}");
                        quote!(format!(#format))
                    }
                    Suffix::Dashed => {
                        let format = format!("{format}-{{n}}");
                        quote!(format!(#format))
                    }
                    _ => {
                        let format = format!("{format}{{}}");
                        quote!(format!(#format, #number))
                    }
                }
            }
        }
    }
}

impl Suffix {
    fn of(self, n: usize) -> String {
        match self {
            Suffix::Digits => n.to_string(),
            Suffix::Dashed => format!("-{n}"),
            Suffix::Letters => letters(n),
            Suffix::UpperLetters => letters(n).to_uppercase(),
        }
    }
}

/// `n` in letters, as the generated `letters` writes it: `a` to `z`, then `ba`, `bb`...
fn letters(mut n: usize) -> String {
    const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(char::from(ALPHABET[n % 26]));
        n /= 26;
        if n == 0 {
            break;
        }
    }
    out.into_iter().rev().collect()
}

/// The matrix of one operation.
struct Case {
    name: syn::Ident,
    /// Records every cell uses as they are: parents and references.
    shared: Vec<TokenStream>,
    /// The owner's role, when not the default.
    owner_role: Option<String>,
    cells: Vec<TokenStream>,
}

impl Case {
    /// The test; `owner_roles` when `Callers::sign_up` takes the owner's role.
    fn render(&self, owner_roles: bool) -> TokenStream {
        let name = &self.name;
        let shared = &self.shared;
        let cells = &self.cells;
        let owner_role = owner_roles.then(|| match &self.owner_role {
            Some(role) => quote!(, Some(#role)),
            None => quote!(, None),
        });
        quote! {
            #[tokio::test]
            async fn #name() {
                let app = TestApp::spawn().await;
                let callers = Callers::sign_up(&app #owner_role).await;
                #(#shared)*
                #(#cells)*
            }
        }
    }
}

/// A record a request needs (or the one a create makes), as far as the rules care.
#[derive(Clone)]
struct Node {
    var: syn::Ident,
    /// An account's key, known when the test is written (`alice`): no variable holds it.
    literal_key: Option<String>,
    creator: Who,
    /// Parent and reference fields, with the records they point at; counted, as a test's
    /// shared parent is handed to each of its cells.
    refs: Vec<(usize, Rc<Node>)>,
    /// Fields the create filled with its caller.
    caller_fields: Vec<usize>,
    /// The values the create sent, by field.
    values: Vec<(usize, Sent)>,
}

impl Node {
    /// Whether the record's `steps` lead to `who`; `None` through a collection.
    fn leads_to(&self, steps: &[Step], who: Who) -> Option<bool> {
        match steps {
            [] | [Step::Collection(_), ..] => None,
            [Step::Field { field, .. }] => {
                Some(self.creator == who && self.caller_fields.contains(field))
            }
            [Step::Field { field, .. }, rest @ ..] => {
                match self.refs.iter().find(|(f, _)| f == field) {
                    Some((_, node)) => node.leads_to(rest, who),
                    None => Some(false),
                }
            }
        }
    }
}

/// What a create sends: the records its path and body name, and its values.
#[derive(Default)]
struct Prepared {
    /// The path parameters naming the parents.
    bindings: Vec<Binding>,
    refs: Vec<(usize, Rc<Node>)>,
    /// The values sent, by field.
    values: Vec<(usize, Sent)>,
    /// The number making the record's values distinct, when some must be.
    number: Option<usize>,
    /// The seed function's arguments after the number: each parent's key as a path
    /// segment, then each referenced record.
    args: Vec<TokenStream>,
    /// The seed function, unless the file has it already.
    seed: Option<SeedFn>,
}

impl Prepared {
    /// The body of the create, as a `json!`.
    fn body(&self, ir: &Ir, entity: &Entity) -> TokenStream {
        let entries = self.values.iter().map(|(i, v)| {
            let name = types::json_name(ir, &entity.fields[*i]);
            let v = v.tokens();
            quote!(#name: #v)
        });
        quote!(json!({ #(#entries),* }))
    }
}

/// A value a create sends. Tokens are built only for the values a test spells out: most
/// records come from seed functions, which take a number instead.
#[derive(Clone)]
enum Sent {
    Literal(Value),
    /// The key of a record created before, `var[key]`.
    Key {
        var: syn::Ident,
        key: String,
    },
}

impl Sent {
    fn tokens(&self) -> TokenStream {
        match self {
            Sent::Literal(value) => json_inner(value),
            Sent::Key { var, key } => quote!(#var[#key]),
        }
    }
}

/// A resource's seed function: creates a record through the API as the given caller.
#[derive(Default)]
struct SeedFn {
    /// Parameters after `app`, `token` and `n`: names, and whether each is a parent's key.
    params: Vec<(syn::Ident, bool)>,
    /// The parents' path parameters, and the parameters holding their keys.
    parents: Vec<(String, syn::Ident)>,
    /// Body entries, in terms of the parameters.
    entries: Vec<TokenStream>,
    /// Whether some value comes from the record's number `n`.
    numbered: bool,
}

impl SeedFn {
    fn parent(&mut self, path_param: &str) {
        let param = self.param(path_param, true);
        self.parents.push((path_param.to_string(), param));
    }

    fn reference(&mut self, field: &str) -> syn::Ident {
        self.param(field, false)
    }

    /// A parameter named after `name`, numbered when the name is taken.
    fn param(&mut self, name: &str, parent: bool) -> syn::Ident {
        let base = crate::ir::names::snake_case(name);
        let mut candidate = base.clone();
        let mut n = 1;
        while ["app", "token", "n"].contains(&candidate.as_str())
            || self.params.iter().any(|(p, _)| *p == candidate)
        {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        let ident = ident(&candidate);
        self.params.push((ident.clone(), parent));
        ident
    }

    /// The function `name`, creating through `rid`'s create `op`; `None` when its path
    /// names a parameter that is not a parent.
    fn definition(
        &self,
        ir: &Ir,
        name: &syn::Ident,
        rid: ResourceId,
        op: &Operation,
    ) -> Option<TokenStream> {
        let resource = ir.resource(rid);
        let base = ir.service.base_path.trim_end_matches('/');
        let mut format = base.replace('{', "{{").replace('}', "}}");
        for segment in op.path.split('/').filter(|s| !s.is_empty()) {
            format.push('/');
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(param) => {
                    let (_, ident) = self.parents.iter().find(|(p, _)| p == param)?;
                    format.push_str(&format!("{{{ident}}}"));
                }
                None => format.push_str(segment),
            }
        }
        let path = if self.parents.is_empty() {
            quote!(#format)
        } else {
            quote!(&format!(#format))
        };
        let number = self.numbered.then(|| quote!(n: usize,));
        let params = self.params.iter().map(|(param, parent)| {
            if *parent {
                quote!(#param: &str)
            } else {
                quote!(#param: &Value)
            }
        });
        let entries = &self.entries;
        let envelope = option_str(resource.envelope.as_ref());
        let doc = format!(
            " A new record through `POST {}{}`, created by `token`.",
            base, op.path
        );
        Some(quote! {
            #[doc = #doc]
            async fn #name(app: &TestApp, token: &str, #number #(#params),*) -> Value {
                create(app, #path, token, json!({ #(#entries),* }), #envelope).await
            }
        })
    }
}

/// Writes the statements that create records, numbering their variables and the unique
/// values they carry.
struct Seeder<'m, 'a> {
    ir: &'a Ir,
    matrix: &'m Matrix<'a>,
    owner_role: Option<&'m str>,
    statements: Vec<TokenStream>,
    /// Variable names taken in the current cell.
    names: Vec<String>,
    /// Whether parents and references are created once for all cells.
    share: bool,
    /// The test's shared records: statements, variable names, and the records by the
    /// resource and caller they were asked for.
    shared: Vec<TokenStream>,
    shared_names: Vec<String>,
    created: Vec<((ResourceId, Who), Node)>,
    /// Statements and names go to the shared lists while a shared record is prepared.
    sharing: bool,
    /// Numbers the distinct values of the whole test.
    count: usize,
}

impl<'m, 'a> Seeder<'m, 'a> {
    fn new(matrix: &'m Matrix<'a>, owner_role: Option<&'m str>) -> Self {
        Seeder {
            ir: matrix.ir,
            matrix,
            owner_role,
            statements: Vec::new(),
            names: Vec::new(),
            share: false,
            shared: Vec::new(),
            shared_names: Vec::new(),
            created: Vec::new(),
            sharing: false,
            count: 0,
        }
    }

    fn role(&self, who: Who) -> Option<&str> {
        match who {
            Who::Anonymous => None,
            Who::Owner => self.owner_role,
            Who::User => self.matrix.accounts.default_role.as_deref(),
            Who::Role(i) => Some(self.matrix.roles[i].as_str()),
        }
    }

    /// `who` as the generated `Caller`.
    fn caller(&self, who: Who) -> TokenStream {
        match who {
            Who::Anonymous => quote!(Caller::Anonymous),
            Who::Owner => quote!(Caller::Owner),
            Who::User => quote!(Caller::User),
            Who::Role(i) => {
                let variant = role_variant(&self.matrix.roles[i]);
                quote!(Caller::#variant)
            }
        }
    }

    fn creator_token(&self, who: Who) -> TokenStream {
        match who {
            Who::Owner => quote!(&callers.owner),
            Who::User => quote!(&callers.user),
            Who::Role(i) => {
                let field = role_field(&self.matrix.roles[i]);
                quote!(&callers.#field)
            }
            Who::Anonymous => quote!(""),
        }
    }

    /// Whether `rule` lets `who` act on `record` (a record's rule needs one).
    fn passes(&self, rule: &AuthRule, who: Who, record: Option<&Node>) -> Option<bool> {
        let signed_in = who != Who::Anonymous;
        let role = self.role(who);
        decide(rule, &|leaf| match leaf {
            AuthRule::Public => Some(true),
            AuthRule::Authenticated => Some(signed_in),
            AuthRule::Role(r) => Some(signed_in && role == Some(r.as_str())),
            AuthRule::Owner(path) if signed_in => record?.leads_to(&path.steps, who),
            AuthRule::Owner(_) | AuthRule::ApiKey(_) => Some(false),
            _ => None,
        })
    }

    /// One cell: fresh records, the request as `who`, and the check of its answer.
    fn cell(
        &mut self,
        rid: ResourceId,
        op: &Operation,
        rule: &AuthRule,
        who: Who,
    ) -> Option<TokenStream> {
        self.statements.clear();
        self.names.clear();
        let ir = self.ir;
        let resource = ir.resource(rid);
        let entity = ir.entity(resource.entity);
        let method = op.method.as_str();
        let caller = self.caller(who);
        let (path, body, record, listing) = match op.kind {
            OpKind::Create => {
                let prepared = self.prepare(rid, op, Who::Owner, 0)?;
                let path = self.path(&op.path, &prepared.bindings)?;
                let body = prepared.body(ir, entity);
                let new = Node {
                    var: format_ident!("created"),
                    literal_key: None,
                    creator: who,
                    refs: prepared.refs,
                    caller_fields: caller_fields(entity, op),
                    values: Vec::new(),
                };
                (path, Some(body), Some(new), None)
            }
            OpKind::List => {
                // A record of the owner's to look for in the page, when the answer is one.
                let mark = (self.statements.len(), self.names.len());
                let node = self.record(rid, Who::Owner, 0);
                let expect = expectation(op, rule, who, self.passes(rule, who, node.as_ref())?)?;
                let listable = matches!(expect, Expect::Status(200))
                    && op.list.as_ref().is_some_and(|l| l.scope.is_none())
                    && op.pluck.is_none()
                    && shows(ir, rid, op, resource.key);
                match node
                    .as_ref()
                    .filter(|n| listable && n.literal_key.is_none())
                {
                    Some(n) => {
                        let key = types::json_name(ir, &entity.fields[resource.key]);
                        let var = &n.var;
                        let envelope =
                            option_str(op.envelope.as_ref().or(resource.list_envelope.as_ref()));
                        let path = self.path(&op.path, &bindings(ir, rid, n))?;
                        let listing = quote!(#envelope, #key, &#var);
                        (path, None, node, Some(listing))
                    }
                    None => {
                        // Only the parents the path names.
                        self.statements.truncate(mark.0);
                        self.names.truncate(mark.1);
                        let mut parents = Vec::new();
                        for (field, parent) in &resource.parents {
                            parents.push(self.parent(entity, *field, *parent, Who::Owner, 1)?.1);
                        }
                        (self.path(&op.path, &parents)?, None, node, None)
                    }
                }
            }
            _ => {
                // A singleton is each caller's own record.
                let node = if resource.singleton {
                    self.account(rid, who)?
                } else {
                    self.record(rid, Who::Owner, 0)?
                };
                let bindings = bindings(ir, rid, &node);
                let path = self.path(&op.path, &bindings)?;
                let body = match op.kind {
                    OpKind::Update => Some(self.update_body(entity, op, &node)?),
                    _ => None,
                };
                (path, body, Some(node), None)
            }
        };
        let passes = self.passes(rule, who, record.as_ref())?;
        let expect = expectation(op, rule, who, passes)?;
        let body = match body {
            Some(b) => quote!(Some(#b)),
            None => quote!(None),
        };
        let (path_let, path_arg) = path.bind();
        let check = match expect {
            Expect::Status(code) => {
                let status = proc_macro2::Literal::u16_unsuffixed(code);
                let send =
                    quote!(callers.expect(&app, #caller, #method, #path_arg, #body, #status).await);
                match listing.filter(|_| code == 200) {
                    Some(listing) => {
                        self.matrix.helpers.lists.set(true);
                        quote! {
                            let page = #send;
                            assert_listing(&page, #listing, #caller, #passes);
                        }
                    }
                    None => quote!(#send;),
                }
            }
            Expect::LetThrough(denied) => {
                self.matrix.helpers.allowed.set(true);
                let denied = proc_macro2::Literal::u16_unsuffixed(denied);
                quote!(callers.expect_let_through(&app, #caller, #method, #path_arg, #body, #denied).await;)
            }
        };
        let statements = &self.statements;
        if statements.is_empty() && path_let.is_empty() {
            return Some(check);
        }
        Some(quote! {
            {
                #(#statements)*
                #path_let
                #check
            }
        })
    }

    /// A new record of `rid` created by `who` when its rule lets them, else by the first
    /// role that may; `None` when nobody can or svcc cannot fill its create in.
    fn record(&mut self, rid: ResourceId, who: Who, depth: usize) -> Option<Node> {
        if self
            .ir
            .auth
            .as_ref()
            .is_some_and(|a| a.identity == self.ir.resource(rid).entity)
        {
            return self.account(rid, who);
        }
        let shared = self.share && depth > 0;
        if shared && let Some((_, node)) = self.created.iter().find(|(key, _)| *key == (rid, who)) {
            return Some(node.clone());
        }
        let (creating, op) = creator_of(self.ir, rid, self.matrix.skipped)?;
        let rule = &op.auth.as_ref()?.value;
        let entity = self.ir.entity(self.ir.resource(creating).entity);
        // Each creator once: trying one again after it failed fails again, and did so for
        // every parent in the chain, doubling the search at each level.
        let mut candidates = vec![who];
        candidates.extend(
            (0..self.matrix.roles.len())
                .map(Who::Role)
                .filter(|role| *role != who),
        );
        for creator in candidates {
            let mark = self.mark();
            let outer = std::mem::replace(&mut self.sharing, shared);
            let prepared = self.prepare(creating, op, creator, depth);
            self.sharing = outer;
            if let Some(prepared) = prepared {
                let node = Node {
                    var: self.name(&crate::ir::names::snake_case(&entity.name), shared),
                    literal_key: None,
                    creator,
                    refs: prepared.refs,
                    caller_fields: caller_fields(entity, op),
                    values: prepared.values,
                };
                let key = self.ir.resource(rid).key;
                if self.passes(rule, creator, Some(&node)) == Some(true)
                    && shows(self.ir, creating, op, key)
                {
                    let seed = self.seed_fn(creating, op, prepared.seed.as_ref())?;
                    let var = &node.var;
                    let token = self.creator_token(creator);
                    let number = prepared
                        .number
                        .map(proc_macro2::Literal::usize_unsuffixed)
                        .map(|n| quote!(#n,));
                    let args = &prepared.args;
                    let statement = quote! {
                        let #var = #seed(&app, #token, #number #(#args),*).await;
                    };
                    if shared {
                        self.shared.push(statement);
                        self.created.push(((rid, who), node.clone()));
                    } else {
                        self.statements.push(statement);
                    }
                    return Some(node);
                }
            }
            self.rewind(mark);
        }
        None
    }

    /// The name of the function seeding records through `creating`'s create, defined for
    /// the file on first use.
    fn seed_fn(
        &self,
        creating: ResourceId,
        op: &Operation,
        seed: Option<&SeedFn>,
    ) -> Option<syn::Ident> {
        let name = format_ident!(
            "seed_{}",
            crate::ir::names::snake_case(&self.ir.resource(creating).name)
        );
        if let Some(seed) = seed {
            let definition = seed.definition(self.ir, &name, creating, op)?;
            self.matrix
                .helpers
                .seeds
                .borrow_mut()
                .insert(creating, definition);
        }
        Some(name)
    }

    /// Where the statements, names and numbers stand, to go back to after a failed try.
    fn mark(&self) -> [usize; 6] {
        [
            self.statements.len(),
            self.names.len(),
            self.shared.len(),
            self.shared_names.len(),
            self.created.len(),
            self.count,
        ]
    }

    fn rewind(&mut self, [statements, names, shared, shared_names, created, count]: [usize; 6]) {
        self.statements.truncate(statements);
        self.names.truncate(names);
        self.shared.truncate(shared);
        self.shared_names.truncate(shared_names);
        self.created.truncate(created);
        self.count = count;
    }

    /// The account of `who` (signed up by the test) as a record of `rid`, a resource over the
    /// account entity: the caller's own with `singleton = auth.user`, else addressed by a
    /// key the test knows (the login, or a field each caller registers with their name).
    fn account(&mut self, rid: ResourceId, who: Who) -> Option<Node> {
        let ir = self.ir;
        let auth = ir.auth.as_ref()?;
        let resource = ir.resource(rid);
        let entity = ir.entity(auth.identity);
        let literal_key = if resource.singleton {
            None
        } else {
            let name = match who {
                Who::Owner => "alice",
                _ => return None,
            };
            let accounts = self.matrix.accounts;
            let key = types::json_name(ir, &entity.fields[resource.key]);
            let as_email = if resource.key == auth.login_field {
                accounts.email_login
            } else {
                accounts
                    .per_caller
                    .iter()
                    .find(|(field, _)| *field == key)?
                    .1
            };
            Some(if as_email {
                format!("{name}@example.com")
            } else {
                name.to_string()
            })
        };
        Some(Node {
            var: format_ident!("account"),
            literal_key,
            creator: who,
            refs: Vec::new(),
            caller_fields: entity.primary_key.clone(),
            values: Vec::new(),
        })
    }

    /// The parents, references and values of a create of `rid` by `who`: the request
    /// itself, and the call of the resource's seed function that makes the same record.
    fn prepare(
        &mut self,
        rid: ResourceId,
        op: &Operation,
        who: Who,
        depth: usize,
    ) -> Option<Prepared> {
        if depth > MAX_DEPTH {
            return None;
        }
        let ir = self.ir;
        let resource = ir.resource(rid);
        let entity = ir.entity(resource.entity);
        let mut prepared = Prepared::default();
        // Only the first record of a resource defines its seed function.
        let mut seed =
            (!self.matrix.helpers.seeds.borrow().contains_key(&rid)).then(SeedFn::default);
        // Parents by the same caller when they may, so the record hangs under their own.
        for (field, parent) in &resource.parents {
            let (node, binding) = self.parent(entity, *field, *parent, who, depth + 1)?;
            prepared.args.push(match &binding.literal {
                Some(literal) => quote!(#literal),
                None => {
                    let key = self.key_var(&binding);
                    quote!(&#key)
                }
            });
            if let Some(seed) = &mut seed {
                seed.parent(&binding.param);
            }
            prepared.bindings.push(binding);
            prepared.refs.push((*field, Rc::new(node)));
        }
        let mut n = None;
        for &i in op.writable_fields() {
            let f = &entity.fields[i];
            let name = types::json_name(ir, f);
            if let FieldType::Ref(target) = &f.ty {
                if !needs_value(f) {
                    continue;
                }
                let target_resource = resource_of(ir, *target, self.matrix.skipped)?;
                let node = self.record(target_resource, who, depth + 1)?;
                let target_entity = ir.entity(*target);
                let pk = *target_entity.primary_key.first()?;
                let (creating, create) = creator_of(ir, target_resource, self.matrix.skipped)?;
                if target_entity.primary_key.len() != 1 || !shows(ir, creating, create, pk) {
                    return None;
                }
                let key = types::json_name(ir, &target_entity.fields[pk]);
                let var = &node.var;
                prepared.values.push((
                    i,
                    Sent::Key {
                        var: var.clone(),
                        key: key.clone(),
                    },
                ));
                prepared.args.push(quote!(&#var));
                if let Some(seed) = &mut seed {
                    let param = seed.reference(&f.name);
                    seed.entries.push(quote!(#name: #param[#key]));
                }
                prepared.refs.push((i, Rc::new(node)));
            } else {
                let fill = self.matrix.fill(entity, i);
                match self.literal(&fill, &mut n) {
                    Some(value) => {
                        if let Some(seed) = &mut seed {
                            seed.entries.push(match &*fill {
                                Fill::Distinct(distinct) => {
                                    seed.numbered = true;
                                    let expr = distinct.expr(self.matrix.helpers);
                                    quote!(#name: #expr)
                                }
                                _ => {
                                    let value = json_inner(&value);
                                    quote!(#name: #value)
                                }
                            });
                        }
                        prepared.values.push((i, Sent::Literal(value)));
                    }
                    None if needs_value(f) => return None,
                    None => {}
                }
            }
        }
        prepared.number = n;
        prepared.seed = seed;
        Some(prepared)
    }

    /// A new parent record, and the path parameter naming it.
    fn parent(
        &mut self,
        entity: &Entity,
        field: usize,
        parent: ResourceId,
        who: Who,
        depth: usize,
    ) -> Option<(Node, Binding)> {
        let node = self.record(parent, who, depth)?;
        let pr = self.ir.resource(parent);
        let binding = Binding {
            param: entity.fields[field].name.clone(),
            var: node.var.clone(),
            key: types::json_name(self.ir, &self.ir.entity(pr.entity).fields[pr.key]),
            literal: node.literal_key.clone(),
        };
        Some((node, binding))
    }

    /// A variable name for a record, of the cell or `shared` by the test: the entity's,
    /// numbered when taken.
    fn name(&mut self, base: &str, shared: bool) -> syn::Ident {
        let mut name = base.to_string();
        let mut n = 1;
        while self.taken(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        if shared {
            self.shared_names.push(name.clone());
        } else {
            self.names.push(name.clone());
        }
        ident(&name)
    }

    fn taken(&self, name: &str) -> bool {
        self.names
            .iter()
            .chain(&self.shared_names)
            .any(|n| n == name)
    }

    /// `op_path` under the base path with each `{param}` bound: the key of a parent named
    /// like it, or else the record's own key. Each key is read into a variable first.
    fn path(&mut self, op_path: &str, bindings: &[Binding]) -> Option<PathExpr> {
        let base = self.ir.service.base_path.trim_end_matches('/');
        let mut format = String::from(base);
        let mut bound = false;
        for segment in op_path.split('/').filter(|s| !s.is_empty()) {
            format.push('/');
            let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                format.push_str(segment);
                continue;
            };
            let binding = bindings
                .iter()
                .find(|b| b.param == name)
                .or_else(|| bindings.iter().find(|b| b.param.is_empty()))?;
            if let Some(literal) = &binding.literal {
                format.push_str(literal);
                continue;
            }
            format.push_str(&format!("{{{}}}", self.key_var(binding)));
            bound = true;
        }
        Some(PathExpr { format, bound })
    }

    /// The variable holding a record's key as a path segment, read on first use.
    fn key_var(&mut self, binding: &Binding) -> syn::Ident {
        let (var, key) = (&binding.var, &binding.key);
        let local = format!("{var}_{}", crate::ir::names::snake_case(key));
        let name = ident(&local);
        if !self.taken(&local) {
            let statement = quote!(let #name = param(&#var, #key););
            if self.sharing {
                self.shared_names.push(local);
                self.shared.push(statement);
            } else {
                self.names.push(local);
                self.statements.push(statement);
            }
        }
        name
    }

    /// An update body: the values the record was created with, others sampled.
    fn update_body(
        &mut self,
        entity: &'a Entity,
        op: &Operation,
        node: &Node,
    ) -> Option<TokenStream> {
        let mut entries = Vec::new();
        let mut n = None;
        for &i in op.writable_fields() {
            let f = &entity.fields[i];
            let name = types::json_name(self.ir, f);
            let value = match node.values.iter().find(|(field, _)| *field == i) {
                Some((_, v)) => Some(v.tokens()),
                None if matches!(f.ty, FieldType::Ref(_)) => None,
                None => self
                    .literal(&self.matrix.fill(entity, i), &mut n)
                    .map(|v| json_inner(&v)),
            };
            match value {
                Some(v) => entries.push(quote!(#name: #v)),
                None if needs_value(f) && !op.partial => return None,
                None => {}
            }
        }
        Some(quote!(json!({ #(#entries),* })))
    }

    /// A valid value filling a field in; `n` numbers the record when the value must be
    /// distinct, and is taken on first use.
    fn literal(&mut self, fill: &Fill, n: &mut Option<usize>) -> Option<Value> {
        match fill {
            Fill::Same(value) => Some(value.clone()),
            Fill::Distinct(distinct) => {
                let n = *n.get_or_insert_with(|| self.next());
                (n <= MAX_NUMBER).then(|| json!(distinct.value(n)))
            }
            Fill::Unknown => None,
        }
    }

    fn next(&mut self) -> usize {
        self.count += 1;
        self.count
    }
}

/// What the rules make of `who` sending `op`, given whether they pass.
fn expectation(op: &Operation, rule: &AuthRule, who: Who, passes: bool) -> Option<Expect> {
    if !passes && who == Who::Anonymous {
        return Some(Expect::Status(401));
    }
    let caller_only = authz::caller_only(rule).ok()?.is_some();
    Some(match (op.kind, passes) {
        (OpKind::Get | OpKind::List, true) => Expect::Status(200),
        (OpKind::Action, true) => Expect::LetThrough(op.deny_status),
        (_, true) => Expect::Status(op.status),
        // Ownership narrows a list instead of refusing it.
        (OpKind::List, false) if !caller_only => Expect::Status(200),
        (OpKind::List, false) => Expect::Status(403),
        // A nested create checks ownership on its parent, which the caller may not see.
        (OpKind::Create, false) if !caller_only => Expect::Status(404),
        (OpKind::Create, false) => Expect::Status(403),
        (_, false) => Expect::Status(op.deny_status),
    })
}

/// The resource whose create makes records for `rid`: its own, or another resource's of
/// the same entity (a flat view of nested records has none).
fn creator_of<'a>(
    ir: &'a Ir,
    rid: ResourceId,
    skipped: &[Vec<usize>],
) -> Option<(ResourceId, &'a Operation)> {
    let entity = ir.resource(rid).entity;
    let own = create_op(ir, rid, skipped).map(|op| (rid, op));
    own.or_else(|| {
        let other = resource_of(ir, entity, skipped)?;
        Some((other, create_op(ir, other, skipped)?))
    })
}

/// The first resource of `entity` with a create svcc can fill in.
fn resource_of(ir: &Ir, entity: crate::ir::EntityId, skipped: &[Vec<usize>]) -> Option<ResourceId> {
    (0..ir.resources.len())
        .map(|i| ResourceId(crate::ir::id32(i)))
        .find(|rid| ir.resource(*rid).entity == entity && create_op(ir, *rid, skipped).is_some())
}

fn create_op<'a>(ir: &'a Ir, rid: ResourceId, skipped: &[Vec<usize>]) -> Option<&'a Operation> {
    let index = rid.index();
    let resource = ir.resource(rid);
    resource
        .operations
        .iter()
        .enumerate()
        .filter(|(n, _)| !skipped.get(index).is_some_and(|s| s.contains(n)))
        .map(|(_, op)| op)
        .find(|op| op.kind == OpKind::Create && !resource.singleton && op.auth.is_some())
}

/// Fields a create fills with its caller: `set { f = auth.user }` and caller defaults.
pub(super) fn caller_fields(entity: &Entity, op: &Operation) -> Vec<usize> {
    op.set
        .iter()
        .filter(|(_, e)| matches!(e, Expr::Caller(steps) if steps.is_empty()))
        .map(|(f, _)| *f)
        .chain(
            entity
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.auto.is_some())
                .map(|(i, _)| i),
        )
        .collect()
}

/// Whether `op` answers with the stored field `field`.
fn shows(ir: &Ir, rid: ResourceId, op: &Operation, field: usize) -> bool {
    let entity = ir.entity(ir.resource(rid).entity);
    match view::shape_of(ir, rid, op) {
        Shape::Record => !types::hidden(entity, field, &entity.fields[field]),
        Shape::View(v) => view::items(ir, rid, v)
            .iter()
            .any(|item| matches!(item, Item::Stored(i) if *i == field)),
    }
}

/// Whether a unique constraint covers the field, so two records may not share its value.
fn unique(entity: &Entity, field: usize) -> bool {
    entity.fields[field].flags.unique
        || entity
            .indexes
            .iter()
            .any(|ix| ix.unique && ix.columns.contains(&field))
}

/// A path parameter's value: the key of the record in `var`.
struct Binding {
    /// The parameter's name; empty for the record's own key.
    param: String,
    var: syn::Ident,
    key: String,
    /// The value itself, when the test knows it.
    literal: Option<String>,
}

/// The path parameters of a record: its parents' keys and its own.
fn bindings(ir: &Ir, rid: ResourceId, node: &Node) -> Vec<Binding> {
    let resource = ir.resource(rid);
    let entity = ir.entity(resource.entity);
    let mut bindings: Vec<Binding> = resource
        .parents
        .iter()
        .filter_map(|(field, parent)| {
            let (_, parent_node) = node.refs.iter().find(|(f, _)| f == field)?;
            let pr = ir.resource(*parent);
            Some(Binding {
                param: entity.fields[*field].name.clone(),
                var: parent_node.var.clone(),
                key: types::json_name(ir, &ir.entity(pr.entity).fields[pr.key]),
                literal: parent_node.literal_key.clone(),
            })
        })
        .collect();
    bindings.push(Binding {
        param: String::new(),
        var: node.var.clone(),
        key: types::json_name(ir, &entity.fields[resource.key]),
        literal: node.literal_key.clone(),
    });
    bindings
}

/// A request path: a literal, or a `format!` of the key variables.
struct PathExpr {
    format: String,
    bound: bool,
}

impl PathExpr {
    /// `let path = ...;` when the path is formatted, and the argument that passes it as a
    /// `&str`.
    fn bind(&self) -> (TokenStream, TokenStream) {
        let format = &self.format;
        if self.bound {
            (quote!(let path = format!(#format);), quote!(&path))
        } else {
            (quote!(), quote!(#format))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_named_like_a_fixed_caller_get_their_own_names() {
        assert_eq!(role_variant("owner").to_string(), "OwnerRole");
        assert_eq!(role_field("User").to_string(), "user_role");
        assert_eq!(role_variant("admin").to_string(), "Admin");
        assert_eq!(role_field("admin").to_string(), "admin");
    }
}
