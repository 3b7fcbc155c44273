//! Clerk request authentication for rocket (in progress).
