//! The C ABI of ra (its own issue).
