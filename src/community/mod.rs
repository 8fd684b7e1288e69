//! community stage (being built).
