//! The typed, resolved IR. Built once by `ir::lower`, never mutated afterwards.
//! Collections keep declaration order; cross references are typed ids.

use std::collections::BTreeMap;

use crate::source::Span;

macro_rules! id_type {
    ($($name:ident),*) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize { self.0 as usize }
        }
    )*};
}
id_type!(
    EntityId,
    EnumId,
    RelationId,
    CollectionId,
    ResourceId,
    RateId,
    CacheId,
    EventId,
    PolicyId
);

/// An `@allow(CODE, reason: "...")` on a spec element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allow {
    pub code: String,
    pub reason: Option<String>,
    pub span: Span,
}

/// A value known at compile time, or read from the environment at start-up.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    Literal(Value),
    Env {
        name: String,
        default: Option<Value>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    /// Kept as written so output is exact.
    Decimal(String),
    Bool(bool),
    Null,
    /// Milliseconds.
    Duration(u64),
    Ident(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Database {
    Postgres,
    Sqlite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonCase {
    Snake,
    Camel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFormat {
    /// `{ "error": { code, message, details } }`.
    Structured,
    /// RFC 9457 `application/problem+json`.
    Problem,
    /// `{ "errors": { "<field>": ["message"] } }`.
    FieldMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Development,
    Production,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub name: String,
    pub docs: Vec<String>,
    pub version: String,
    pub base_path: String,
    pub databases: Vec<Database>,
    pub database_url: Spanned<ConfigValue>,
    pub port: ConfigValue,
    pub cors_origins: Option<Spanned<ConfigValue>>,
    pub profile: Profile,
    pub json_case: JsonCase,
    pub error_format: ErrorFormat,
    pub default_rate: Option<RateId>,
    /// Error kind (`not_found`, `validation`...) → message text.
    pub messages: BTreeMap<String, String>,
    /// `migrations { acknowledge = [...] }`: destructive migration steps the author accepts,
    /// as `table` or `table.column`.
    pub acknowledged: Vec<String>,
    /// `rules { SVC104 = warning }`: code → "error" | "warning" | "off".
    pub rule_levels: Vec<(String, String, Span)>,
    /// Other deploy settings (`request_timeout`, `body_limit`...), all from the settings schema.
    pub settings: BTreeMap<String, Spanned<ConfigValue>>,
    pub allows: Vec<Allow>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enum {
    pub name: String,
    pub docs: Vec<String>,
    pub variants: Vec<String>,
    /// Doc comments of each variant, in the order of `variants`.
    pub variant_docs: Vec<Vec<String>>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub name: String,
    pub table: String,
    pub docs: Vec<String>,
    pub fields: Vec<Field>,
    /// Indexes into `fields`.
    pub primary_key: Vec<usize>,
    pub indexes: Vec<Index>,
    pub checks: Vec<Check>,
    pub collections: Vec<CollectionId>,
    pub mixins: Vec<String>,
    /// `@renamed_from("Old")`: the entity's previous name, for a table rename migration.
    pub renamed_from: Option<String>,
    /// The field that marks a row deleted (`soft_delete` mixin or `@soft_delete`).
    pub soft_delete: Option<usize>,
    pub allows: Vec<Allow>,
    pub span: Span,
}

impl Entity {
    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        self.fields.iter().enumerate().find(|(_, f)| f.name == name)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub column: String,
    pub docs: Vec<String>,
    pub ty: FieldType,
    /// Name of the `type` alias the type came from, for docs.
    pub alias: Option<String>,
    pub optional: bool,
    pub default: Option<Default>,
    pub flags: FieldFlags,
    pub length: Option<Bounds>,
    pub range: Option<NumRange>,
    pub pattern: Option<String>,
    pub checks: Vec<Expr>,
    pub json_name: Option<String>,
    pub renamed_from: Option<String>,
    /// Set by the service on create/update, e.g. `@on_create(auth.user)`.
    pub auto: Option<AutoValue>,
    pub relation: Option<RelationId>,
    /// The mixin the field came from.
    pub origin: Option<String>,
    pub allows: Vec<Allow>,
    pub span: Span,
    pub type_span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FieldFlags {
    pub primary: bool,
    pub unique: bool,
    pub indexed: bool,
    pub immutable: bool,
    /// Server-managed: never accepted from a client.
    pub readonly: bool,
    pub sensitive: bool,
    pub write_only: bool,
    /// Set to now() on every update.
    pub updated_at: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    pub min: Option<u32>,
    pub max: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumRange {
    pub min: Option<String>,
    pub max: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    Uuid,
    String,
    Text,
    Int,
    BigInt,
    Float,
    Decimal {
        precision: u32,
        scale: u32,
    },
    Bool,
    Timestamp,
    Date,
    Json,
    Email,
    Url,
    /// Write-only, stored as an argon2id hash.
    Password,
    Enum(EnumId),
    /// A foreign key; the column type is the target's primary key type.
    Ref(EntityId),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Default {
    Value(Value),
    EnumVariant(String),
    Now,
    Uuid4,
    Uuid7,
    Identity,
    /// `slugify(title)`: derived from another field on create.
    Slugify(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum AutoValue {
    /// The authenticated caller's id, on create only.
    CallerOnCreate,
    /// The authenticated caller's id, on every write.
    CallerOnWrite,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OnDelete {
    Cascade,
    Restrict,
    SetNull,
    NoAction,
}

impl OnDelete {
    pub fn as_str(self) -> &'static str {
        match self {
            OnDelete::Cascade => "cascade",
            OnDelete::Restrict => "restrict",
            OnDelete::SetNull => "set_null",
            OnDelete::NoAction => "no_action",
        }
    }
}

/// A foreign key: `from.field` references `to`'s primary key.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub from: EntityId,
    pub field: usize,
    pub to: EntityId,
    /// `None` when the spec did not say (a readiness error).
    pub on_delete: Option<OnDelete>,
    pub optional: bool,
    /// `@no_index(reason: "...")`: the spec opts out of the automatic FK index.
    pub index_opt_out: Option<Allow>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    pub owner: EntityId,
    pub name: String,
    pub target: EntityId,
    pub kind: CollectionKind,
    pub json_name: Option<String>,
    /// `@write_by(name)`: clients write the collection as a list of this unique target field;
    /// missing targets are created.
    pub write_by: Option<usize>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CollectionKind {
    /// The rows of `target` whose `relation` points here.
    Inverse { relation: RelationId },
    /// Rows of `target` linked through join rows: `near` points here, `far` at the target.
    ManyToMany {
        through: EntityId,
        near: RelationId,
        far: RelationId,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexMethod {
    BTree,
    Gin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexSource {
    Declared,
    /// From `@unique` / `@indexed` on a field.
    Field,
    /// Added by svcc for a foreign key.
    ForeignKey,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Index {
    pub name: String,
    pub columns: Vec<usize>,
    pub unique: bool,
    pub method: IndexMethod,
    pub predicate: Option<Expr>,
    pub source: IndexSource,
    pub allows: Vec<Allow>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

/// A path from an entity through fields and collections: `author.username`, `likes.user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    pub root: EntityId,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Field { entity: EntityId, field: usize },
    Collection(CollectionId),
}

/// Resolved expressions: predicates, checks, scopes and computed values.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Compare {
        op: CmpOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Field(FieldPath),
    /// The field a `@check` is attached to.
    This,
    /// The authenticated caller (`auth.user`), or a path from it (`auth.user.following`).
    Caller(Vec<Step>),
    Value(Value),
    /// `count(likes)`.
    Count(FieldPath),
    /// `embed(author, profiles)`: the related record in another resource's shape.
    Embed {
        path: FieldPath,
        resource: ResourceId,
    },
}

pub use crate::syntax::ast::CmpOp;

/// Who may call an operation.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthRule {
    Public,
    Authenticated,
    Role(String),
    /// The record's field (or path) equals the caller.
    Owner(FieldPath),
    /// An API key, optionally with a scope role.
    ApiKey(Option<String>),
    /// A boolean predicate over the record and the caller.
    Predicate(Expr),
    And(Vec<AuthRule>),
    Or(Vec<AuthRule>),
    Not(Box<AuthRule>),
}

impl AuthRule {
    /// Whether a caller who is not signed in may pass. `not x` is assumed to let anonymous
    /// callers through, since they hold no role and own nothing.
    pub fn is_public(&self) -> bool {
        match self {
            AuthRule::Public | AuthRule::Not(_) => true,
            AuthRule::Or(rules) => rules.iter().any(AuthRule::is_public),
            AuthRule::And(rules) => rules.iter().all(AuthRule::is_public),
            AuthRule::Authenticated
            | AuthRule::Role(_)
            | AuthRule::Owner(_)
            | AuthRule::ApiKey(_)
            | AuthRule::Predicate(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
/// A named rule; operations that use it get the rule expanded in place.
pub struct Policy {
    pub name: String,
    pub docs: Vec<String>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateKey {
    Ip,
    User,
    ApiKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateAlgorithm {
    TokenBucket,
    SlidingWindow,
    FixedWindow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RatePolicy {
    pub name: String,
    pub docs: Vec<String>,
    pub limit: u32,
    pub window_ms: u64,
    pub key: RateKey,
    pub algorithm: RateAlgorithm,
    pub burst: Option<u32>,
    pub span: Span,
}

/// An operation named as `resource.operation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpRef {
    pub resource: ResourceId,
    pub op: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CachePolicy {
    pub name: String,
    pub docs: Vec<String>,
    pub ttl_ms: Option<u64>,
    pub etag: bool,
    pub control: Option<String>,
    pub invalidated_by: Vec<OpRef>,
    pub allows: Vec<Allow>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub name: String,
    pub docs: Vec<String>,
    pub entity: EntityId,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Auth {
    pub identity: EntityId,
    pub login_field: usize,
    pub password_field: usize,
    pub role_field: Option<usize>,
    pub secret: Spanned<ConfigValue>,
    pub algorithm: String,
    pub hashing: Spanned<String>,
    pub scheme: String,
    pub access_ttl_ms: u64,
    pub refresh_ttl_ms: u64,
    pub issuer: Option<ConfigValue>,
    pub audience: Option<ConfigValue>,
    pub rate: Option<RateId>,
    pub password_min: u32,
    pub password_max: u32,
    pub api_keys: Option<ApiKeys>,
    pub cookies: Option<Cookies>,
    /// Endpoint name (`register`, `login`, `refresh`, `logout`, `me`) → path.
    pub paths: BTreeMap<String, String>,
    /// Wraps the user object in this key (`{ "user": {...} }`).
    pub envelope: Option<String>,
    pub token_field: String,
    pub allows: Vec<Allow>,
    pub span: Span,
}

impl Auth {
    /// The token signature algorithm as JOSE names it: `HS256`, `EdDSA` or `RS256`.
    pub fn algorithm_name(&self) -> &'static str {
        match self.algorithm.as_str() {
            "eddsa" => "EdDSA",
            "rs256" => "RS256",
            _ => "HS256",
        }
    }

    /// An auth endpoint's path below the base path: from `paths`, else `/auth/<endpoint>`.
    pub fn path(&self, endpoint: &str) -> String {
        self.paths
            .get(endpoint)
            .cloned()
            .unwrap_or_else(|| format!("/auth/{endpoint}"))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeys {
    pub header: String,
    pub prefix: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cookies {
    pub name: String,
    pub same_site: String,
    pub secure: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Resource {
    pub name: String,
    pub docs: Vec<String>,
    pub entity: EntityId,
    /// Path relative to the service base path, e.g. `/orders` or `/articles/{post}/comments`.
    pub path: String,
    /// The field clients address records by in paths (primary key by default).
    pub key: usize,
    /// Path parameters bound to a parent record: (`post` ref field, parent resource).
    pub parents: Vec<(usize, ResourceId)>,
    /// `singleton = auth.user`: the resource is the caller's own record.
    pub singleton: bool,
    pub envelope: Option<String>,
    pub list_envelope: Option<String>,
    pub count_field: Option<String>,
    pub computed: Vec<Computed>,
    pub views: Vec<View>,
    pub default_view: Option<usize>,
    pub operations: Vec<Operation>,
    pub allows: Vec<Allow>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    pub name: String,
    pub expr: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub name: String,
    pub fields: Vec<usize>,
    pub collections: Vec<CollectionId>,
    /// Indexes into the resource's `computed`.
    pub computed: Vec<usize>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    List,
    Get,
    Create,
    Update,
    Delete,
    Action,
    Link,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::List => "list",
            OpKind::Get => "get",
            OpKind::Create => "create",
            OpKind::Update => "update",
            OpKind::Delete => "delete",
            OpKind::Action => "action",
            OpKind::Link => "link",
        }
    }

    pub fn writes(self) -> bool {
        matches!(
            self,
            OpKind::Create | OpKind::Update | OpKind::Delete | OpKind::Action | OpKind::Link
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub kind: OpKind,
    /// `list`, `feed`, `checkout`, `favorite`...
    pub name: String,
    pub docs: Vec<String>,
    pub method: Method,
    /// Full path below the base path, e.g. `/orders/{id}/checkout`.
    pub path: String,
    /// `None` when the operation does not declare `auth` (a readiness error).
    pub auth: Option<Spanned<AuthRule>>,
    /// On a denied get/update/delete: 404 (default, hides existence) or 403.
    pub deny_status: u16,
    pub rate: Option<RateId>,
    pub cache: Option<CacheId>,
    pub emits: Vec<EventId>,
    pub status: u16,
    /// Client-writable fields (create/update), `None` when not declared.
    pub fields: Option<Spanned<Vec<usize>>>,
    /// Collections written by value list (`tags`).
    pub collections: Vec<CollectionId>,
    /// Server-set values: field → expression.
    pub set: Vec<(usize, Expr)>,
    /// Update semantics: fields left out are unchanged.
    pub partial: bool,
    pub list: Option<ListSpec>,
    pub handler: Option<String>,
    pub link: Option<LinkSpec>,
    pub view: Option<usize>,
    /// List of plain values: the field to pluck.
    pub pluck: Option<usize>,
    pub envelope: Option<String>,
    pub allows: Vec<Allow>,
    pub span: Span,
}

impl Operation {
    /// The HTTP methods the operation answers: a link also answers DELETE (unlink).
    pub fn methods(&self) -> Vec<Method> {
        let mut methods = vec![self.method];
        if self.kind == OpKind::Link {
            methods.push(Method::Delete);
        }
        methods
    }

    /// The client-writable fields; none when the operation declares none.
    pub fn writable_fields(&self) -> &[usize] {
        self.fields.as_ref().map_or(&[], |f| &f.value)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListSpec {
    pub filters: Vec<Filter>,
    pub sort: Vec<Spanned<usize>>,
    pub default_sort: Option<Spanned<(usize, SortDir)>>,
    pub page_size: Option<u32>,
    pub max_page_size: Option<u32>,
    /// Extra predicate rows must satisfy (`author in auth.user.following`).
    pub scope: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortDir {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Query parameter name.
    pub param: String,
    pub path: FieldPath,
    pub op: FilterOp,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Gte,
    Lte,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LinkSpec {
    pub through: EntityId,
    /// The join's reference to the caller.
    pub caller: RelationId,
    /// The join's reference to the addressed record.
    pub target: RelationId,
}
