use std::collections::BTreeSet;

use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{EntityId, FieldType, Ir, OpKind};

declare_rule! {
    /// ## What it does
    /// Flags a string, text, e-mail or URL field that clients can write (it is in a create,
    /// update or action allowlist, or a collection written by value) but that has no maximum
    /// length.
    ///
    /// ## Why is this bad?
    /// An unbounded string lets one request store megabytes in a row, bloating the table,
    /// every response that includes it and every cache entry. Validation at the boundary needs
    /// a bound to enforce. (Enum columns and decimals are always constrained by the
    /// language: enums get a CHECK, decimals need a precision.)
    ///
    /// ## Example
    /// ```svc
    /// entity Note {
    ///   include uuid_id
    ///   body: text
    ///   include timestamps
    /// }
    ///
    /// resource notes: Note at "/notes" {
    ///   create {
    ///     auth   = authenticated
    ///     fields = [body]
    ///   }
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// entity Note {
    ///   include uuid_id
    ///   body: text(..20000)
    ///   include timestamps
    /// }
    ///
    /// resource notes: Note at "/notes" {
    ///   create {
    ///     auth   = authenticated
    ///     fields = [body]
    ///   }
    /// }
    /// ```
    pub(crate) static UNBOUNDED_INPUT_STRING = {
        code: "SVC108",
        name: "unbounded-input-string",
        summary: "client-writable string without a maximum length",
        severity: Severity::Error,
        check: unbounded_input_string,
    }
}

fn unbounded_input_string(ir: &Ir, cx: &mut RuleContext<'_>) {
    let mut written: BTreeSet<(EntityId, usize)> = BTreeSet::new();
    for (_, resource, op) in ir
        .operations()
        .filter(|(_, _, op)| matches!(op.kind, OpKind::Create | OpKind::Update | OpKind::Action))
    {
        for &f in op.fields.iter().flat_map(|f| &f.value) {
            written.insert((resource.entity, f));
        }
        for c in op.collections.iter().map(|c| ir.collection(*c)) {
            if let Some(w) = c.write_by {
                written.insert((c.target, w));
            }
        }
    }
    for (entity, f) in written {
        let e = ir.entity(entity);
        let field = &e.fields[f];
        let stringy = matches!(
            field.ty,
            FieldType::String | FieldType::Text | FieldType::Email | FieldType::Url
        );
        if stringy && field.length.is_none_or(|b| b.max.is_none()) {
            cx.report(
                Scope::Field(entity, f),
                field.type_span,
                format!(
                    "`{}.{}` accepts client input of any length",
                    e.name, field.name
                ),
            )
            .label("no maximum length")
            .help(format!(
                "bound it, e.g. `{}: string(..200)` or `text(..20000)`",
                field.name
            ));
        }
    }
}
