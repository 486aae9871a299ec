//! The pages of "request a secret": the form that makes a request, the
//! requester's private page (`/request/{key}`), and the request link's page
//! (`/ask/{key}`) that takes one answer. Thin, like `handlers`: parse, call
//! the service, render; every post that succeeds redirects.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use super::handlers::{form_again, form_page, must_sign_in, signed_in};
use super::pages::{self, Frame, Typed};
use super::{Page, Redirect, WebError, page, see_other};
use crate::domain::{PrivateKey, RequestKey};
use crate::error::Error;
use crate::http::extract::Params;
use crate::http::extract::status::intended;
use crate::http::state::AppState;
use crate::service::{Ask, Caller};
use crate::vault::Asked;
use zeroize::Zeroizing;

type PageResult = Result<HttpResponse, WebError>;

/// `GET /request`
pub async fn new(state: web::Data<AppState>, frame: Frame) -> HttpResponse {
    if must_sign_in(&state, &frame) {
        return super::signin::sign_in_page(&state, &frame, StatusCode::OK, None);
    }
    form_page(
        &state,
        &frame,
        StatusCode::OK,
        None,
        Typed::default(),
        pages::ask,
    )
}

/// `POST /request`: makes the request, then to its private page. A refused
/// form is shown again with the reason.
pub async fn create(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(mut params): Page<Params>,
) -> PageResult {
    // Kept for a refusal's form (see `Typed`).
    let typed_note = params.get("note").map(|s| Zeroizing::new(s.to_owned()));
    let typed_account = params.get("account").map(str::to_owned);
    let typed_ttl = params.get("ttl").and_then(|t| t.trim().parse().ok());
    let result = async {
        let caller = signed_in(&state, caller, &mut params).await?;
        let ask = Ask {
            note: params.take("note"),
            ttl: params.take("ttl"),
        };
        state.service.ask(&caller, ask).await
    }
    .await;
    match result {
        Ok(view) => Ok(see_other(Redirect::Private(&view.private_key))),
        Err(err) => {
            let typed = Typed {
                text: typed_note.as_deref().map(String::as_str),
                account: typed_account.as_deref(),
                ttl: typed_ttl,
            };
            form_again(&state, &frame, err, typed, pages::ask)
        }
    }
}

/// A private page's failure: an unknown request is the requester's page.
fn private_error(err: Error) -> WebError {
    match err {
        Error::UnknownRequest => WebError::UnknownPrivateLink,
        other => other.into(),
    }
}

/// `GET /request/{key}`: the requester's page.
pub async fn private_page(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<PrivateKey>,
) -> PageResult {
    let view = state
        .service
        .private_view(&caller, &key)
        .await
        .map_err(private_error)?;
    let link = view
        .request_key
        .as_ref()
        .map(|k| state.service.links().request(k));
    Ok(page(
        StatusCode::OK,
        pages::private_page(&frame, &view, link.as_deref()),
    ))
}

/// `POST /request/{key}/reveal`: the answer, once. Before it arrived: back
/// to the private page, which says it is still waiting.
pub async fn reveal(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<PrivateKey>,
) -> PageResult {
    match state.service.reveal_answer(&caller, &key).await {
        Ok(value) => Ok(page(
            StatusCode::OK,
            pages::revealed_answer(&frame, value.expose()),
        )),
        Err(Error::NoAnswerYet) => Ok(see_other(Redirect::Private(&key))),
        Err(err) => Err(private_error(err)),
    }
}

/// `GET /request/{key}/cancel`: the confirm step. Nothing to cancel → the
/// private page.
pub async fn confirm_cancel(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<PrivateKey>,
) -> PageResult {
    let view = state
        .service
        .private_view(&caller, &key)
        .await
        .map_err(private_error)?;
    if !view.status.is_live() {
        return Ok(see_other(Redirect::Private(&key)));
    }
    Ok(page(
        StatusCode::OK,
        pages::confirm_cancel(&frame, key.expose()),
    ))
}

/// `POST /request/{key}/cancel`: cancels, then back to the private page.
pub async fn cancel(
    state: web::Data<AppState>,
    Page(caller): Page<Caller>,
    Page(key): Page<PrivateKey>,
) -> PageResult {
    match state.service.cancel_request(&caller, &key).await {
        // Already closed (answered and read, cancelled twice): the page says so.
        Ok(_) | Err(Error::UnknownRequest) => Ok(see_other(Redirect::Private(&key))),
        Err(err) => Err(private_error(err)),
    }
}

/// `GET /ask/{key}`: the note and the form. Shows nothing else, changes
/// nothing.
pub async fn answer_form(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<RequestKey>,
) -> PageResult {
    let open = state.service.open_request(&caller, &key).await?;
    Ok(page(
        StatusCode::OK,
        pages::answer_form(&frame, key.expose(), &open, None),
    ))
}

/// `POST /ask/{key}`: answers, then to the confirmation. A refused answer
/// (empty, too large) shows the form again with the reason.
pub async fn answer(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<RequestKey>,
    Page(mut params): Page<Params>,
) -> PageResult {
    match state.service.answer(&caller, &key, params.secret()).await {
        Ok(()) => Ok(see_other(Redirect::AnswerSent(&key))),
        Err(err @ Error::Param(_)) => {
            let open = state.service.open_request(&caller, &key).await?;
            Ok(page(
                intended(&err),
                pages::answer_form(&frame, key.expose(), &open, Some(&frame.lang.error(&err))),
            ))
        }
        Err(err) => Err(err.into()),
    }
}

/// `GET /ask/{key}/sent`: the confirmation, for a request that was answered.
/// While it is still open nothing was sent: back to its form. Anything else
/// (unknown, cancelled, expired) is the request's "not available" page.
pub async fn sent(
    state: web::Data<AppState>,
    frame: Frame,
    Page(caller): Page<Caller>,
    Page(key): Page<RequestKey>,
) -> PageResult {
    match state.service.asked(&caller, &key).await? {
        Asked::Open => Ok(see_other(Redirect::Ask(&key))),
        Asked::Answered => Ok(page(StatusCode::OK, pages::answer_sent(&frame))),
        Asked::Gone => Err(Error::UnknownRequest.into()),
    }
}
