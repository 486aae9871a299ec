//! The Onetime Secret REST API v1 (`/api/v1`, spec §2–§4): routing, JSON views,
//! and the v1 error shape; v2 (`/api/v2`, in `v2/`, with its own error
//! shape); and otsd's own requests API (`/api/requests`).
//!
//! Handlers (in `v1/`) are thin: take the [`Caller`](crate::service::Caller),
//! [`Params`](crate::http::extract::Params) and path key through the [`V1`] extractor,
//! call the [`Service`](crate::service::Service), render JSON. Every failure is
//! the one [`Error`](crate::Error), answered in the v1 wire format by [`V1Error`]
//! in one place (`error.rs`); a request refused before its handler ran too.

mod error;
mod requests;
mod v1;
mod v2;

pub use error::{INTENDED_STATUS, JSON, Real, RealStatus, V1, V1Error, not_found, v1_errors};
pub use requests::configure as configure_requests;
pub use v2::configure as configure_v2;

use actix_web::http::header::{CACHE_CONTROL, PRAGMA};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpResponse, web};
use serde::Serialize;

/// Registers every v1 route. Each resource answers unknown methods with the v1
/// `Not Found` error rather than actix's bare 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let no_store = DefaultHeaders::new()
        .add((CACHE_CONTROL, "no-store"))
        .add((PRAGMA, "no-cache"));
    cfg.service(
        web::scope("/api/v1")
            .wrap(no_store)
            .wrap(actix_web::middleware::from_fn(v1_errors))
            .service(resource("/status").route(web::get().to(v1::status::status)))
            .service(resource("/authcheck").route(web::get().to(v1::status::authcheck)))
            // Before `/private/{key}`, which would otherwise take "recent" as a key.
            .service(resource("/private/recent").route(web::get().to(v1::metadata::recent)))
            .service(resource("/metadata/recent").route(web::get().to(v1::metadata::recent)))
            // The reference's v0.24 names of the receipt routes, which its
            // official client calls.
            .service(resource("/receipt/recent").route(web::get().to(v1::metadata::recent)))
            .service(resource("/share").route(web::post().to(v1::share::share)))
            .service(resource("/create").route(web::post().to(v1::share::share)))
            .service(resource("/generate").route(web::post().to(v1::share::generate)))
            .service(resource("/secret/{key}").route(web::post().to(v1::secret::reveal)))
            .service(
                resource("/private/{key}")
                    .route(web::get().to(v1::metadata::metadata))
                    .route(web::post().to(v1::metadata::metadata)),
            )
            .service(
                resource("/metadata/{key}")
                    .route(web::get().to(v1::metadata::metadata))
                    .route(web::post().to(v1::metadata::metadata)),
            )
            .service(
                resource("/receipt/{key}")
                    .route(web::get().to(v1::metadata::metadata))
                    .route(web::post().to(v1::metadata::metadata)),
            )
            .service(resource("/private/{key}/burn").route(web::post().to(v1::metadata::burn)))
            .service(resource("/receipt/{key}/burn").route(web::post().to(v1::metadata::burn)))
            .service(resource("/metadata/{key}/burn").route(web::post().to(v1::metadata::burn)))
            .default_service(web::to(not_found)),
    );
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(not_found))
}

/// A 200 response with `body` as JSON, for either API: the internal error
/// (logged) if it cannot be written, which each face answers in its own shape.
pub fn json_answer<T: Serialize, E: From<crate::Error>>(body: &T) -> Result<HttpResponse, E> {
    serde_json::to_vec(body)
        .map(|bytes| HttpResponse::Ok().content_type(JSON).body(bytes))
        .map_err(|err| E::from(crate::error::internal(&err)))
}

/// [`json_answer`] for v1, with its failure already in v1's shape.
pub fn json_ok<T: Serialize>(body: &T) -> HttpResponse {
    json_answer(body).unwrap_or_else(|err| actix_web::ResponseError::error_response(&V1Error(err)))
}
