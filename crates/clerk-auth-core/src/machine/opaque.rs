//! Opaque machine tokens (`ak_…`, `mt_…`, `oat_…`): the Backend API call, within the budget
//! and through the answer cache.

use super::*;

/// What the Backend API's `404` means, per kind (Clerk's not-found messages).
pub(super) fn what(kind: TokenType) -> &'static str {
    match kind {
        TokenType::ApiKey => "API key",
        TokenType::OauthToken => "OAuth token",
        _ => "Machine token",
    }
}

/// The over-budget state of an opaque token (decision 13): `503`, `Retry-After: 1`, no call.
pub(super) fn over_budget(kind: TokenType, parts: Machine<'_>) -> RequestState {
    Budget::report_over_budget(parts.diagnostics, "machine token");
    RequestState::over_budget(Some(kind), Auth::UnauthenticatedMachine(kind))
}

/// What one Backend API flight for an opaque token produced (shared by concurrent callers).
#[derive(Clone)]
pub(super) enum Outcome {
    Verified(Box<MachineAuth>),
    Failed(MachineTokenVerificationError),
    OverBudget,
}

pub(super) fn verify_opaque(
    kind: TokenType,
    token: &str,
    parts: Machine<'_>,
    may_block: bool,
) -> Option<RequestState> {
    use MachineTokenVerificationErrorCode as Code;
    // Decision 9: an oversized token is rejected before any work (and never sent anywhere).
    if token.len() > MAX_TOKEN_LEN {
        return Some(state(
            token,
            Err(MachineTokenVerificationError::new(
                kind,
                Code::TokenInvalid,
                format!("Invalid token: longer than {MAX_TOKEN_LEN} bytes."),
                None,
            )),
        ));
    }
    let cache = parts.cache;
    let budget = parts.budget;
    let now_ms = unix_ms(parts.clock.now());
    let key = cache_key(kind, token);
    if let Some(auth) = cache.fresh(&key, now_ms) {
        return Some(state(token, Ok(auth)));
    }
    if let Some(refusal) = budget.refusal(&key) {
        return Some(state(token, Err(refused(kind, refusal))));
    }
    let Some(api) = parts.backend_api else {
        return Some(state(token, Err(unexpected(kind, None))));
    };
    if !may_block {
        // Never wait, never spend the budget of the blocking rerun: answer inline only when the
        // token is certainly over budget (and not being verified by another request already).
        if !cache.flights.is_running(&key) && budget.certainly_over(&key) {
            return Some(over_budget(kind, parts));
        }
        return None;
    }
    let outcome = cache.flights.run(key, || {
        // A flight that ended just before this one began may have answered already.
        if let Some(auth) = cache.fresh(&key, now_ms) {
            return Outcome::Verified(Box::new(auth));
        }
        if let Some(refusal) = budget.refusal(&key) {
            return Outcome::Failed(refused(kind, refusal));
        }
        let Some(permit) = budget.admit(&key) else {
            return Outcome::OverBudget;
        };
        let answer = ask_backend_api(api.as_ref(), kind, token);
        drop(permit);
        match answer {
            Ok(answer) => {
                budget.remember(key);
                let auth = answer.auth.clone();
                cache.insert(key, answer);
                Outcome::Verified(Box::new(auth))
            }
            Err(e) => {
                if e.code == Code::TokenInvalid {
                    budget.refuse(
                        key,
                        Refusal {
                            message: e.message.clone(),
                            status: e.status,
                        },
                    );
                }
                Outcome::Failed(e)
            }
        }
    });
    Some(match outcome {
        Some(Outcome::Verified(auth)) => state(token, Ok(*auth)),
        Some(Outcome::Failed(e)) => state(token, Err(e)),
        Some(Outcome::OverBudget) => over_budget(kind, parts),
        // The request verifying this token went away (a panicking custom `BackendApi`).
        None => state(token, Err(unexpected(kind, None))),
    })
}

/// A refusal remembered by the negative cache, answered again as it was the first time.
pub(super) fn refused(kind: TokenType, refusal: Refusal) -> MachineTokenVerificationError {
    MachineTokenVerificationError::new(
        kind,
        MachineTokenVerificationErrorCode::TokenInvalid,
        refusal.message,
        refusal.status,
    )
}

pub(super) fn unexpected(kind: TokenType, status: Option<u16>) -> MachineTokenVerificationError {
    MachineTokenVerificationError::new(
        kind,
        MachineTokenVerificationErrorCode::UnexpectedError,
        "Unexpected error",
        status,
    )
}

/// One Backend API call and Clerk's error mapping (`handleClerkAPIError`).
pub(super) fn ask_backend_api(
    api: &dyn BackendApi,
    kind: TokenType,
    token: &str,
) -> Result<CachedAnswer, MachineTokenVerificationError> {
    use MachineTokenVerificationErrorCode as Code;
    let body = match api.verify_machine_token(kind, token) {
        Ok(body) => body,
        Err(BapiError::Status {
            status: 401,
            message,
            ..
        }) => {
            // The Backend API's text reaches the client's message: bounded and inert like any
            // untrusted value (decision 15).
            let message = message
                .filter(|m| !m.is_empty())
                .map_or(Cow::Borrowed("Invalid secret key"), |m| {
                    Cow::Owned(crate::text::inert(&m).into_owned())
                });
            return Err(MachineTokenVerificationError::new(
                kind,
                Code::InvalidSecretKey,
                message,
                Some(401),
            ));
        }
        Err(BapiError::Status { status: 404, .. }) => {
            return Err(MachineTokenVerificationError::new(
                kind,
                Code::TokenInvalid,
                format!("{} not found", what(kind)),
                Some(404),
            ));
        }
        Err(BapiError::Status { status, .. }) => {
            if !(400..500).contains(&status) || status == 429 {
                tracing::warn!(target: "clerk_auth", kind = %kind, status, "Clerk: machine-token verification got no usable Backend API answer");
            }
            return Err(unexpected(kind, Some(status)));
        }
        Err(e) => {
            tracing::warn!(target: "clerk_auth", kind = %kind, error = %e, "Clerk: machine-token verification could not reach the Backend API");
            return Err(unexpected(kind, None));
        }
    };
    // Clerk's Backend API refuses revoked and expired tokens; should it ever answer `200` with
    // `revoked` or `expired` set, the token is refused all the same (clerk-auth addition).
    let flag = |name: &str| body.get(name).and_then(Value::as_bool) == Some(true);
    if flag("revoked") {
        return Err(MachineTokenVerificationError::new(
            kind,
            Code::TokenInvalid,
            format!("{} has been revoked", what(kind)),
            None,
        ));
    }
    if flag("expired") {
        return Err(MachineTokenVerificationError::new(
            kind,
            Code::TokenInvalid,
            format!("{} has expired", what(kind)),
            None,
        ));
    }
    let auth = match kind {
        TokenType::ApiKey => MachineAuth::from_api_key_response(&body),
        TokenType::OauthToken => MachineAuth::from_oauth_response(&body),
        _ => MachineAuth::from_m2m_response(&body),
    };
    let auth = auth.map_err(|_| {
        tracing::warn!(target: "clerk_auth", kind = %kind, "Clerk: the Backend API's machine-token answer could not be understood");
        unexpected(kind, None)
    })?;
    let expires_at_ms = body.get("expiration").and_then(Value::as_f64);
    Ok(CachedAnswer {
        auth,
        expires_at_ms,
    })
}
