//! The Onetime Secret REST API v2 (`/api/v2`, `api-v2.md`): the reference's
//! current API, beside v1, over the same service and the same secrets. A
//! secret made through either is read, revealed (once across both), burned
//! and listed through the other.
//!
//! Handlers are as thin as v1's: take the caller, the parameters and the
//! path's key through the [`V2`] extractor, call the
//! [`Service`](crate::service::Service), render JSON (`views.rs`). Every
//! failure is answered once, in `error.rs`, with its real status and
//! `{error, error_type, field?}`.
//!
//! # v2's words and otsd's
//!
//! | v2 wire                          | otsd                                         |
//! |----------------------------------|----------------------------------------------|
//! | secret `identifier`/`key`        | the secret key ([`crate::domain::SecretKey`]) |
//! | receipt `identifier`/`key`       | the receipt key ([`crate::domain::ReceiptKey`]) |
//! | state `previewed`                | [`crate::vault::State::Viewed`] (v1 `viewed`) |
//! | state `revealed`                 | [`crate::vault::State::Received`] (v1 `received`) |
//! | `kind` `conceal`/`generate`      | [`crate::vault::Kind`]                        |
//! | `custid`, `owner_id`             | the receipt's owner (an account's name)       |
//! | `/guest/…`                       | the same handlers, the caller always anonymous |

mod error;
mod meta;
mod receipt;
mod secret;
mod views;

use error::v2_errors;

use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::middleware::DefaultHeaders;
use actix_web::web;

use crate::http::extract::GuestRoute;

/// Registers every v2 route. A resource answers a method it does not have
/// with v2's `Not Found`, and so does a path v2 does not have.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let no_store = DefaultHeaders::new()
        .add((CACHE_CONTROL, "no-store"))
        .add((PRAGMA, "no-cache"));
    cfg.service(
        web::scope("/api/v2")
            .wrap(no_store)
            .wrap(actix_web::middleware::from_fn(v2_errors))
            .service(resource("/status").route(web::get().to(meta::status)))
            .service(resource("/version").route(web::get().to(meta::version)))
            .service(resource("/supported-locales").route(web::get().to(meta::locales)))
            .service(
                resource("/secret/conceal")
                    .route(web::post().to(secret::conceal))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(meta::preflight)),
            )
            .service(
                resource("/secret/generate")
                    .route(web::post().to(secret::generate))
                    .route(web::method(actix_web::http::Method::OPTIONS).to(meta::preflight)),
            )
            // Before `/secret/{key}`, which would take "status" as a key.
            .service(resource("/secret/status").route(web::post().to(secret::statuses)))
            .service(resource("/secret/{key}").route(web::get().to(secret::preview)))
            .service(resource("/secret/{key}/reveal").route(web::post().to(secret::reveal)))
            .service(resource("/secret/{key}/status").route(web::get().to(secret::status)))
            .configure(|cfg| receipts(cfg, "/receipt"))
            // Deprecated in the reference, still sent by older clients.
            .configure(|cfg| receipts(cfg, "/private"))
            .service(
                web::scope("/guest")
                    .app_data(GuestRoute)
                    .service(resource("/secret/conceal").route(web::post().to(secret::conceal)))
                    .service(resource("/secret/generate").route(web::post().to(secret::generate)))
                    .service(resource("/secret/{key}").route(web::get().to(secret::preview)))
                    .service(resource("/secret/{key}/reveal").route(web::post().to(secret::reveal)))
                    .service(resource("/receipt/{key}").route(web::get().to(receipt::read)))
                    .service(resource("/receipt/{key}/burn").route(web::post().to(receipt::burn)))
                    .default_service(web::to(error::not_found)),
            )
            .default_service(web::to(error::not_found)),
    );
}

/// The four receipt routes under `prefix` (`/receipt`, and its deprecated
/// alias `/private`).
fn receipts(cfg: &mut web::ServiceConfig, prefix: &str) {
    // `recent` before `{key}`, which would take it as a key.
    cfg.service(resource(&format!("{prefix}/recent")).route(web::get().to(receipt::recent)))
        .service(
            resource(&format!("{prefix}/{{key}}"))
                .route(web::get().to(receipt::read))
                .route(web::patch().to(receipt::memo)),
        )
        .service(resource(&format!("{prefix}/{{key}}/burn")).route(web::post().to(receipt::burn)));
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(error::not_found))
}
