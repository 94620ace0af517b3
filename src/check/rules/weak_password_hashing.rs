use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::Ir;

declare_rule! {
    /// ## What it does
    /// Flags an `auth` block whose password `hashing` is not `argon2id` (the default) or
    /// `bcrypt` (generated with cost 12).
    ///
    /// ## Why is this bad?
    /// Fast hashes (`sha256`) or no hashing (`plain`) let anyone holding a database dump
    /// recover most passwords in hours on a single GPU, and users reuse passwords across
    /// services. Memory-hard argon2id makes that attack orders of magnitude more expensive.
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
    ///   hashing  = sha256
    /// }
    /// entity User {
    ///   include uuid_id
    ///   email:    email(3..254) @unique
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
    ///   hashing  = argon2id
    /// }
    /// entity User {
    ///   include uuid_id
    ///   email:    email(3..254) @unique
    ///   password: password
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static WEAK_PASSWORD_HASHING = {
        code: "SVC404",
        name: "weak-password-hashing",
        summary: "passwords hashed with something weaker than argon2id or bcrypt",
        severity: Severity::Error,
        check: weak_password_hashing,
    }
}

fn weak_password_hashing(ir: &Ir, cx: &mut RuleContext<'_>) {
    let Some(auth) = &ir.auth else { return };
    if matches!(auth.hashing.value.as_str(), "argon2id" | "bcrypt") {
        return;
    }
    cx.report(
        Scope::Auth,
        auth.hashing.span,
        format!("passwords are hashed with `{}`", auth.hashing.value),
    )
    .label("cracked quickly from a database dump")
    .help("write `hashing = argon2id` (or remove the setting: argon2id is the default)");
}
