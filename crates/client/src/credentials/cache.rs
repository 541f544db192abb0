//! The credentials a [`crate::Client`] signs with, and the one refresh in
//! flight. Shared by the client's clones.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use cos_ci_sign::{HeaderPolicy, Signer};

use super::{
    CredentialError, CredentialFetch, CredentialPolicy, CredentialProvider, ProvidedCredentials,
};

/// Credentials in use, with their signer.
#[derive(Debug)]
pub(crate) struct Current {
    pub(crate) provided: ProvidedCredentials,
    pub(crate) signer: Signer,
    /// Counts fetches: a rejection names the generation it was signed with.
    pub(crate) generation: u64,
    refresh_at: Option<SystemTime>,
}

impl Current {
    fn new(provided: ProvidedCredentials, generation: u64, policy: &CredentialPolicy) -> Self {
        Self {
            signer: Signer::new(
                provided.credentials().clone(),
                HeaderPolicy::OfficialDefault,
            ),
            refresh_at: provided.refresh_due_at(policy),
            provided,
            generation,
        }
    }
}

/// What an operation should do about credentials now.
#[derive(Debug)]
pub(crate) enum Acquire {
    /// Sign with these.
    Use(Arc<Current>),
    /// Refresh: this operation holds the one claim and drives `fetch`,
    /// then reports with [`CredentialCache::complete`].
    Refresh { claim: u64, fetch: CredentialFetch },
    /// Another operation is refreshing and nothing usable is left: look
    /// again after `delay`, passing `failures_seen` back.
    Wait { delay: Duration, failures_seen: u64 },
    /// The refresh this operation waited for failed.
    Fail(CredentialError),
}

#[derive(Debug)]
pub(crate) struct CredentialCache {
    provider: CredentialProvider,
    policy: CredentialPolicy,
    /// Fixed credentials: no lock, no refresh.
    fixed: Option<Arc<Current>>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    current: Option<Arc<Current>>,
    generations: u64,
    /// Generations up to this one were refused by the service.
    rejected_through: u64,
    /// The refresh in flight: its id and when it started.
    claim: Option<(u64, SystemTime)>,
    claims: u64,
    /// Failed refreshes so far, and the last one's error.
    failures: u64,
    last_failure: Option<CredentialError>,
    /// After a failed early refresh, not before this.
    next_attempt_after: Option<SystemTime>,
}

impl CredentialCache {
    pub(crate) fn new(provider: CredentialProvider) -> Self {
        let policy = provider.policy();
        let fixed = provider
            .fixed_credentials()
            .map(|provided| Arc::new(Current::new(provided.clone(), 1, &policy)));
        Self {
            provider,
            policy,
            fixed,
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn provider(&self) -> &CredentialProvider {
        &self.provider
    }

    pub(crate) fn is_refreshing(&self) -> bool {
        self.fixed.is_none()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The credentials in use, if any (fetched ones until they expire).
    pub(crate) fn current(&self, now: SystemTime) -> Option<Arc<Current>> {
        if let Some(fixed) = &self.fixed {
            return Some(Arc::clone(fixed));
        }
        let state = self.lock();
        state
            .current
            .clone()
            .filter(|current| !current.provided.is_expired(now))
    }

    /// The credentials last fetched, expired or not.
    pub(crate) fn last(&self) -> Option<ProvidedCredentials> {
        match &self.fixed {
            Some(fixed) => Some(fixed.provided.clone()),
            None => self.lock().current.as_ref().map(|c| c.provided.clone()),
        }
    }

    /// What to do at `now`. `failures_seen` is what the last
    /// [`Acquire::Wait`] gave this operation.
    pub(crate) fn acquire(&self, now: SystemTime, failures_seen: Option<u64>) -> Acquire {
        if let Some(fixed) = &self.fixed {
            return Acquire::Use(Arc::clone(fixed));
        }
        let mut state = self.lock();
        let usable = state.current.clone().filter(|current| {
            current.generation > state.rejected_through && !current.provided.is_expired(now)
        });
        let due = match &usable {
            None => true,
            Some(current) => {
                current.refresh_at.is_some_and(|at| now >= at)
                    && state.next_attempt_after.is_none_or(|after| now >= after)
            }
        };
        if let (false, Some(current)) = (due, &usable) {
            return Acquire::Use(Arc::clone(current));
        }
        if usable.is_none()
            && let Some(seen) = failures_seen
            && state.failures > seen
        {
            // The refresh this operation waited for failed: so does it.
            return Acquire::Fail(
                state
                    .last_failure
                    .clone()
                    .unwrap_or(CredentialError::NotFetched),
            );
        }
        // A refresh whose operation vanished without a word (a transport
        // stuck past every timeout) must not block the others for good.
        if let Some((_, since)) = state.claim
            && since
                .checked_add(self.policy.max_fetch_time())
                .is_some_and(|stale| now >= stale)
        {
            state.claim = None;
        }
        if state.claim.is_none() {
            state.claims += 1;
            let claim = state.claims;
            state.claim = Some((claim, now));
            drop(state);
            return Acquire::Refresh {
                claim,
                fetch: self.provider.fetch(now),
            };
        }
        if let Some(current) = usable {
            // Early refresh under way elsewhere: these still work.
            return Acquire::Use(current);
        }
        Acquire::Wait {
            delay: self.policy.wait_interval.max(Duration::from_millis(1)),
            failures_seen: failures_seen.unwrap_or(state.failures),
        }
    }

    /// The outcome of the refresh `claim`. Returns the error if the
    /// operation has nothing to sign with.
    pub(crate) fn complete(
        &self,
        claim: u64,
        result: Result<ProvidedCredentials, CredentialError>,
        now: SystemTime,
    ) -> Option<CredentialError> {
        let mut state = self.lock();
        if state.claim.is_some_and(|(id, _)| id == claim) {
            state.claim = None;
        }
        match result {
            Ok(provided) => {
                state.generations += 1;
                let current = Current::new(provided, state.generations, &self.policy);
                state.current = Some(Arc::new(current));
                state.next_attempt_after = None;
                state.last_failure = None;
                None
            }
            Err(error) => {
                state.failures += 1;
                state.last_failure = Some(error.clone());
                let remaining = state
                    .current
                    .as_ref()
                    .filter(|current| current.generation > state.rejected_through)
                    .and_then(|current| current.provided.expires_at())
                    .and_then(|expires_at| expires_at.duration_since(now).ok())
                    .filter(|remaining| !remaining.is_zero());
                match remaining {
                    Some(remaining) => {
                        // Keep using them; try again a little later.
                        let pause = self.policy.retry_refresh_after.min(remaining / 2);
                        state.next_attempt_after = now.checked_add(pause);
                        None
                    }
                    None => Some(error),
                }
            }
        }
    }

    /// The operation holding `claim` went away before finishing its fetch.
    pub(crate) fn release(&self, claim: u64) {
        let mut state = self.lock();
        if state.claim.is_some_and(|(id, _)| id == claim) {
            state.claim = None;
        }
    }

    /// The service refused credentials of `generation` (or older).
    pub(crate) fn reject(&self, generation: u64) {
        if self.fixed.is_some() {
            return;
        }
        let mut state = self.lock();
        state.rejected_through = state.rejected_through.max(generation);
    }
}
