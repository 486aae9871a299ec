//! One file per route group.

pub mod metadata;
pub mod secret;
pub mod share;
pub mod status;
mod views;
