//! Who is signed in on the pages: the mark the pages' session middleware
//! (`http::web::sessions`) leaves on a request whose session cookie names a
//! live session, for [`Caller`](crate::service::Caller)'s extractor and the
//! pages' frame to read.

use crate::accounts::AccountName;

/// The account whose live session the request's cookie named. Only the
/// pages' scope ever puts one in a request's extensions: an API call is
/// never signed in by a cookie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn(pub AccountName);
