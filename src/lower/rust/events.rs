//! Domain events: the generated `src/events.rs` (the event type, one function per event
//! that records it in the caller's transaction, and the dispatcher), the outbox repository
//! `src/repo/outbox_events.rs` over the table svcc adds (`lower::sql::schema::OUTBOX`), and
//! the user-owned `src/handlers/events.rs` the dispatcher delivers to.

use proc_macro2::TokenStream;
use quote::quote;

use super::types::{self, ident, type_ident};
use crate::ir::{Event, EventId, FieldType, Ir, names};
use crate::lower::sql::schema::OUTBOX;

/// The repository module's name.
pub const MODULE: &str = OUTBOX;

/// The events the service knows: those whose entity has a record type.
fn known(ir: &Ir) -> Vec<&Event> {
    let exposed = super::domain::exposed_entities(ir);
    ir.events
        .iter()
        .filter(|e| exposed.contains(&e.entity))
        .collect()
}

/// `order_placed`: the function that records the event.
pub fn record_fn(event: &Event) -> syn::Ident {
    ident(&names::snake_case(&event.name))
}

/// Why the operation cannot publish `event` with its record as the payload, if it cannot.
pub fn unpublishable(ir: &Ir, event: EventId, entity: crate::ir::EntityId) -> Option<String> {
    let event = ir.event(event);
    if event.entity != entity {
        return Some(format!(
            "publishing `{}`, which carries another entity than the operation's",
            event.name
        ));
    }
    // Hidden fields are left out of the payload and take their default when it is read
    // back; an enum has none.
    let e = ir.entity(entity);
    let undecodable = types::record_fields(e).any(|(i, f)| {
        types::hidden(e, i, f)
            && !f.optional
            && matches!(types::storage_type(ir, &f.ty), FieldType::Enum(_))
    });
    undecodable.then(|| {
        format!(
            "publishing `{}`, whose entity hides a required enum field",
            event.name
        )
    })
}

/// Whether records of `entity` are read back from event payloads.
pub fn carried(ir: &Ir, entity: crate::ir::EntityId) -> bool {
    ir.emits_events() && ir.events.iter().any(|e| e.entity == entity)
}

