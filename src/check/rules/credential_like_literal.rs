use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{ConfigValue, Default, EntityId, Ir, Value};
use crate::source::Span;

declare_rule! {
    /// ## What it does
    /// Scans string literals in the spec (settings, `env` defaults, field defaults) for
    /// values that look like credentials: URLs with a password, private keys, cloud and
    /// payment API keys, tokens, and long random-looking strings.
    ///
    /// ## Why is this bad?
    /// A credential in a spec is committed to version control and copied into the generated
    /// code, its docs and every clone. Rotating it means rewriting history. The playbook asks
    /// to grep for credential-looking strings before every delivery; svcc does it on every
    /// build.
    ///
    /// ## Example
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL", "postgres://app:hunter2@db.internal/app")
    /// }
    /// ```
    ///
    /// Use instead:
    /// ```svc
    /// service doc {
    ///   version      = "1.0.0"
    ///   databases    = [postgres]
    ///   database_url = env("DATABASE_URL", "postgres://localhost/app")
    /// }
    /// ```
    pub(crate) static CREDENTIAL_LIKE_LITERAL = {
        code: "SVC402",
        name: "credential-like-literal",
        summary: "string literal that looks like a credential",
        severity: Severity::Error,
        check: credential_like_literal,
    }
}

fn credential_like_literal(ir: &Ir, cx: &mut RuleContext<'_>) {
    let svc = &ir.service;
    let mut spanned: Vec<(Scope, Span, &ConfigValue)> = vec![(
        Scope::Service,
        svc.database_url.span,
        &svc.database_url.value,
    )];
    spanned.extend(
        svc.cors_origins
            .iter()
            .map(|c| (Scope::Service, c.span, &c.value)),
    );
    spanned.extend(
        svc.settings
            .values()
            .map(|v| (Scope::Service, v.span, &v.value)),
    );
    if let Some(auth) = &ir.auth {
        spanned.push((Scope::Auth, auth.secret.span, &auth.secret.value));
        spanned.extend(
            auth.issuer
                .iter()
                .chain(&auth.audience)
                .map(|v| (Scope::Auth, auth.span, v)),
        );
    }
    for (scope, span, value) in spanned {
        let text = match value {
            ConfigValue::Literal(Value::Str(s))
            | ConfigValue::Env {
                default: Some(Value::Str(s)),
                ..
            } => s,
            _ => continue,
        };
        report(cx, scope, span, text);
    }
    for (i, e) in ir.entities.iter().enumerate() {
        for (n, f) in e.fields.iter().enumerate() {
            if let Some(Default::Value(Value::Str(s))) = &f.default {
                report(cx, Scope::Field(EntityId(crate::ir::id32(i)), n), f.span, s);
            }
        }
    }
}

fn report(cx: &mut RuleContext<'_>, scope: Scope, span: Span, text: &str) {
    if let Some(kind) = credential_kind(text) {
        cx.report(scope, span, format!("this string looks like {kind}"))
            .label("credential in the spec")
            .help("move it to an environment variable read with `env(\"NAME\")` and rotate it: it is in version control now");
    }
}

/// What kind of credential `text` looks like, if any.
pub(crate) fn credential_kind(text: &str) -> Option<&'static str> {
    if url_with_password(text) {
        return Some("a URL with a password");
    }
    let prefixes: &[(&str, &str)] = &[
        ("-----BEGIN", "a private key"),
        ("AKIA", "an AWS access key"),
        ("sk_live_", "a live payment API key"),
        ("rk_live_", "a live payment API key"),
        ("ghp_", "a GitHub token"),
        ("github_pat_", "a GitHub token"),
        ("xoxb-", "a Slack token"),
        ("xoxp-", "a Slack token"),
        ("eyJ", "a JSON Web Token"),
    ];
    if let Some((_, kind)) = prefixes
        .iter()
        .find(|(p, _)| text.starts_with(p) && text.len() >= p.len() + 12)
    {
        return Some(kind);
    }
    high_entropy(text).then_some("a secret key")
}

/// `scheme://user:password@host`.
fn url_with_password(text: &str) -> bool {
    let Some((_, rest)) = text.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return false;
    };
    userinfo
        .split_once(':')
        .is_some_and(|(_, password)| !password.is_empty())
}

/// A long token of mixed letters and digits with no spaces: how generated secrets look.
fn high_entropy(text: &str) -> bool {
    let token_chars = text
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "+/=_-".contains(c));
    let classes = [
        text.chars().any(|c| c.is_ascii_lowercase()),
        text.chars().any(|c| c.is_ascii_uppercase()),
        text.chars().any(|c| c.is_ascii_digit()),
    ];
    let distinct: std::collections::BTreeSet<char> = text.chars().collect();
    // Generated secrets (base64, hex) carry digits; long CamelCase words do not.
    let digits = text.chars().filter(char::is_ascii_digit).count();
    text.len() >= 32
        && token_chars
        && digits >= 4
        && classes.iter().filter(|c| **c).count() >= 2
        && distinct.len() >= 16
}

#[cfg(test)]
mod tests {
    use super::credential_kind;

    #[test]
    fn recognises_credentials() {
        assert!(credential_kind("postgres://app:hunter2@db/app").is_some());
        assert!(credential_kind("AKIAIOSFODNN7EXAMPLE1").is_some());
        assert!(credential_kind("sk_live_4eC39HqLyjWDarjtT1zdp7dc").is_some());
        assert!(credential_kind("Zx9qT3vB7nM2kL8pR4sW6yH1jG5fD0aC").is_some());
    }

    #[test]
    fn ignores_ordinary_strings() {
        assert!(credential_kind("postgres://localhost/app").is_none());
        assert!(credential_kind("sqlite://shop.db").is_none());
        assert!(credential_kind("http://localhost:3000").is_none());
        assert!(credential_kind("the requested resource was not found").is_none());
        assert!(credential_kind("^[a-z0-9]+(?:-[a-z0-9]+)*$").is_none());
        assert!(credential_kind("#888888").is_none());
    }
}
