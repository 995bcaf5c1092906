//! Why a registration or an assertion was refused.

use std::fmt;

/// The check that failed. Each variant's [`reason`](Self::reason) is a short sentence that names it
/// and carries no input, so it is safe for a client (and a log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebauthnError {
    /// The response could not be decoded: the sentence says which part.
    Malformed(&'static str),
    /// `type` is not `public-key`, or `clientDataJSON.type` is not the ceremony's.
    WrongType,
    /// `clientDataJSON.challenge` is not the challenge the caller expects.
    ChallengeMismatch,
    /// `clientDataJSON.origin` is none of the relying party's origins.
    OriginNotAllowed,
    /// The ceremony ran in a cross-origin iframe (`crossOrigin: true` or a `topOrigin`).
    CrossOrigin,
    /// `rpIdHash` is not the SHA-256 of our RP ID.
    RpIdMismatch,
    /// The UP flag is not set.
    UserNotPresent,
    /// The UV flag is not set and the relying party requires user verification.
    UserNotVerified,
    /// A registration without attested credential data (the AT flag is not set).
    NoCredentialData,
    /// The credential key's COSE algorithm is not one of [`super::ALGORITHMS`].
    UnsupportedAlgorithm,
    /// The COSE key is not a valid key of its algorithm.
    BadKey,
    /// An attestation statement format or type we do not verify.
    UnsupportedAttestation,
    /// A malformed attestation statement, or a self-attestation signature that does not verify.
    BadAttestation,
    /// The assertion signature does not verify with the stored key.
    BadSignature,
    /// The signature counter did not increase (a sign of a cloned authenticator, §6.1.1).
    SignCountRegressed,
}

impl WebauthnError {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Malformed(what) => what,
            Self::WrongType => "The credential or client data type is wrong for this ceremony.",
            Self::ChallengeMismatch => "The challenge is not the one issued for this ceremony.",
            Self::OriginNotAllowed => "The origin is not allowed.",
            Self::CrossOrigin => "A passkey ceremony in a cross-origin frame is not allowed.",
            Self::RpIdMismatch => "The relying party ID hash does not match.",
            Self::UserNotPresent => "The authenticator did not report user presence.",
            Self::UserNotVerified => "The authenticator did not report user verification.",
            Self::NoCredentialData => "The registration carries no attested credential data.",
            Self::UnsupportedAlgorithm => "The credential's algorithm is not supported.",
            Self::BadKey => "The credential public key is not valid.",
            Self::UnsupportedAttestation => "The attestation format is not supported.",
            Self::BadAttestation => "The attestation statement is not valid.",
            Self::BadSignature => "The signature is not valid.",
            Self::SignCountRegressed => "The signature counter did not increase.",
        }
    }
}

impl fmt::Display for WebauthnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for WebauthnError {}
