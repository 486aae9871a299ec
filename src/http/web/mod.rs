//! The pages people use in a browser (spec §6).
//!
//! Plain HTML forms and redirects: everything works without JavaScript, which only
//! adds copy buttons. `GET /secret/{key}` never reveals anything (link-preview bots
//! and scanners must not burn secrets); only the POST from that page does.
//!
//! Every page goes through [`page`], which sets the security headers, and every
//! POST first passes [`same_origin`], the middleware on the pages' scope that
//! refuses cross-site form posts. Handlers take what they need through the
//! [`Page`] extractor, call the [`Service`](crate::service::Service), and render.
//! Every failure, a request refused before its handler ran too, is a
//! [`WebError`], rendered as a page in one place (`WebError::render`).

mod assets;
mod cookies;
mod handlers;
mod i18n;
mod messages;
mod pages;
mod requests;
mod signin;

pub use pages::Frame;
use pages::Notice;

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use maud::Markup;

use crate::domain::{PrivateKey, ReceiptKey, RequestKey, SecretKey};
use crate::error::Error;
use crate::http::extract::status::intended;
use crate::http::extract::{SignedIn, UnknownKey, face_extractor};
use crate::http::state::AppState;

/// No inline script or style, nothing from elsewhere, no framing, forms only to us.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Registers the pages and static assets. Paths the pages do not have fall
/// through to the application's default service.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(resource("/static/{file}").route(web::get().to(assets::serve)))
        .service(
            web::scope("")
                .wrap(from_fn(resolve_session))
                .wrap(from_fn(same_origin))
                .wrap(from_fn(render_errors))
                .service(resource("/").route(web::get().to(handlers::index)))
                .service(resource("/share").route(web::post().to(handlers::create)))
                .service(
                    resource("/secret/{key}")
                        .route(web::get().to(handlers::show_secret))
                        .route(web::post().to(handlers::reveal_secret)),
                )
                .service(resource("/private/{key}").route(web::get().to(handlers::receipt)))
                .service(
                    resource("/private/{key}/burn")
                        .route(web::get().to(handlers::confirm_burn))
                        .route(web::post().to(handlers::burn)),
                )
                // The reference's newer name of the receipt page: the URLs
                // API v2 hands out (`receipt_url`, `burn_url`) point here.
                .service(resource("/receipt/{key}").route(web::get().to(handlers::receipt)))
                .service(
                    resource("/receipt/{key}/burn")
                        .route(web::get().to(handlers::confirm_burn))
                        .route(web::post().to(handlers::burn)),
                )
                .service(
                    resource("/request")
                        .route(web::get().to(requests::new))
                        .route(web::post().to(requests::create)),
                )
                // The requester's private page. Its key is the private key
                // (`private_key` in `/api/requests`), but the page stays at
                // `/request/{key}`: links already handed out point there.
                .service(resource("/request/{key}").route(web::get().to(requests::private_page)))
                .service(resource("/request/{key}/reveal").route(web::post().to(requests::reveal)))
                .service(
                    resource("/request/{key}/cancel")
                        .route(web::get().to(requests::confirm_cancel))
                        .route(web::post().to(requests::cancel)),
                )
                .service(
                    resource("/ask/{key}")
                        .route(web::get().to(requests::answer_form))
                        .route(web::post().to(requests::answer)),
                )
                .service(resource("/ask/{key}/sent").route(web::get().to(requests::sent)))
                .service(
                    resource("/signin")
                        .route(web::get().to(signin::form))
                        .route(web::post().to(signin::sign_in)),
                )
                .service(resource("/signout").route(web::post().to(signin::sign_out)))
                .service(resource("/auth/oidc/start").route(web::get().to(signin::start)))
                .service(resource("/auth/oidc/callback").route(web::get().to(signin::callback)))
                .service(resource("/account").route(web::get().to(signin::account)))
                .service(resource("/account/token").route(web::post().to(signin::renew_token))),
        );
}

/// The codes of the pages' languages, in the switcher's order.
pub fn language_codes() -> Vec<&'static str> {
    i18n::Lang::all().map(i18n::Lang::code).collect()
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        Err::<HttpResponse, _>(WebError::NotFound)
    }))
}

/// Whether `req` is a browser's that should get a page rather than the API's
/// JSON: one that asks for HTML, outside `/api/`. (API clients, scripts and
/// `curl` ask for nothing in particular.)
pub fn wants_page(req: &HttpRequest) -> bool {
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    wants_html && !req.path().starts_with("/api/")
}

