//! The service's refusals in the page's language. The v1 API says them in
//! English ([`Error`]'s `Display`: clients match on those words); a page says
//! them in its reader's language, from the catalogue. The match has no
//! catch-all, so a new kind of error does not compile until it has its words.

use super::i18n::Lang;
use crate::domain::ParamError;
use crate::error::Error;
use crate::oidc::Refusal;

impl Lang {
    /// What a page says for `err`.
    pub fn error(self, err: &Error) -> String {
        let count = |key, n: &usize| self.tf(key, &[("n", &n.to_string())]);
        let key = match err {
            Error::UnknownSecret { .. } | Error::WrongPassphraseToReveal { .. } => "gone.text",
            Error::WrongPassphraseToBurn => "burn.wrong",
            Error::Param(param) => match param {
                ParamError::NothingToShare => "error.nothing_to_share",
                ParamError::SecretTooLarge(max) => return count("error.secret_too_large", max),
                ParamError::InvalidTtl => "error.invalid_ttl",
                ParamError::InvalidLength => "error.invalid_length",
                ParamError::PassphraseTooShort(min) => {
                    return count("error.passphrase_too_short", min);
                }
                ParamError::PassphraseTooLong(max) => {
                    return count("error.passphrase_too_long", max);
                }
                ParamError::PassphraseRequired => "error.passphrase_required",
                ParamError::InvalidPassphrase => "error.invalid_passphrase",
                ParamError::InvalidShareDomain => "error.invalid_share_domain",
                ParamError::InvalidRecipient => "error.invalid_recipient",
                ParamError::NoteTooLong(max) => return count("error.note_too_long", max),
                ParamError::InvalidNote => "error.invalid_note",
                ParamError::IncorrectPayload => "error.incorrect_payload",
                ParamError::LengthTooLong(max) => return count("error.length_too_long", max),
                ParamError::LengthTooShort(min) => return count("error.length_too_short", min),
                ParamError::InvalidCharacterSets => "error.invalid_character_sets",
                ParamError::InvalidIdentifiers => "error.invalid_identifiers",
                ParamError::InvalidMemo => "error.invalid_memo",
            },
            Error::NotAuthorized | Error::NotReceiptOwner => "error.not_authorized",
            Error::SignInFailed => "error.sign_in_failed",
            Error::SingleSignOn(refusal) => match refusal {
                Refusal::Unverified => "error.sso_unverified",
                Refusal::Domain => "error.sso_domain",
                Refusal::Group => "error.sso_group",
                Refusal::NoName => "error.sso_no_name",
                Refusal::NoAccount => "error.sso_no_account",
                Refusal::State | Refusal::Expired | Refusal::Provider(_) => "error.sso_failed",
            },
            Error::AccountRequiredForEmail => "error.account_for_email",
            Error::AccountRequiredToCreate => "error.account_to_create",
            Error::UnknownDomain(domain) | Error::DomainNotPermitted(domain) => {
                return self.tf("error.unknown_domain", &[("domain", domain)]);
            }
            Error::EmailNotConfigured => "error.email_not_configured",
            Error::UndeliverableEmail(address) => {
                return self.tf("error.undeliverable_email", &[("address", address)]);
            }
            Error::EmailFailed => "error.email_failed",
            Error::BodyTooLarge(max) => return count("error.body_too_large", max),
            Error::BodyTimeout => "error.body_timeout",
            Error::Busy => "error.busy",
            Error::StorageUnavailable => "error.storage_unavailable",
            Error::BadRequest(_)
            | Error::MalformedJson
            | Error::BadBody(_)
            | Error::TooManyIdentifiers(_) => "error.bad_form",
            Error::RateLimited { retry_after } | Error::PassphraseLocked { retry_after } => {
                return self.tf(
                    "error.rate_limited",
                    &[("duration", &self.duration(*retry_after))],
                );
            }
            Error::UnknownRequest => "request_gone.text",
            Error::NoAnswerYet => "error.no_answer_yet",
            Error::NotFound => "not_found.text",
            Error::Internal => "error.internal",
        };
        self.t(key).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In English a page says what the API says, word for word, wherever the
    /// API's message is meant for a person.
    #[test]
    fn english_pages_say_what_the_api_says() {
        for err in [
            Error::Param(ParamError::NothingToShare),
            Error::Param(ParamError::SecretTooLarge(32)),
            Error::Param(ParamError::InvalidTtl),
            Error::Param(ParamError::PassphraseTooShort(8)),
            Error::Param(ParamError::PassphraseTooLong(128)),
            Error::Param(ParamError::PassphraseRequired),
            Error::Param(ParamError::NoteTooLong(500)),
            Error::Param(ParamError::InvalidNote),
            Error::Param(ParamError::IncorrectPayload),
            Error::Param(ParamError::LengthTooLong(128)),
            Error::Param(ParamError::LengthTooShort(4)),
            Error::Param(ParamError::InvalidCharacterSets),
            Error::Param(ParamError::InvalidIdentifiers),
            Error::Param(ParamError::InvalidMemo),
            Error::NotAuthorized,
            Error::AccountRequiredForEmail,
            Error::AccountRequiredToCreate,
            Error::UnknownDomain("<b>x</b>".into()),
            Error::EmailNotConfigured,
            Error::UndeliverableEmail("a@b".into()),
            Error::EmailFailed,
            Error::BodyTooLarge(1024),
            Error::NoAnswerYet,
            Error::StorageUnavailable,
        ] {
            assert_eq!(Lang::En.error(&err), err.to_string());
        }
    }

    #[test]
    fn other_languages_say_it_in_their_words_with_the_numbers_and_names() {
        let too_long = Error::Param(ParamError::NoteTooLong(500));
        let german = Lang::De.error(&too_long);
        assert!(
            german.contains("500") && german != too_long.to_string(),
            "{german}"
        );
        let domain = Error::UnknownDomain("Evil.Example".into());
        for lang in Lang::all() {
            assert!(lang.error(&domain).contains("Evil.Example"), "{lang:?}");
            assert!(!lang.error(&Error::NotAuthorized).is_empty());
        }
    }
}
