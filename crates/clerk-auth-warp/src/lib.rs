//! Clerk request authentication for warp (in progress).
