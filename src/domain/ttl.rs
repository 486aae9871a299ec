use super::{ParamError, parse_clamped_int};

/// The TTL range and default that apply to one kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TtlPolicy {
    pub min: u64,
    pub max: u64,
    pub default: u64,
}

/// A secret's lifetime in seconds, always inside the caller's range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ttl(u64);

impl Ttl {
    /// Takes the `ttl` parameter: missing or empty is the default; an integer outside
    /// the range is clamped silently (clients rely on that); anything else is
    /// `Invalid TTL`.
    pub fn parse(raw: Option<&str>, policy: &TtlPolicy) -> Result<Self, ParamError> {
        let parsed =
            parse_clamped_int(raw, policy.min, policy.max).map_err(|()| ParamError::InvalidTtl)?;
        Ok(Self(parsed.unwrap_or_else(|| {
            policy.default.clamp(policy.min, policy.max)
        })))
    }

    pub fn seconds(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: TtlPolicy = TtlPolicy {
        min: 60,
        max: 604_800,
        default: 604_800,
    };

    #[test]
    fn missing_is_default_and_out_of_range_clamps() {
        assert_eq!(Ttl::parse(None, &P).unwrap().seconds(), 604_800);
        assert_eq!(Ttl::parse(Some("1"), &P).unwrap().seconds(), 60);
        assert_eq!(Ttl::parse(Some("99999999"), &P).unwrap().seconds(), 604_800);
        assert_eq!(Ttl::parse(Some("3600"), &P).unwrap().seconds(), 3600);
        assert_eq!(
            Ttl::parse(Some("1.5"), &P).unwrap_err(),
            ParamError::InvalidTtl
        );
    }
}
