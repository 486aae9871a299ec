//! What the handlers of every face take from a request before they call the
//! service: who is calling ([`Caller`](crate::service::Caller)), the parameters in
//! every shape clients send ([`Params`], and v2's nested under `secret`:
//! [`SecretParams`]), and the key in the path (any
//! [`FromPath`] key), each an [`Extract`]; and the status each
//! [`Error`](crate::Error) has in HTTP ([`status`]).
//!
//! None of these is an actix extractor by itself: each face wraps them in its own
//! (`api::V1`, the requests API's `Real`, `web::Page`), which refuses with that
//! face's error. A handler's signature so decides how a bad request is answered,
//! and a page can never answer with the API's JSON.

mod caller;
mod params;
mod path_key;
mod signed_in;
pub mod status;

pub use caller::{GuestRoute, client_address};
pub use params::{BodyLimits, Params, SecretParams, decode_nested, decode_params};
pub use path_key::UnknownKey;
pub use signed_in::SignedIn;

use actix_web::HttpRequest;
use actix_web::dev::Payload;
use futures_util::FutureExt;
use std::future::Future;

use crate::domain::FromPath;

/// A value taken from a request, or the reason it cannot be: the half of an
/// actix extractor that every face shares. [`extract`] is the other half each
/// face's extractor calls, mapping the rejection into its own error.
pub trait Extract: Sized + 'static {
    /// Why the request has no such value: an [`Error`](crate::Error), or [`UnknownKey`] for
    /// a path key (which each face words in its own way).
    type Rejection;
    type Future: Future<Output = Result<Self, Self::Rejection>>;

    fn extract(req: &HttpRequest, payload: &mut Payload) -> Self::Future;
}

/// The future a face's extractor returns: [`Extract::extract`]'s, with the
/// value wrapped and the rejection turned into the face's error. A plain `fn`
/// (not a closure) so that the type can be named in `FromRequest::Future`.
pub type Extracting<T, W, E> = futures_util::future::Map<
    <T as Extract>::Future,
    fn(Result<T, <T as Extract>::Rejection>) -> Result<W, E>,
>;

/// Extracts a `T` for a face whose extractor is `W` and whose error is `E`.
pub fn extract<T, W, E>(
    req: &HttpRequest,
    payload: &mut Payload,
    wrap: fn(Result<T, T::Rejection>) -> Result<W, E>,
) -> Extracting<T, W, E>
where
    T: Extract,
{
    T::extract(req, payload).map(wrap)
}

/// Declares `$name<T>`: the extractor of one face, which takes any [`Extract`]
/// value and refuses with the face's error `$error` (one line per face instead
/// of the same dozen lines three times: a blanket impl of actix's
/// `FromRequest` over every face is not allowed, the trait being foreign).
macro_rules! face_extractor {
    ($(#[$doc:meta])* $name:ident, $error:ty) => {
        $(#[$doc])*
        pub struct $name<T>(pub T);

        impl<T: $crate::http::extract::Extract> actix_web::FromRequest for $name<T>
        where
            $error: From<T::Rejection>,
        {
            type Error = $error;
            type Future = $crate::http::extract::Extracting<T, Self, $error>;

            fn from_request(
                req: &actix_web::HttpRequest,
                payload: &mut actix_web::dev::Payload,
            ) -> Self::Future {
                $crate::http::extract::extract(req, payload, |taken| {
                    taken.map($name).map_err(<$error>::from)
                })
            }
        }
    };
}
pub(crate) use face_extractor;

/// A key taken from the route's `{key}` segment.
impl<K: FromPath + 'static> Extract for K {
    type Rejection = UnknownKey<K>;
    type Future = std::future::Ready<Result<K, UnknownKey<K>>>;

    fn extract(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(path_key::from_path(req))
    }
}
