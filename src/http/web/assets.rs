//! Static files, embedded in the binary at build time: one binary, no CDN.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::WebError;

const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../../static/style.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../../static/app.js"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../../static/favicon.svg"),
    ),
];

/// `GET /static/{file}`.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("file").unwrap_or_default();
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, body)) => HttpResponse::Ok()
            .content_type(*content_type)
            .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
            .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
            .body(*body),
        None => WebError::NotFound.error_response(),
    }
}