/// `src/events.rs`, when an operation emits.
pub fn events_rs(ir: &Ir) -> Option<TokenStream> {
    if !ir.emits_events() {
        return None;
    }
    let events = known(ir);
    let variants = events.iter().map(|e| {
        let variant = type_ident(&e.name);
        let record = type_ident(&ir.entity(e.entity).name);
        let docs = types::docs(&e.docs);
        quote!(#docs #variant(crate::domain::#record),)
    });
    let names = events.iter().map(|e| {
        let variant = type_ident(&e.name);
        let name = &e.name;
        quote!(Event::#variant(_) => #name,)
    });
    let decoders = events.iter().map(|e| {
        let variant = type_ident(&e.name);
        let name = &e.name;
        quote!(#name => serde_json::from_str(payload).map(Event::#variant),)
    });
    let recorders = events.iter().map(|e| {
        let entity = ir.entity(e.entity);
        let record = type_ident(&entity.name);
        let var = types::module_name(entity);
        let function = record_fn(e);
        let name = &e.name;
        let doc = format!(" Records `{name}` in the transaction of the change that raises it.");
        quote! {
            #[doc = #doc]
            pub async fn #function(tx: &mut Tx, #var: &crate::domain::#record) -> Result<(), AppError> {
                record(tx, #name, #var).await
            }
        }
    });
    Some(quote! {
        //! Domain events. An operation that emits writes its events to the outbox in the
        //! same transaction as its change, so an event exists exactly when the change
        //! committed. The dispatcher delivers them to `crate::handlers::events::handle` at
        //! least once: a claimed event is leased, so instances never deliver it at the same
        //! time, and a failed or interrupted delivery is retried with capped exponential
        //! backoff, after a restart too.

        use std::time::{Duration, Instant};

        use tokio::sync::watch;

        use crate::db::Tx;
        use crate::error::AppError;
        use crate::repo::outbox_events as outbox;
        use crate::state::AppState;

        /// Events claimed per round.
        const BATCH: i64 = 50;
        /// How long one delivery attempt may take; after it, the event is claimable again.
        const LEASE: Duration = Duration::from_secs(30);
        /// Retry delays double from the first to the last.
        const FIRST_RETRY: Duration = Duration::from_secs(1);
        const LAST_RETRY: Duration = Duration::from_secs(300);
        /// Delivered events stay this long for inspection, then are deleted.
        const RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);
        const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

        /// A domain event and the row it carries.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Event {
            #(#variants)*
        }

        impl Event {
            /// The event's name, as stored in the outbox.
            pub fn name(&self) -> &'static str {
                match self {
                    #(#names)*
                }
            }

            /// Rebuilds a stored event.
            fn decode(name: &str, payload: &str) -> Result<Event, String> {
                let decoded = match name {
                    #(#decoders)*
                    other => return Err(format!("no event is named `{other}`")),
                };
                decoded.map_err(|err| format!("cannot read the `{name}` payload: {err}"))
            }
        }

        #(#recorders)*

        async fn record(tx: &mut Tx, name: &str, row: &impl serde::Serialize) -> Result<(), AppError> {
            let payload = serde_json::to_string(row).map_err(|err| AppError::Internal(err.to_string()))?;
            outbox::insert(tx, name, &payload, now_millis()).await
        }

        /// How an event handler fails: the dispatcher logs it and retries the event later.
        pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;

        /// The delivery task, built with the application and started with the server.
        #[derive(Debug)]
        pub struct Dispatcher {
            state: AppState,
            poll: Duration,
        }

        impl Dispatcher {
            /// Looks for due events every `poll`, and as soon as a change with events commits.
            pub fn new(state: AppState, poll: Duration) -> Self {
                Dispatcher { state, poll }
            }

            /// Delivers events until `stop` turns true; the event in hand is finished first.
            pub fn start(self, stop: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
                tokio::spawn(self.run(stop))
            }

            async fn run(self, mut stop: watch::Receiver<bool>) {
                let mut pruned: Option<Instant> = None;
                while !*stop.borrow() {
                    let claimed = match self.deliver_due().await {
                        Ok(claimed) => claimed,
                        Err(err) => {
                            tracing::error!(error = %err, "cannot deliver events from the outbox");
                            0
                        }
                    };
                    if claimed == BATCH {
                        // More may be due right now.
                        continue;
                    }
                    if pruned.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                        self.prune().await;
                        pruned = Some(Instant::now());
                    }
                    tokio::select! {
                        changed = stop.changed() => {
                            if changed.is_err() {
                                break;
                            }
                        }
                        () = self.state.events_ready.notified() => {}
                        () = tokio::time::sleep(self.poll) => {}
                    }
                }
            }

            /// Claims the due events and delivers each; answers how many it claimed.
            async fn deliver_due(&self) -> Result<i64, AppError> {
                let now = now_millis();
                let claimed = outbox::claim(&self.state.db, now, now + millis(LEASE), BATCH).await?;
                for pending in &claimed {
                    self.deliver(pending).await?;
                }
                Ok(i64::try_from(claimed.len()).unwrap_or(BATCH))
            }

            async fn deliver(&self, pending: &outbox::Pending) -> Result<(), AppError> {
                let outcome = match Event::decode(&pending.event, &pending.payload) {
                    Ok(event) => {
                        let handled = crate::handlers::events::handle(&self.state, &event);
                        match tokio::time::timeout(LEASE, handled).await {
                            Ok(result) => result.map_err(|err| err.to_string()),
                            Err(_) => Err(format!("the handler took longer than {LEASE:?}")),
                        }
                    }
                    Err(err) => Err(err),
                };
                let event = pending.event.clone();
                match outcome {
                    Ok(()) => {
                        outbox::delivered(&self.state.db, &pending.id, now_millis()).await?;
                        metrics::counter!("events_delivered_total", "event" => event).increment(1);
                        tracing::info!(event = %pending.event, id = %pending.id, attempt = pending.attempts, "event delivered");
                    }
                    Err(error) => {
                        let retry_at = now_millis() + millis(backoff(pending.attempts));
                        outbox::failed(&self.state.db, &pending.id, retry_at, &error).await?;
                        metrics::counter!("events_failed_total", "event" => event).increment(1);
                        tracing::warn!(event = %pending.event, id = %pending.id, attempt = pending.attempts, error = %error, "event delivery failed; it will be retried");
                    }
                }
                Ok(())
            }

            async fn prune(&self) {
                let before = now_millis() - millis(RETENTION);
                if let Err(err) = outbox::prune(&self.state.db, before).await {
                    tracing::warn!(error = %err, "cannot delete old delivered events");
                }
            }
        }

        /// The wait before retrying an event after its `attempts`-th failure: 1 s, 2 s, 4 s
        /// and so on, at most 5 minutes.
        pub fn backoff(attempts: i32) -> Duration {
            let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(0).min(16);
            FIRST_RETRY.saturating_mul(1 << doublings).min(LAST_RETRY)
        }

        fn now_millis() -> i64 {
            chrono::Utc::now().timestamp_millis()
        }

        fn millis(duration: Duration) -> i64 {
            i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn retries_back_off_exponentially_up_to_a_cap() {
                assert_eq!(backoff(1), Duration::from_secs(1));
                assert_eq!(backoff(2), Duration::from_secs(2));
                assert_eq!(backoff(5), Duration::from_secs(16));
                assert_eq!(backoff(9), Duration::from_secs(256));
                assert_eq!(backoff(10), LAST_RETRY);
                assert_eq!(backoff(i32::MAX), LAST_RETRY);
            }
        }
    })
}

