use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{ConfigValue, Ir, Spanned};

declare_rule! {
    /// ## What it does
    /// Flags a secret or deploy-specific setting written as a literal instead of read from
    /// the environment: the JWT signing secret, the database URL, the Redis URL and the
    /// CORS origins. A secret read with `env(...)` may not carry a default either.
    ///
    /// ## Why is this bad?
    /// A literal secret is committed with the spec and the generated code, so everyone with
    /// read access to the repository can sign tokens for any user. Deploy settings as
    /// literals make the same build unusable in another environment. A default for a secret
    /// is used silently whenever the variable is missing in production.
    ///
    /// ## Example
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = "postgres://localhost/app"
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
    /// ```
    pub(crate) static LITERAL_SECRET = {
        code: "SVC401",
        name: "literal-secret",
        summary: "secret or deploy setting written as a literal",
        severity: Severity::Error,
        check: literal_secret,
    }
}

fn literal_secret(ir: &Ir, cx: &mut RuleContext<'_>) {
    let svc = &ir.service;
    deploy_setting(
        cx,
        "database_url",
        "DATABASE_URL",
        Some(&svc.database_url),
        Scope::Service,
    );
    deploy_setting(
        cx,
        "cors_origins",
        "CORS_ORIGINS",
        svc.cors_origins.as_ref(),
        Scope::Service,
    );
    deploy_setting(
        cx,
        "redis_url",
        "REDIS_URL",
        svc.settings.get("redis_url"),
        Scope::Service,
    );
    let Some(auth) = &ir.auth else { return };
    match &auth.secret.value {
        ConfigValue::Literal(_) => {
            cx.report(
                Scope::Auth,
                auth.secret.span,
                "the token signing secret is written in the spec",
            )
            .label("anyone who can read the repository can sign tokens")
            .help("write `secret = env(\"JWT_SECRET\")` and set the variable in each environment");
        }
        ConfigValue::Env {
            name,
            default: Some(_),
        } => {
            cx.report(Scope::Auth, auth.secret.span, format!("the token signing secret falls back to a default when `{name}` is unset"))
                .label("a missing variable silently uses a known secret")
                .help(format!("write `secret = env(\"{name}\")` without a default; the service refuses to start without it"));
        }
        ConfigValue::Env { default: None, .. } => {}
    }
}

fn deploy_setting(
    cx: &mut RuleContext<'_>,
    key: &str,
    var: &str,
    value: Option<&Spanned<ConfigValue>>,
    scope: Scope,
) {
    let Some(Spanned {
        value: ConfigValue::Literal(_),
        span,
    }) = value
    else {
        return;
    };
    cx.report(
        scope,
        *span,
        format!("`{key}` is a literal, not read from the environment"),
    )
    .label("fixed at build time")
    .help(format!(
        "write `{key} = env(\"{var}\")`, with a non-secret default for local runs if useful"
    ));
}
