use super::TtlPolicy;

/// What a passphrase for a new secret must look like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassphrasePolicy {
    pub min_length: usize,
    pub max_length: usize,
    pub required: bool,
}

/// Every limit that depends on who is calling (anonymous or an account).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerLimits {
    pub ttl: TtlPolicy,
    pub max_secret_bytes: usize,
    pub passphrase: PassphrasePolicy,
}