/// `src/handlers/events.rs`, written once: a match over every event, logging each.
pub fn handlers_rs(ir: &Ir) -> Option<TokenStream> {
    if !ir.emits_events() {
        return None;
    }
    let arms = known(ir).into_iter().map(|e| {
        let entity = ir.entity(e.entity);
        let variant = type_ident(&e.name);
        let name = &e.name;
        match types::primary_key(entity) {
            Some(pk) => {
                let key = ident(&pk.name);
                let var = types::module_name(entity);
                quote! {
                    Event::#variant(#var) => {
                        tracing::info!(#key = %#var.#key, #name);
                        Ok(())
                    }
                }
            }
            None => quote! {
                Event::#variant(_) => {
                    tracing::info!(#name);
                    Ok(())
                }
            },
        }
    });
    Some(quote! {
        //! What the service does with its domain events. svcc created this file once and
        //! never overwrites it: it is yours. The dispatcher calls `handle` for every event
        //! at least once, so a handler must be idempotent: after a failure (an `Err`, a
        //! timeout) or a crash, the same event comes again. A new event in the spec makes
        //! the match below a compile error until it is handled here.

        use crate::events::{Event, HandlerError};
        use crate::state::AppState;

        /// Handles one event. Replace the logging with what each event should cause.
        pub async fn handle(_state: &AppState, event: &Event) -> Result<(), HandlerError> {
            match event {
                #(#arms)*
            }
        }
    })
}

