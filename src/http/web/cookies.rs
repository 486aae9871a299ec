//! The pages' sign-in cookies, named and built in one place: the session
//! cookie and the pending single sign-on's.
//!
//! Both are `HttpOnly` (no script reads them), `SameSite=Lax` (sent on the
//! top-level navigation back from the OpenID provider, never on a cross-site
//! POST), `Path=/` and without `Domain` (this host only). On an https
//! `base_url` they carry the `__Host-` prefix, which makes the browser insist
//! on all of that and on `Secure`; on a plain-http `base_url` (a loopback
//! test, a private network) neither, since browsers refuse a `__Host-` or
//! `Secure` cookie that did not come over https.

use actix_web::cookie::{Cookie, SameSite, time};

/// Which of the sign-in cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The session: its value names a session record (by a keyed hash).
    Session,
    /// A single sign-on under way: its pending state, sealed by the server.
    Pending,
}

/// How the cookies are named and flagged on this server: `secure` when
/// `base_url` is https.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jar {
    pub secure: bool,
}

impl Jar {
    /// The jar for a server whose own origin is `origin` (`scheme://host`).
    pub fn for_origin(origin: &str) -> Self {
        Self {
            secure: origin
                .get(..8)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
        }
    }

    /// The cookie's name: `__Host-otsd_…` when secure, `otsd_…` otherwise.
    pub fn name(self, kind: Kind) -> &'static str {
        match (kind, self.secure) {
            (Kind::Session, true) => "__Host-otsd_session",
            (Kind::Session, false) => "otsd_session",
            (Kind::Pending, true) => "__Host-otsd_oidc",
            (Kind::Pending, false) => "otsd_oidc",
        }
    }

    /// The cookie that sets `value` for `max_age` seconds.
    pub fn set(self, kind: Kind, value: &str, max_age: u64) -> Cookie<'static> {
        let seconds = i64::try_from(max_age).unwrap_or(i64::MAX);
        Cookie::build(self.name(kind), value.to_owned())
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(time::Duration::seconds(seconds))
            .finish()
    }

    /// The cookie that makes the browser forget `kind` at once.
    pub fn clear(self, kind: Kind) -> Cookie<'static> {
        self.set(kind, "", 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cookie: &Cookie<'_>) -> String {
        cookie.to_string()
    }

    #[test]
    fn on_https_the_cookies_are_host_prefixed_secure_httponly_lax_path_root_without_domain() {
        let jar = Jar::for_origin("https://secrets.example.org");
        assert!(jar.secure);
        let session = header(&jar.set(Kind::Session, "abc", 43_200));
        assert!(session.starts_with("__Host-otsd_session=abc;"), "{session}");
        for part in [
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=43200",
        ] {
            assert!(session.contains(part), "{part} in {session}");
        }
        assert!(!session.contains("Domain"), "{session}");
        let pending = header(&jar.set(Kind::Pending, "sealed", 600));
        assert!(pending.starts_with("__Host-otsd_oidc=sealed;"), "{pending}");
        assert!(pending.contains("Max-Age=600") && pending.contains("Secure"));
    }

    #[test]
    fn on_plain_http_the_cookies_have_neither_the_prefix_nor_secure() {
        for origin in ["http://127.0.0.1:8080", "", "HTTP://x"] {
            let jar = Jar::for_origin(origin);
            assert!(!jar.secure, "{origin:?}");
            let session = header(&jar.set(Kind::Session, "abc", 60));
            assert!(session.starts_with("otsd_session=abc;"), "{session}");
            assert!(!session.contains("Secure"), "{session}");
            for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=60"] {
                assert!(session.contains(part), "{part} in {session}");
            }
            assert_eq!(jar.name(Kind::Pending), "otsd_oidc");
        }
        assert!(Jar::for_origin("HTTPS://Secrets.Example").secure);
    }

    #[test]
    fn clearing_keeps_the_name_and_path_and_expires_at_once() {
        for secure in [true, false] {
            let jar = Jar { secure };
            let cleared = header(&jar.clear(Kind::Session));
            assert!(
                cleared.starts_with(&format!("{}=;", jar.name(Kind::Session))),
                "{cleared}"
            );
            assert!(cleared.contains("Max-Age=0") && cleared.contains("Path=/"));
        }
    }
}
