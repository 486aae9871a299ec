//! `POST /api/v1/share` (alias `/create`) and `POST /api/v1/generate`.

use actix_web::{HttpResponse, web};

use super::views::{MetadataJson, Shape};
use crate::api::{ApiError, AppState, Caller, Params, json_ok};
use crate::domain::{GeneratedLength, SecretValue, generate_password};

/// Stores the `secret` parameter.
pub async fn share(
    state: web::Data<AppState>,
    caller: Caller,
    mut params: Params,
) -> Result<HttpResponse, ApiError> {
    state.may_create(&caller)?;
    let max = state.limits(&caller).max_secret_bytes;
    let value = SecretValue::parse(params.take("secret"), max)?;
    let receipt = state
        .create(state.new_secret(&caller, &mut params, value)?)
        .await?;
    Ok(json_ok(&MetadataJson::new(&receipt, Shape::Full)))
}

/// Generates a password, stores it, and returns it once in `value`.
pub async fn generate(
    state: web::Data<AppState>,
    caller: Caller,
    mut params: Params,
) -> Result<HttpResponse, ApiError> {
    state.may_create(&caller)?;
    let value = generate_password(GeneratedLength::parse(params.get("length"))?);
    let receipt = state
        .create(state.new_secret(&caller, &mut params, value.clone())?)
        .await?;
    Ok(json_ok(
        &MetadataJson::new(&receipt, Shape::Full).with_value(value.expose()),
    ))
}
