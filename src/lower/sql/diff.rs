//! What changed between two schemas: the steps of an evolution migration. Renames come
//! only from `@renamed_from` in the spec, never from guessing.

use super::schema::{Check, Column, ColumnType, ForeignKey, Index, Schema, Table};

/// The difference between two schemas, table by table, in the new schema's order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SchemaDiff {
    pub created: Vec<Table>,
    /// In reverse dependency order, children first.
    pub dropped: Vec<Table>,
    pub altered: Vec<TableDiff>,
}

impl SchemaDiff {
    pub fn is_empty(&self) -> bool {
        self.created.is_empty() && self.dropped.is_empty() && self.altered.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TableDiff {
    pub before: Table,
    pub after: Table,
    pub renamed: bool,
    /// (old name, new name).
    pub renamed_columns: Vec<(String, String)>,
    pub added_columns: Vec<Column>,
    pub dropped_columns: Vec<Column>,
    /// (before, after), matched by name after renames.
    pub altered_columns: Vec<(Column, Column)>,
    pub added_indexes: Vec<Index>,
    pub dropped_indexes: Vec<Index>,
    pub added_checks: Vec<Check>,
    pub dropped_checks: Vec<Check>,
    pub added_foreign_keys: Vec<ForeignKey>,
    pub dropped_foreign_keys: Vec<ForeignKey>,
    pub primary_key_changed: bool,
    pub trigger_changed: bool,
}

impl TableDiff {
    /// Only index changes and column renames: what every dialect alters in place.
    pub fn is_light(&self) -> bool {
        self.added_columns.is_empty()
            && self.dropped_columns.is_empty()
            && self.altered_columns.is_empty()
            && self.added_checks.is_empty()
            && self.dropped_checks.is_empty()
            && self.added_foreign_keys.is_empty()
            && self.dropped_foreign_keys.is_empty()
            && !self.primary_key_changed
    }

    pub fn is_empty(&self) -> bool {
        self.is_light()
            && !self.renamed
            && self.renamed_columns.is_empty()
            && self.added_indexes.is_empty()
            && self.dropped_indexes.is_empty()
            && !self.trigger_changed
    }

    /// The old name of a column of the new table.
    pub fn old_name<'c>(&'c self, new: &'c str) -> &'c str {
        self.renamed_columns
            .iter()
            .find(|(_, n)| n == new)
            .map_or(new, |(o, _)| o.as_str())
    }
}

/// Renames between two schemas: tables (old, new) and columns (new table, old, new).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Renames {
    pub tables: Vec<(String, String)>,
    pub columns: Vec<(String, String, String)>,
}

impl Renames {
    /// The renames `@renamed_from` declares in `next`, limited to names that exist in `prev`.
    pub fn declared(prev: &Schema, next: &Schema) -> Self {
        let mut out = Renames::default();
        for t in &next.tables {
            let old_table = match &t.renamed_from {
                Some(old)
                    if prev.tables.iter().any(|p| &p.name == old)
                        && !prev.tables.iter().any(|p| p.name == t.name) =>
                {
                    out.tables.push((old.clone(), t.name.clone()));
                    old.clone()
                }
                _ => t.name.clone(),
            };
            let Some(before) = prev.tables.iter().find(|p| p.name == old_table) else {
                continue;
            };
            for c in &t.columns {
                let Some(old) = &c.renamed_from else { continue };
                if before.columns.iter().any(|b| &b.name == old)
                    && !before.columns.iter().any(|b| b.name == c.name)
                {
                    out.columns
                        .push((t.name.clone(), old.clone(), c.name.clone()));
                }
            }
        }
        out
    }

