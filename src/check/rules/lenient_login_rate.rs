use crate::check::rule::{RuleContext, Scope, declare_rule};
use crate::diagnostics::Severity;
use crate::ir::{Ir, RateKey};

/// The most sign-in attempts per minute and client address the playbook allows.
const MAX_PER_MINUTE: u64 = 10;

declare_rule! {
    /// ## What it does
    /// Flags an `auth` block whose login, registration and token endpoints are not limited
    /// per client IP to at most 10 requests a minute.
    ///
    /// ## Why is this bad?
    /// Password endpoints are brute-forced and credential-stuffed. A per-IP limit of a few
    /// attempts a minute makes guessing impractical while a person mistyping a password
    /// never notices it; a per-user key does not help, since the attacker picks the user.
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
    ///   rate     = logins
    /// }
    /// rate logins {
    ///   limit     = 10
    ///   window    = 1m
    ///   key       = ip
    ///   algorithm = sliding_window
    /// }
    /// entity User {
    ///   include uuid_id
    ///   email:    email(3..254) @unique
    ///   password: password
    ///   include timestamps
    /// }
    /// ```
    pub(crate) static LENIENT_LOGIN_RATE = {
        code: "SVC302",
        name: "lenient-login-rate",
        summary: "auth endpoints without a strict per-IP rate limit",
        severity: Severity::Error,
        check: lenient_login_rate,
    }
}

fn lenient_login_rate(ir: &Ir, cx: &mut RuleContext<'_>) {
    let Some(auth) = &ir.auth else { return };
    let Some(rate) = auth.rate.map(|r| ir.rate(r)) else {
        cx.report(Scope::Auth, auth.span, "login and registration have no rate limit")
            .label("open to brute force")
            .help("add `rate = logins` to the auth block with `rate logins { limit = 10  window = 1m  key = ip }`");
        return;
    };
    // Rounded up, and the whole window's budget may be spent at once, so both count.
    let per_minute = (u64::from(rate.limit) * 60_000).div_ceil(rate.window_ms.max(1));
    if rate.key != RateKey::Ip
        || per_minute > MAX_PER_MINUTE
        || u64::from(rate.limit) > MAX_PER_MINUTE
    {
        cx.report(
            Scope::Auth,
            rate.span,
            format!(
                "rate limit `{}` is too lenient for login and registration",
                rate.name
            ),
        )
        .label(format!("{} per minute keyed by {:?}", per_minute, rate.key).to_lowercase())
        .help(format!(
            "key it by `ip` and allow at most {MAX_PER_MINUTE} requests a minute"
        ));
    }
}
