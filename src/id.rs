//! Dense ids for accounts and indicators, and stable content-derived cluster ids.
//!
//! # Overview
//!
//! - [`AccountId`] and [`IndicatorId`] are dense `u32` indexes assigned by the
//!   index in sorted key order, so they fit a `RoaringBitmap` and do not depend
//!   on input order.
//! - [`ClusterId`] is an opaque string derived from a cluster's content (its
//!   earliest member), so it stays the same across runs and as input grows.

use std::fmt;

macro_rules! dense_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(u32);

        impl $name {
            /// Wraps a raw dense index.
            #[inline]
            pub const fn new(raw: u32) -> Self {
                Self(raw)
            }

            /// The raw dense index.
            #[inline]
            pub const fn as_u32(self) -> u32 {
                self.0
            }

            /// The raw dense index as a `usize`, for indexing slices.
            #[inline]
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

dense_id! {
    /// Dense id of an account: its rank among all account ids in sorted order.
    AccountId
}

dense_id! {
    /// Dense id of an indicator (a kind and a value): its rank in sorted order.
    IndicatorId
}

/// Opaque id of a detected community, stable across runs on the same input.
///
/// Derived from the community's content, never from the order communities
/// were numbered in, so a cluster whose membership barely changed keeps it.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ClusterId(String);

impl ClusterId {
    /// Wraps an id string as read from a report.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ClusterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_ids_round_trip() {
        let a = AccountId::new(7);
        assert_eq!(a.as_u32(), 7);
        assert_eq!(a.index(), 7);
        assert_eq!(a.to_string(), "7");
        assert!(IndicatorId::new(1) < IndicatorId::new(2));
    }
}
