//! The background key-set retry the self-check starts when the key set cannot be had at start-up:
//! one thread per instance, backing off, ending when the keys arrive or the instance is dropped.

use super::*;

/// Retry pauses shorter than this are raised to it, so that a retry never spins.
const MIN_RETRY_DELAY: Duration = Duration::from_millis(50);

/// How often a sleeping retry thread checks whether the options are gone.
const RETRY_POLL: Duration = Duration::from_millis(500);

/// The name of the background key-set retry thread.
const RETRY_THREAD_NAME: &str = "clerk-auth-key-set-retry";

/// Starts the background retry unless one runs for this instance already; it holds only a weak
/// reference to the key source.
pub(super) fn spawn_retry(options: &Options, first_delay: Duration, max_delay: Duration) {
    let Some(claim) = options.key_set_retry().claim() else {
        tracing::debug!(target: "clerk_auth", "Clerk self-check: the key-set retry already runs");
        return;
    };
    let weak = Arc::downgrade(options.verifier().source());
    let spawned = thread::Builder::new()
        .name(RETRY_THREAD_NAME.to_owned())
        .spawn(move || {
            retry_loop(&weak, first_delay, max_delay);
            drop(claim);
        });
    if let Err(error) = spawned {
        tracing::warn!(
            target: "clerk_auth",
            %error,
            "Clerk self-check: could not start the key-set retry thread; requests will fetch the \
             key set instead"
        );
    }
}

fn retry_loop(source: &Weak<dyn TokenVerifier>, first_delay: Duration, max_delay: Duration) {
    let max_delay = max_delay.max(MIN_RETRY_DELAY);
    let mut delay = first_delay.max(MIN_RETRY_DELAY).min(max_delay);
    loop {
        if !sleep_while_alive(source, delay) {
            return;
        }
        let Some(strong) = source.upgrade() else {
            return;
        };
        match strong.warm_up() {
            None => return,
            Some(Ok(keys)) if keys > 0 => {
                tracing::info!(
                    target: "clerk_auth",
                    keys,
                    "Clerk: the key set is loaded now ({keys} signing keys); session tokens verify"
                );
                return;
            }
            Some(Ok(_)) => tracing::debug!(
                target: "clerk_auth",
                "Clerk: key-set retry found no usable signing key"
            ),
            Some(Err(error)) => tracing::debug!(
                target: "clerk_auth",
                reason = %error.reason,
                "Clerk: key-set retry failed"
            ),
        }
        drop(strong);
        delay = delay.saturating_mul(2).min(max_delay);
    }
}

/// Sleeps for `duration` in short steps; `false` as soon as the source is dropped.
fn sleep_while_alive(source: &Weak<dyn TokenVerifier>, duration: Duration) -> bool {
    let mut remaining = duration;
    loop {
        if source.strong_count() == 0 {
            return false;
        }
        if remaining.is_zero() {
            return true;
        }
        let step = remaining.min(RETRY_POLL);
        thread::sleep(step);
        remaining = remaining.saturating_sub(step);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_source_ends_the_retry_at_once() {
        // A dropped source ends the loop at once, whatever the pauses.
        let weak: Weak<dyn TokenVerifier> = {
            let source: Arc<dyn TokenVerifier> = Arc::new(crate::verify::jwks::JwksVerifier::new(
                crate::verify::jwks::JwksConfig::new(""),
            ));
            Arc::downgrade(&source)
        };
        retry_loop(&weak, Duration::ZERO, Duration::ZERO);
        assert!(!sleep_while_alive(&weak, Duration::from_secs(3600)));
    }
}
