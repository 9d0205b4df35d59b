//! Guides: how to use the crate for one job at a time.
//!
//! Each guide is a page of this module; every code block in them is a doctest.

#[doc = include_str!("../docs/guide/observability.md")]
pub mod observability {}
