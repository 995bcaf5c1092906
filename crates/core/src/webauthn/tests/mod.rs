//! Tests of the WebAuthn module: known answers from a real authenticator and from the specification,
//! one refusal per check of each ceremony, and hostile input.

mod assertion;
pub(crate) mod authenticator;
mod known_answers;
mod malformed;
mod registration;
