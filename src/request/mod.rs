//! What the handlers of both faces take from a request before they call the
//! service: who is calling ([`Caller`](crate::service::Caller)), the parameters in
//! every shape clients send ([`Params`]), and the key in the path ([`PathKey`]).
//! Each is an actix extractor that refuses with the one [`Error`](crate::Error).

mod caller;
mod params;
mod path_key;

pub use caller::client_address;
pub use params::{BodyLimits, Params, decode_params};
pub use path_key::PathKey;
