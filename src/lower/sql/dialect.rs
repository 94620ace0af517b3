//! What differs between PostgreSQL and SQLite: type names, defaults, and what each supports.

use super::schema::{ColumnDefault, ColumnType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    /// The folder name under `migrations/`.
    pub fn dir(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }

    /// Column type names. SQLite keeps uuids, timestamps and decimals as text: sqlx has no
    /// SQLite `Decimal`, and text timestamps (RFC 3339) sort and read correctly.
    pub fn type_name(self, ty: ColumnType) -> String {
        match (self, ty) {
            (Dialect::Postgres, ColumnType::Uuid) => "UUID".into(),
            (Dialect::Postgres, ColumnType::Text) => "TEXT".into(),
            (Dialect::Postgres, ColumnType::Integer) => "INTEGER".into(),
            (Dialect::Postgres, ColumnType::BigInt) => "BIGINT".into(),
            (Dialect::Postgres, ColumnType::Double) => "DOUBLE PRECISION".into(),
            (Dialect::Postgres, ColumnType::Decimal { precision, scale }) => {
                format!("NUMERIC({precision}, {scale})")
            }
            (Dialect::Postgres, ColumnType::Boolean) => "BOOLEAN".into(),
            (Dialect::Postgres, ColumnType::Timestamp) => "TIMESTAMPTZ".into(),
            (Dialect::Postgres, ColumnType::Date) => "DATE".into(),
            (Dialect::Postgres, ColumnType::Json) => "JSONB".into(),
            (Dialect::Sqlite, ColumnType::Integer | ColumnType::BigInt | ColumnType::Boolean) => {
                "INTEGER".into()
            }
            (Dialect::Sqlite, ColumnType::Double) => "REAL".into(),
            (Dialect::Sqlite, _) => "TEXT".into(),
        }
    }

    /// The SQL of a column default.
    pub fn default_sql(self, d: &ColumnDefault) -> String {
        match (self, d) {
            (Dialect::Postgres, ColumnDefault::Now) => "now()".into(),
            (Dialect::Postgres, ColumnDefault::Today) => "CURRENT_DATE".into(),
            (Dialect::Sqlite, ColumnDefault::Now) => NOW_SQLITE.into(),
            (Dialect::Sqlite, ColumnDefault::Today) => "(date('now'))".into(),
            (Dialect::Postgres, ColumnDefault::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.into(),
            (Dialect::Sqlite, ColumnDefault::Bool(b)) => if *b { "1" } else { "0" }.into(),
            (_, ColumnDefault::Int(i)) => i.to_string(),
            (Dialect::Postgres, ColumnDefault::Number(n)) => n.clone(),
            (Dialect::Sqlite, ColumnDefault::Number(n)) => quote_literal(n),
            (_, ColumnDefault::Text(t)) => quote_literal(t),
        }
    }

    /// A value of the type to fill existing rows with when a down migration restores a
    /// required column that the up migration dropped.
    pub fn zero_value(self, ty: ColumnType) -> &'static str {
        match (self, ty) {
            (_, ColumnType::Integer | ColumnType::BigInt | ColumnType::Double) => "0",
            (Dialect::Postgres, ColumnType::Decimal { .. }) => "0",
            (Dialect::Sqlite, ColumnType::Decimal { .. }) => "'0'",
            (Dialect::Postgres, ColumnType::Boolean) => "FALSE",
            (Dialect::Sqlite, ColumnType::Boolean) => "0",
            (_, ColumnType::Text) => "''",
            (_, ColumnType::Uuid) => "'00000000-0000-0000-0000-000000000000'",
            (Dialect::Postgres, ColumnType::Timestamp) => "now()",
            (Dialect::Sqlite, ColumnType::Timestamp) => NOW_SQLITE,
            (Dialect::Postgres, ColumnType::Date) => "CURRENT_DATE",
            (Dialect::Sqlite, ColumnType::Date) => "(date('now'))",
            (_, ColumnType::Json) => "'{}'",
        }
    }

    /// Whether decimals are stored as text and must be cast to compare numerically.
    pub fn decimal_as_text(self) -> bool {
        self == Dialect::Sqlite
    }
}

/// The current time as RFC 3339 with milliseconds, UTC: how sqlx writes `DateTime<Utc>`
/// to SQLite, so database defaults and application writes sort together.
pub const NOW_SQLITE: &str = "(strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))";

/// A SQL string literal.
pub fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A SQL identifier. Names come from the spec's identifiers (letters, digits, `_`).
pub fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}
