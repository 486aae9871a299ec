//! `POST /api/v1/share` (alias `/create`) and `POST /api/v1/generate`.

use actix_web::{HttpResponse, web};

use super::views::{MetadataJson, Shape};
use crate::http::api::{V1, V1Error, json_ok};
use crate::http::extract::Params;
use crate::http::state::AppState;
use crate::service::{Caller, Generate, Password, Share};

/// Stores the `secret` parameter.
pub async fn share(
    state: web::Data<AppState>,
    V1(caller): V1<Caller>,
    V1(mut params): V1<Params>,
) -> Result<HttpResponse, V1Error> {
    let request = Share {
        secret: params.secret(),
        options: params.secret_options(),
    };
    let receipt = state.service.share(&caller, request).await?;
    Ok(json_ok(&MetadataJson::new(&receipt, Shape::Full)))
}

/// Generates a password, stores it, and returns it once in `value`.
pub async fn generate(
    state: web::Data<AppState>,
    V1(caller): V1<Caller>,
    V1(mut params): V1<Params>,
) -> Result<HttpResponse, V1Error> {
    let request = Generate {
        password: Password::Default {
            length: params.take("length"),
        },
        options: params.secret_options(),
    };
    let generated = state.service.generate(&caller, request).await?;
    Ok(json_ok(
        &MetadataJson::new(&generated.receipt, Shape::Full).with_value(generated.value.expose()),
    ))
}
