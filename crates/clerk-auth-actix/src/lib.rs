//! Clerk request authentication for actix (in progress).