    /// The same renames seen from the other side, for the down migration.
    pub fn reversed(&self) -> Self {
        Renames {
            tables: self
                .tables
                .iter()
                .map(|(o, n)| (n.clone(), o.clone()))
                .collect(),
            columns: self
                .columns
                .iter()
                .map(|(t, o, n)| {
                    let old_table = self
                        .tables
                        .iter()
                        .find(|(_, new)| new == t)
                        .map_or_else(|| t.clone(), |(old, _)| old.clone());
                    (old_table, n.clone(), o.clone())
                })
                .collect(),
        }
    }
}

pub fn diff(prev: &Schema, next: &Schema, renames: &Renames) -> SchemaDiff {
    let mut out = SchemaDiff::default();
    let old_name_of = |new: &str| {
        renames
            .tables
            .iter()
            .find(|(_, n)| n == new)
            .map_or_else(|| new.to_string(), |(o, _)| o.clone())
    };
    for t in &next.tables {
        match prev.tables.iter().find(|p| p.name == old_name_of(&t.name)) {
            None => out.created.push(t.clone()),
            Some(before) => {
                let d = table_diff(before, t, renames);
                if !d.is_empty() {
                    out.altered.push(d);
                }
            }
        }
    }
    let kept: Vec<String> = next.tables.iter().map(|t| old_name_of(&t.name)).collect();
    out.dropped = prev
        .tables
        .iter()
        .rev()
        .filter(|p| !kept.contains(&p.name))
        .cloned()
        .collect();
    out
}

fn table_diff(before: &Table, after: &Table, renames: &Renames) -> TableDiff {
    let renamed_columns: Vec<(String, String)> = renames
        .columns
        .iter()
        .filter(|(t, _, _)| *t == after.name)
        .map(|(_, o, n)| (o.clone(), n.clone()))
        .collect();
    let old_name = |new: &str| {
        renamed_columns
            .iter()
            .find(|(_, n)| n == new)
            .map_or_else(|| new.to_string(), |(o, _)| o.clone())
    };
    let pk_old_names: Vec<String> = after.primary_key.iter().map(|k| old_name(k)).collect();
    let mut d = TableDiff {
        before: before.clone(),
        after: after.clone(),
        renamed: before.name != after.name,
        renamed_columns: renamed_columns.clone(),
        added_columns: Vec::new(),
        dropped_columns: Vec::new(),
        altered_columns: Vec::new(),
        added_indexes: added(&after.indexes, &before.indexes, |i| &i.name),
        dropped_indexes: added(&before.indexes, &after.indexes, |i| &i.name),
        added_checks: added(&after.checks, &before.checks, |c| &c.name),
        dropped_checks: added(&before.checks, &after.checks, |c| &c.name),
        added_foreign_keys: added(&after.foreign_keys, &before.foreign_keys, |f| &f.name),
        dropped_foreign_keys: added(&before.foreign_keys, &after.foreign_keys, |f| &f.name),
        primary_key_changed: before.primary_key != pk_old_names,
        trigger_changed: before.touch_on_update != after.touch_on_update.as_deref().map(&old_name),
    };
    for c in &after.columns {
        match before.columns.iter().find(|b| b.name == old_name(&c.name)) {
            None => d.added_columns.push(c.clone()),
            Some(b) if !same_column(b, c) => d.altered_columns.push((b.clone(), c.clone())),
            Some(_) => {}
        }
    }
    let kept: Vec<String> = after.columns.iter().map(|c| old_name(&c.name)).collect();
    d.dropped_columns = before
        .columns
        .iter()
        .filter(|b| !kept.contains(&b.name))
        .cloned()
        .collect();
    d
}

fn same_column(a: &Column, b: &Column) -> bool {
    a.ty == b.ty && a.nullable == b.nullable && a.default == b.default && a.identity == b.identity
}

/// Items of `ours` that `theirs` lacks, or has in another form (same name, new definition).
fn added<T: Clone + PartialEq>(ours: &[T], theirs: &[T], name: fn(&T) -> &String) -> Vec<T> {
    ours.iter()
        .filter(|o| !theirs.iter().any(|t| name(t) == name(o) && t == *o))
        .cloned()
        .collect()
}

/// Whether changing a column from `before` to `after` can lose data or fail on existing rows.
pub fn narrowing(before: &Column, after: &Column) -> Option<&'static str> {
    if before.nullable && !after.nullable && after.default.is_none() {
        return Some("makes a column required without a default");
    }
    if before.ty == after.ty {
        return None;
    }
    let widening = matches!(
        (before.ty, after.ty),
        (
            ColumnType::Integer,
            ColumnType::BigInt | ColumnType::Double | ColumnType::Decimal { .. }
        ) | (ColumnType::BigInt, ColumnType::Decimal { .. })
            | (_, ColumnType::Text)
    ) || matches!((before.ty, after.ty), (ColumnType::Decimal { precision: p1, scale: s1 }, ColumnType::Decimal { precision: p2, scale: s2 }) if p2 >= p1 && s2 >= s1 && p2 - s2 >= p1 - s1);
    (!widening).then_some("narrows the column type")
}