/// The page for a path nobody serves, in the request's language.
pub fn not_found(req: &HttpRequest) -> HttpResponse {
    WebError::NotFound.render(&Frame::of(req))
}

/// Renders the pages' errors with the request's [`Frame`] (instance name and
/// language), which [`WebError::error_response`] cannot see, and remembers a
/// language picked with the switcher in a cookie.
async fn render_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    let response = next.call(req).await?;
    // Only an error needs the frame: a page a handler rendered has its own.
    let rendered = response
        .response()
        .error()
        .and_then(|err| err.as_error::<WebError>())
        .map(|err| err.render(&Frame::of(response.request())));
    let chosen = pages::chosen_lang(response.request());
    let mut response = match rendered {
        Some(page) => response.into_response(page),
        None => response.map_into_boxed_body(),
    };
    if let Some(lang) = chosen {
        // The switcher's choice is remembered for the next pages.
        let cookie = Cookie::build(i18n::COOKIE, lang.code())
            .path("/")
            .max_age(time::Duration::days(365))
            .same_site(SameSite::Lax)
            .finish();
        // Our name and a language code: always a valid header value.
        let _ = response.response_mut().add_cookie(&cookie);
    }
    Ok(response)
}

/// An HTML page with the security headers every page carries. Pages are
/// `no-store`: most of them hold a key or a value.
pub fn page(status: StatusCode, markup: Markup) -> HttpResponse {
    let mut response = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(markup.into_string());
    security_headers(response.headers_mut());
    response
}