/// `src/repo/outbox_events.rs`, when an operation emits.
pub fn repo_rs(ir: &Ir) -> Option<TokenStream> {
    if !ir.emits_events() {
        return None;
    }
    let table = format!("\"{OUTBOX}\"");
    let insert = format!(
        "INSERT INTO {table} (\"id\", \"event\", \"payload\", \"created_at\", \"available_at\") VALUES ($1, $2, $3, $4, $5)"
    );
    let due = format!(
        "SELECT \"id\", \"available_at\" FROM {table} WHERE \"delivered_at\" IS NULL AND \"available_at\" <= $1 ORDER BY \"available_at\", \"id\" LIMIT $2"
    );
    let lease = format!(
        "UPDATE {table} SET \"available_at\" = $3, \"attempts\" = \"attempts\" + 1 WHERE \"id\" = $1 AND \"available_at\" = $2 AND \"delivered_at\" IS NULL RETURNING \"event\", \"payload\", \"attempts\""
    );
    let delivered = format!(
        "UPDATE {table} SET \"delivered_at\" = $2, \"last_error\" = NULL WHERE \"id\" = $1"
    );
    let failed =
        format!("UPDATE {table} SET \"available_at\" = $2, \"last_error\" = $3 WHERE \"id\" = $1");
    let prune = format!("DELETE FROM {table} WHERE \"delivered_at\" < $1");
    let of_kind = format!(
        "SELECT \"id\", \"payload\", \"attempts\", \"delivered_at\", \"last_error\" FROM {table} WHERE \"event\" = $1 ORDER BY \"created_at\", \"id\""
    );
    Some(quote! {
        //! The outbox (table `outbox_events`): domain events written in the transaction of
        //! the change that raised them, then claimed and delivered by the dispatcher. Times
        //! are Unix milliseconds.

        use crate::db::{Database, ToParam as _, Tx};
        use crate::error::AppError;

        const INSERT: &str = #insert;
        const DUE: &str = #due;
        const LEASE: &str = #lease;
        const DELIVERED: &str = #delivered;
        const FAILED: &str = #failed;
        const PRUNE: &str = #prune;
        const OF_KIND: &str = #of_kind;

        /// An event claimed for delivery.
        #[derive(Debug, Clone)]
        pub struct Pending {
            pub id: String,
            pub event: String,
            pub payload: String,
            /// Delivery attempts so far, this one included.
            pub attempts: i32,
        }

        /// A stored event, in whatever state.
        #[derive(Debug, Clone)]
        pub struct Stored {
            pub id: String,
            pub payload: String,
            pub attempts: i32,
            pub delivered_at: Option<i64>,
            pub last_error: Option<String>,
        }

        /// Writes an event in the caller's transaction, due at once.
        pub async fn insert(tx: &mut Tx, event: &str, payload: &str, now: i64) -> Result<(), AppError> {
            let id = uuid::Uuid::now_v7().to_string();
            let params = [id.param(), event.param(), payload.param(), now.param(), now.param()];
            tx.execute(INSERT, &params).await?;
            Ok(())
        }

        /// Leases up to `limit` due events until `lease_until`. Each lease is a conditional
        /// update on the time the event was seen due, so two dispatchers never both win one.
        pub async fn claim(db: &Database, now: i64, lease_until: i64, limit: i64) -> Result<Vec<Pending>, AppError> {
            let due = db.fetch_all(DUE, &[now.param(), limit.param()], |row| {
                Ok((row.get::<String>(0)?, row.get::<i64>(1)?))
            }).await?;
            let mut claimed = Vec::new();
            for (id, seen) in due {
                let params = [id.param(), seen.param(), lease_until.param()];
                let leased = db.fetch_optional(LEASE, &params, |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                }).await?;
                if let Some((event, payload, attempts)) = leased {
                    claimed.push(Pending { id, event, payload, attempts });
                }
            }
            Ok(claimed)
        }

        /// Marks a claimed event delivered.
        pub async fn delivered(db: &Database, id: &str, now: i64) -> Result<(), AppError> {
            db.execute(DELIVERED, &[id.param(), now.param()]).await?;
            Ok(())
        }

        /// Releases a claimed event whose delivery failed, due again at `retry_at`.
        pub async fn failed(db: &Database, id: &str, retry_at: i64, error: &str) -> Result<(), AppError> {
            db.execute(FAILED, &[id.param(), retry_at.param(), error.param()]).await?;
            Ok(())
        }

        /// Deletes events delivered before `before`; answers how many.
        pub async fn prune(db: &Database, before: i64) -> Result<u64, AppError> {
            Ok(db.execute(PRUNE, &[before.param()]).await?)
        }

        /// Every stored event named `event`, oldest first: for inspection and tests.
        pub async fn of_kind(db: &Database, event: &str) -> Result<Vec<Stored>, AppError> {
            let stored = db.fetch_all(OF_KIND, &[event.param()], |row| {
                Ok(Stored {
                    id: row.get(0)?,
                    payload: row.get(1)?,
                    attempts: row.get(2)?,
                    delivered_at: row.get(3)?,
                    last_error: row.get(4)?,
                })
            }).await?;
            Ok(stored)
        }
    })
}
