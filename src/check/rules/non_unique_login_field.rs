use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags an `auth` login field (e-mail, username) that is not unique.
    ///
    /// ## Why is this bad?
    /// If two accounts can share a login, a sign-in picks one of them: users log into each
    /// other's accounts, and registering with a taken address silently creates a duplicate.
    ///
    /// ## Example
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL")
    /// }
    /// use std.mixins
    /// auth {
    ///   identity = User
    ///   login    = email
    ///   password = password
    ///   secret   = env("JWT_SECRET")
    /// }
    /// entity User {
    ///   include uuid_id
    ///   email:    email(3..254)
    ///   password: password
    ///   include timestamps
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL")
    /// }
    /// use std.mixins
    /// auth {
    ///   identity = User
    ///   login    = email
    ///   password = password
    ///   secret   = env("JWT_SECRET")
    /// }
    /// entity User {
    ///   include uuid_id
    ///   email:    email(3..254) @unique
    ///   password: password
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static NON_UNIQUE_LOGIN_FIELD = {
        code: "SVC107",
        name: "non-unique-login-field",
        summary: "auth login field is not unique",
        severity: Severity::Error,
        check: non_unique_login_field,
    }
}

fn non_unique_login_field(ir: &Ir, cx: &mut RuleContext<'_>) {
    let Some(auth) = &ir.auth else { return };
    let entity = ir.entity(auth.identity);
    let field = &entity.fields[auth.login_field];
    let unique = field.flags.unique
        || entity
            .indexes
            .iter()
            // A partial unique index counts: on a soft-deleted entity it is unique among live rows.
            .any(|i| i.unique && i.columns == [auth.login_field]);
    if !unique {
        cx.report(
            Scope::Field(auth.identity, auth.login_field),
            field.span,
            format!("login field `{}.{}` is not unique", entity.name, field.name),
        )
        .label("two accounts could share this login")
        .help("mark it `@unique`");
    }
}