fn security_headers(headers: &mut actix_web::http::header::HeaderMap) {
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// Where a page sends the browser next: one of our own pages, named by a key
/// that was parsed (so `[0-9a-z]` only, see `domain::keys`). Built from
/// nothing else, a `Location` can never carry a byte of the request's path.
#[derive(Clone, Copy)]
pub enum Redirect<'a> {
    /// `/private/{key}`: a secret's receipt.
    Receipt(&'a ReceiptKey),
    /// `/request/{key}`: a requester's private page (the path predates the
    /// name "private"; links handed out keep working).
    Private(&'a PrivateKey),
    /// `/ask/{key}`: a request link's form.
    Ask(&'a RequestKey),
    /// `/ask/{key}/sent`: an answer's confirmation.
    AnswerSent(&'a RequestKey),
    /// `/`: the start page.
    Home,
    /// `/signin`.
    SignIn,
    /// The OpenID provider's authorization URL, as the service built it from
    /// the provider's discovery document and random values of its own:
    /// nothing of the request is in it.
    Provider(&'a str),
}

impl Redirect<'_> {
    /// The path the redirect points to.
    pub fn location(self) -> String {
        match self {
            Self::Receipt(key) => format!("/private/{}", key.expose()),
            Self::Private(key) => format!("/request/{}", key.expose()),
            Self::Ask(key) => format!("/ask/{}", key.expose()),
            Self::AnswerSent(key) => format!("/ask/{}/sent", key.expose()),
            Self::Home => "/".to_owned(),
            Self::SignIn => "/signin".to_owned(),
            Self::Provider(url) => url.to_owned(),
        }
    }
}

/// A redirect after a successful POST (so reloading does not post again).
pub fn see_other(to: Redirect<'_>) -> HttpResponse {
    let mut response = HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.location()))
        .finish();
    security_headers(response.headers_mut());
    response
}

/// Resolves the session cookie: a live session's account goes into the
/// request's extensions as [`SignedIn`], for [`Caller`](crate::service::Caller)
/// and the [`Frame`]; a cookie whose session has ended (expired, signed out,
/// ended by a new password or token, its account removed) is cleared in the
/// response, unless the handler set a new one. Only the pages' scope has this
/// middleware: the API never reads the cookie.
async fn resolve_session(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or(WebError::Page(Error::Internal))?;
    let jar = cookies::Jar::for_origin(state.service.links().origin());
    let name = jar.name(cookies::Kind::Session);
    let mut ended = false;
    if let Some(cookie) = req.cookie(name) {
        match state.service.session(cookie.value()).await {
            Ok(Some(account)) => {
                req.extensions_mut().insert(SignedIn(account));
            }
            Ok(None) => ended = true,
            Err(err) => {
                return Ok(req
                    .error_response(WebError::Page(err))
                    .map_into_right_body());
            }
        }
    }
    let mut response = next.call(req).await?;
    if ended
        && !response
            .response()
            .cookies()
            .any(|cookie| cookie.name() == name)
    {
        // Our name, no value: always a valid header value.
        let _ = response
            .response_mut()
            .add_cookie(&jar.clear(cookies::Kind::Session));
    }
    Ok(response.map_into_left_body())
}

/// Refuses form posts that a browser made on behalf of another site. Only a POST
/// to one of the pages is checked: every other request passes untouched.
///
/// Browsers send `Sec-Fetch-Site`; only `same-origin` (our own form) and `none` (the
/// user's own action) pass. Older browsers send `Origin` instead, which must be our
/// base URL's origin. A request with neither did not come from a browser form, so
/// it cannot be a cross-site forgery.
pub async fn same_origin(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() == Method::POST && req.match_pattern().is_some() {
        let state = req
            .app_data::<web::Data<AppState>>()
            .ok_or(WebError::Page(Error::Internal))?;
        let get = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        let cross_site = match get("sec-fetch-site") {
            Some(site) => !matches!(site, "same-origin" | "none"),
            None => get("origin")
                .is_some_and(|origin| !origin.eq_ignore_ascii_case(state.service.links().origin())),
        };
        if cross_site {
            // An answer carrying its error, for `render_errors` to render.
            return Ok(req
                .error_response(WebError::CrossSite)
                .map_into_right_body());
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

face_extractor!(
    /// An extractor of the pages: the caller, the form's parameters or the
    /// path's key, or a refusal as a [`WebError`], which is always a page.
    Page,
    WebError
);

/// Failures of the web pages, rendered as HTML in one place.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Page(#[from] Error),
    #[error("This form was sent from another site, so it was refused.")]
    CrossSite,
    #[error("There is no page here.")]
    NotFound,
    /// A receipt that is unknown, or gone with its secret: not the secret's page.
    #[error("Unknown receipt")]
    UnknownReceipt,
    /// A request's private link that is unknown, or whose request is gone.
    #[error("Unknown request")]
    UnknownPrivateLink,
}

/// A link whose key cannot be a key gets the page of what it would have named.
impl From<UnknownKey<SecretKey>> for WebError {
    fn from(unknown: UnknownKey<SecretKey>) -> Self {
        Self::Page(Error::unknown(&unknown.raw))
    }
}

impl From<UnknownKey<ReceiptKey>> for WebError {
    fn from(_: UnknownKey<ReceiptKey>) -> Self {
        Self::UnknownReceipt
    }
}

impl From<UnknownKey<RequestKey>> for WebError {
    fn from(_: UnknownKey<RequestKey>) -> Self {
        Self::Page(Error::UnknownRequest)
    }
}

impl From<UnknownKey<PrivateKey>> for WebError {
    fn from(_: UnknownKey<PrivateKey>) -> Self {
        Self::UnknownPrivateLink
    }
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Page(err) => intended(err),
            Self::CrossSite => StatusCode::FORBIDDEN,
            Self::NotFound | Self::UnknownReceipt | Self::UnknownPrivateLink => {
                StatusCode::NOT_FOUND
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.render(&Frame::default())
    }
}

impl WebError {
    fn render(&self, frame: &Frame) -> HttpResponse {
        let markup = match self {
            // Unknown, used, expired: one page that does not tell which.
            Self::Page(Error::UnknownSecret { .. }) => pages::notice(frame, Notice::Gone),
            Self::UnknownReceipt => pages::notice(frame, Notice::ReceiptGone),
            Self::Page(Error::UnknownRequest) => pages::notice(frame, Notice::RequestGone),
            Self::UnknownPrivateLink => pages::notice(frame, Notice::PrivateGone),
            Self::NotFound => pages::notice(frame, Notice::NotFound),
            Self::CrossSite => pages::error(frame, frame.lang.t("error.cross_site")),
            Self::Page(err) => pages::error(frame, &frame.lang.error(err)),
        };
        let mut response = page(self.status_code(), markup);
        if let Self::Page(err) = self
            && let Some(seconds) = err.retry_after()
        {
            retry_after(&mut response, seconds);
        }
        response
    }
}

/// Adds `Retry-After: seconds`.
pub fn retry_after(response: &mut HttpResponse, seconds: u64) {
    if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
}
