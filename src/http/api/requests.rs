//! `/api/requests`: otsd's own small JSON API for "request a secret", beside
//! v1 (which stays the reference's). Form, query or JSON parameters, as in v1;
//! errors are `{"message": ...}` with their real status ([`RealStatus`]).
//!
//! - `POST /api/requests` (`note`, `ttl`): a request link and a private link.
//! - `GET /api/requests/{request_key}`: the note, while it takes an answer.
//! - `POST /api/requests/{request_key}/answer` (`secret`): answers it, once.
//! - `GET /api/requests/private/{private_key}`: where it stands.
//! - `POST /api/requests/private/{private_key}/reveal`: the answer, once.
//! - `POST /api/requests/private/{private_key}/cancel`: cancels it.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::error::{Real, RealStatus};
use super::json_ok;
use crate::clock::unix_now;
use crate::domain::{PrivateKey, RequestKey};
use crate::error::Error;
use crate::http::extract::Params;
use crate::http::state::AppState;
use crate::service::{Ask, Caller, Links};
use crate::vault::PrivateView;

type ApiResult = Result<HttpResponse, RealStatus>;

/// Registers the routes; anything else under the prefix is `Not Found`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let no_store = actix_web::middleware::DefaultHeaders::new()
        .add((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .add((actix_web::http::header::PRAGMA, "no-cache"));
    cfg.service(
        web::scope("/api/requests")
            .wrap(no_store)
            .service(resource("").route(web::post().to(ask)))
            // Before `/{key}`: "private" is no request key, but say so in order.
            .service(resource("/private/{key}").route(web::get().to(private_view)))
            .service(resource("/private/{key}/reveal").route(web::post().to(reveal)))
            .service(resource("/private/{key}/cancel").route(web::post().to(cancel)))
            .service(resource("/{key}").route(web::get().to(show)))
            .service(resource("/{key}/answer").route(web::post().to(answer)))
            .default_service(web::to(not_found)),
    );
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(not_found))
}

async fn not_found() -> ApiResult {
    Err(Error::NotFound.into())
}

/// `POST /api/requests`
async fn ask(
    state: web::Data<AppState>,
    Real(caller): Real<Caller>,
    Real(mut params): Real<Params>,
) -> ApiResult {
    let ask = Ask {
        note: params.take("note"),
        ttl: params.take("ttl"),
    };
    let view = state.service.ask(&caller, ask).await?;
    Ok(json_ok(&private_json(&view, state.service.links())))
}

/// `GET /api/requests/{request_key}`
async fn show(
    state: web::Data<AppState>,
    Real(caller): Real<Caller>,
    Real(request_key): Real<RequestKey>,
) -> ApiResult {
    let open = state.service.open_request(&caller, &request_key).await?;
    Ok(json_ok(&json!({
        "state": "waiting",
        "note": open.note.as_ref().map(|n| n.expose()),
        "created": open.created,
        "expires_in": open.open_until.saturating_sub(unix_now()),
    })))
}

/// `POST /api/requests/{request_key}/answer`
async fn answer(
    state: web::Data<AppState>,
    Real(caller): Real<Caller>,
    Real(request_key): Real<RequestKey>,
    Real(mut params): Real<Params>,
) -> ApiResult {
    state
        .service
        .answer(&caller, &request_key, params.secret())
        .await?;
    Ok(json_ok(&json!({ "state": "answered" })))
}

/// `GET /api/requests/private/{private_key}`
async fn private_view(
    state: web::Data<AppState>,
    Real(caller): Real<Caller>,
    Real(private_key): Real<PrivateKey>,
) -> ApiResult {
    let view = state.service.private_view(&caller, &private_key).await?;
    Ok(json_ok(&private_json(&view, state.service.links())))
}

/// `POST /api/requests/private/{private_key}/reveal`
async fn reveal(
    state: web::Data<AppState>,
    Real(caller): Real<Caller>,
    Real(private_key): Real<PrivateKey>,
) -> ApiResult {
    let value = state.service.reveal_answer(&caller, &private_key).await?;
    Ok(json_ok(&json!({
        "state": "revealed",
        "value": value.expose(),
    })))
}

/// `POST /api/requests/private/{private_key}/cancel`
async fn cancel(
    state: web::Data<AppState>,
    Real(caller): Real<Caller>,
    Real(private_key): Real<PrivateKey>,
) -> ApiResult {
    let view = state.service.cancel_request(&caller, &private_key).await?;
    Ok(json_ok(&private_json(&view, state.service.links())))
}

/// The requester's view: both links while it waits (`null` after), the
/// state, and how long what is live has left.
fn private_json(view: &PrivateView, links: &Links) -> Value {
    json!({
        "custid": view.owner,
        "private_key": view.private_key.expose(),
        "private_url": links.private(&view.private_key),
        "request_key": view.request_key.as_ref().map(|k| k.expose()),
        "request_url": view.request_key.as_ref().map(|k| links.request(k)),
        "state": view.status.as_str(),
        "note": view.note.as_ref().map(|n| n.expose()),
        "ttl": view.ttl,
        "created": view.created,
        "updated": view.updated,
        "answered": view.answered,
        "expires_in": view.live_until.map(|until| until.saturating_sub(unix_now())),
    })
}
