//! The front end's error codes. Readiness rules keep their codes in `check::registry`;
//! `svcc explain` looks in both.

use std::fmt;

/// A stable diagnostic code such as `E102` or `SVC101`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Code(pub &'static str);

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// One front-end error code and what it means.
#[derive(Debug)]
pub struct ErrorCode {
    pub code: Code,
    pub title: &'static str,
    pub explanation: &'static str,
}

macro_rules! error_codes {
    ($($name:ident = $code:literal, $title:literal, $explanation:literal;)*) => {
        impl Code {
            $(pub const $name: Code = Code($code);)*
        }
        /// Every front-end error code, sorted.
        pub static ERROR_CODES: &[ErrorCode] = &[
            $(ErrorCode { code: Code($code), title: $title, explanation: $explanation },)*
        ];
    };
}

error_codes! {
    SYNTAX = "E001", "syntax error",
        "The text is not valid `.svc` syntax. The message names what the parser expected at that point. Every top-level statement starts with a keyword (`service`, `entity`, `enum`, `type`, `mixin`, `resource`, `policy`, `rate`, `cache`, `auth`, `event`, `use`); svcc resumes at the next one and reports later syntax errors too.";
    IMPORT_NOT_FOUND = "E002", "imported file not found",
        "A `use \"file.svc\"` names a file that does not exist relative to the importing file, or `use std.x` names a module the standard library does not have. Run `svcc std` to list the standard library.";
    IMPORT_CYCLE = "E003", "import cycle",
        "Files import each other in a loop. Declarations are visible across all files of a spec in any order, so a cycle is never needed: import shared declarations from a third file.";
    DUPLICATE = "E101", "duplicate declaration",
        "Two declarations of the same kind share a name (entities, enums, types, mixins, resources, policies, rate and cache policies, events), or an entity has two fields, a resource two operations, a block two settings with the same name.";
    UNKNOWN_TYPE = "E102", "unknown type",
        "A field type is neither a built-in type (`uuid`, `string`, `text`, `int`, `bigint`, `float`, `decimal`, `bool`, `timestamp`, `date`, `json`, `email`, `url`, `password`) nor an enum or `type` alias declared in the spec or its imports.";
    UNKNOWN_ENTITY = "E103", "unknown entity",
        "A `ref`, `many`, `through`, resource or event names an entity that is not declared.";
    UNKNOWN_FIELD = "E104", "unknown field",
        "An index, check, filter, sort, allowlist, policy or expression names a field the entity does not have.";
    UNKNOWN_NAME = "E105", "unknown name",
        "A mixin, policy, rate limit, cache policy, event, handler, view or enum variant is referenced but not declared.";
    UNKNOWN_ATTRIBUTE = "E106", "unknown attribute",
        "An `@attribute` is not one svcc knows in that position. `spec.md` lists the attributes of each construct.";
    BAD_ARGUMENTS = "E107", "invalid arguments",
        "An attribute, call or type received the wrong number or kind of arguments, such as `decimal(2, 5)` (scale larger than precision) or `string(10..1)`.";
    UNKNOWN_SETTING = "E108", "unknown setting",
        "A `key = value` or nested block is not valid in this block. Each block kind accepts a fixed set of settings, listed in `spec.md`.";
    BAD_VALUE = "E109", "invalid value",
        "A setting or expression has the wrong kind of value: a string where a duration is expected, an unknown keyword, a number out of range.";
    MISSING = "E110", "missing required element",
        "Something the spec must state is absent: the `service` block, a resource's entity key, an action's handler, an auth block's identity entity.";
    BAD_DEFAULT = "E111", "invalid default",
        "A `@default(...)` does not fit the field's type: a string default on an int, an unknown enum variant, `now()` on a non-time field, a generated id on a non-id field.";
    FK_CYCLE = "E112", "unbreakable foreign-key cycle",
        "Entities reference each other in a loop where every reference is required. No insertion order can satisfy the constraints. Make one reference in the loop optional (`ref X?` with `on_delete(set_null)`).";
    AMBIGUOUS_RELATION = "E113", "ambiguous or invalid relation",
        "A `many X` collection could be the inverse of several references, of none, or its `@through` entity does not link the two sides. Name the reference with `@via(field)`, or the join's two sides with `@through(Join, from: a, to: b)`.";
    BAD_EXPRESSION = "E114", "invalid expression",
        "An auth rule, predicate, check or computed field uses an operator or function in a place it has no meaning, or compares values of different types.";
    BAD_ROUTE = "E115", "invalid or conflicting route",
        "A path is not absolute, has a parameter that is not a field, or two operations share the same method and path.";
    MIXIN_CYCLE = "E116", "mixin includes itself",
        "A mixin includes itself through a chain of `include`s.";
    DESTRUCTIVE = "E201", "destructive migration step not acknowledged",
        "The spec changed in a way whose migration can lose data or fail on existing rows: a table or column is dropped, a column type narrows, a column becomes required without a default, a primary key changes. svcc writes such a migration only when the spec acknowledges each step by name in the service block: `migrations { acknowledge = [\"orders.legacy_total\", \"old_table\"] }`. Renames are not destructive: write `@renamed_from(\"old_name\")` on the field or entity instead of dropping and adding.";
    MISSING_SNAPSHOT = "E202", "migrations without a schema snapshot",
        "The output directory has migrations but no `migrations/schema.json`, the snapshot of the schema they create. svcc diffs the spec against that snapshot to write the next migration; without it, it cannot know what exists. Restore the file from version control.";
    SKIPPED_ON_SQLITE = "W001", "not available on SQLite",
        "A warning: the spec asks for something SQLite cannot do, such as a GIN index. The SQLite migration leaves it out; PostgreSQL gets it. Queries that rely on it are slower on SQLite, which is meant for development and small deployments.";
    NOT_GENERATED = "W002", "endpoint not generated yet",
        "A warning: the spec declares an operation whose code svcc cannot generate yet (the message names the construct, e.g. link endpoints or computed fields). The service builds and runs, and that endpoint answers 501 Not Implemented with the spec's error shape. The other endpoints work.";
    INTERNAL = "E900", "internal error",
        "svcc produced code it cannot print. This is a bug in svcc, not in the spec: please report it with the spec that triggers it.";
}

/// The explanation of a front-end code, if `code` is one.
pub fn explain_error(code: &str) -> Option<&'static ErrorCode> {
    ERROR_CODES
        .iter()
        .find(|c| c.code.0.eq_ignore_ascii_case(code))
}
