//! Conformance suite helpers (in progress).
