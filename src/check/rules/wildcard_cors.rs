use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{ConfigValue, Ir, Profile, Value};

declare_rule! {
    /// ## What it does
    /// Flags CORS origins of `*` (as a literal or as the `env` default) in a service whose
    /// profile is `production` (the default).
    ///
    /// ## Why is this bad?
    /// A wildcard lets any web page call the API from a visitor's browser. Combined with
    /// cookies or tokens kept in the browser, any site the user visits can act as the user.
    /// List the front ends that may call the API instead.
    ///
    /// ## Example
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL")
    ///   cors_origins = env("CORS_ORIGINS", "*")
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL")
    ///   cors_origins = env("CORS_ORIGINS", "http://localhost:3000")
    /// }
    /// ```
    pub(crate) static WILDCARD_CORS = {
        code: "SVC403",
        name: "wildcard-cors",
        summary: "CORS allows any origin in production",
        severity: Severity::Error,
        check: wildcard_cors,
    }
}

fn wildcard_cors(ir: &Ir, cx: &mut RuleContext<'_>) {
    let Some(cors) = &ir.service.cors_origins else {
        return;
    };
    if ir.service.profile != Profile::Production {
        return;
    }
    let origins = match &cors.value {
        ConfigValue::Literal(Value::Str(s))
        | ConfigValue::Env {
            default: Some(Value::Str(s)),
            ..
        } => s,
        _ => return,
    };
    if origins.split(',').any(|o| o.trim() == "*") {
        cx.report(Scope::Service, cors.span, "CORS allows every origin")
            .label("`*` in production")
            .help("list the allowed front-end origins, comma-separated, e.g. `\"https://app.example.com\"`");
    }
}
