//! Routing: the table of API actions served, built from each action's own
//! declaration in `cos-ci-proto` (`CiAction::METHOD`, `PATH`,
//! `SUBRESOURCE`, `NAME`, `from_request`, and its `Output` written with
//! `to_xml`). Adding an action to the emulator is one line in [`table`]
//! and a [`Handler`]: `fn(Served<'_, A>) -> Answer<A>`.

use std::fmt;
use std::sync::{LazyLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, SystemTime};

use http::{Method, StatusCode};

use cos_ci_proto::query::excerpt;
use cos_ci_proto::{
    ActivateWorkflow, CancelJob, CiAction, CiOutput, CreateJobs, CreateWorkflow, DeleteWorkflow,
    DescribeJobs, DescribeWorkflowExecution, ListJobs, ListQueues, ListWorkflowExecutions,
    ListWorkflows, PauseWorkflow, QueryError, TriggerWorkflow, UpdateWorkflow, XmlDocument,
};

use crate::callbacks::Callbacks;
use crate::executions;
use crate::ids::IdMint;
use crate::jobs::{self, JobStore};
use crate::queues::{self, QueueStore};
use crate::response::CiError;
use crate::store::ExecutionStore;
use crate::task_jobs::TaskJobMemo;
use crate::workflows::{self, WorkflowStore};

/// How runs and jobs started while serving behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lifecycle {
    /// How long one job (or one task of a run) takes from submission to
    /// its end.
    pub(crate) task_duration: Duration,
    /// An input key containing this text makes a job (or one task of a
    /// run) fail; empty: nothing fails.
    pub(crate) fail_pattern: String,
}

impl Lifecycle {
    /// Whether a job on `object` fails.
    pub(crate) fn fails(&self, object: &str) -> bool {
        !self.fail_pattern.is_empty() && object.contains(&self.fail_pattern)
    }
}

/// What route handlers read and write: one store per resource, and the
/// bucket they belong to.
#[derive(Debug)]
pub(crate) struct Resources {
    /// The one bucket served.
    pub(crate) bucket: String,
    /// Its region.
    pub(crate) region: String,
    /// Workflow executions.
    pub(crate) executions: RwLock<ExecutionStore>,
    /// Workflows.
    pub(crate) workflows: RwLock<WorkflowStore>,
    /// Media jobs.
    pub(crate) jobs: RwLock<JobStore>,
    /// Media-processing queues (read-only while serving).
    pub(crate) queues: QueueStore,
    /// Task duration and the failure pattern.
    pub(crate) lifecycle: Lifecycle,
    /// New ids (runs, jobs, workflows).
    pub(crate) ids: IdMint,
    /// Callbacks waiting for their instant.
    pub(crate) callbacks: Callbacks,
    /// Which run each task job id shown in served details belongs to.
    pub(crate) task_jobs: TaskJobMemo,
}

/// A request as a route sees it: authenticated, its path in canonical wire
/// form (see [`canonical_path`]), its API parameters decoded.
pub(crate) struct Call<'a> {
    pub(crate) wire_path: &'a str,
    pub(crate) query: &'a [(&'a str, &'a str)],
    pub(crate) body: &'a [u8],
    pub(crate) request_id: &'a str,
    /// The instant the request is answered at: what derived states
    /// (runs, jobs) are computed for.
    pub(crate) now: SystemTime,
}

/// What a route's handler gets for one request of action `A`, as one
/// value: a handler's signature names only its action, and whatever every
/// handler is to be given next is one more field here.
pub(crate) struct Served<'r, A> {
    /// The stores it reads and writes.
    pub(crate) resources: &'r Resources,
    /// The action, decoded and validated.
    pub(crate) request: A,
    /// The instant the request is answered at (see [`Call::now`]).
    pub(crate) now: SystemTime,
}

/// What a route's handler returns: the action's own output (the request
/// id is filled in by the route) or CI's error.
pub(crate) type Answer<A> = Result<<A as CiAction>::Output, CiError>;

/// A route's handler: one function per action, e.g. `jobs::list`.
pub(crate) type Handler<A> = fn(Served<'_, A>) -> Answer<A>;

/// A route's handler wrapped to take a [`Call`]: decode the action, run the
/// handler, write its output. `Debug` cannot look inside a closure, so it
/// shows only that there is one.
struct Dispatch(Box<DispatchFn>);

type DispatchFn = dyn Fn(&Resources, &Call<'_>) -> Result<String, CiError> + Send + Sync;

impl fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Dispatch").finish_non_exhaustive()
    }
}

/// One API action the emulator serves: its method, path template and name
/// as the action declares them.
#[derive(Debug)]
pub struct Route {
    method: Method,
    path: &'static str,
    subresource: Option<&'static str>,
    action: &'static str,
    permission: &'static str,
    dispatch: Dispatch,
}

impl Route {
    /// The HTTP method (`CiAction::METHOD`).
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template (`CiAction::PATH`), e.g. `/workflowexecution/{RunId}`.
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The sub-resource that tells this action from others on the same
    /// method and path (`CiAction::SUBRESOURCE`), e.g. `active` for
    /// `PUT /workflow/{WorkflowId}?active`.
    pub fn subresource(&self) -> Option<&'static str> {
        self.subresource
    }

    /// Whether this route is the one for a request with these (decoded,
    /// API) query parameter names, among routes of the same method and
    /// path: a route with a sub-resource needs it; a route without one
    /// needs none of the others' (see [`routes`]).
    pub fn matches_query<'q>(&self, names: impl IntoIterator<Item = &'q str>) -> bool {
        let names: Vec<&str> = names.into_iter().collect();
        match self.subresource {
            Some(subresource) => names.contains(&subresource),
            None => !routes().iter().any(|other| {
                other.method == self.method
                    && other.path == self.path
                    && other
                        .subresource
                        .is_some_and(|subresource| names.contains(&subresource))
            }),
        }
    }

    /// The action's name (`CiAction::NAME`), e.g. `DescribeWorkflowExecution`.
    pub fn action(&self) -> &'static str {
        self.action
    }

    /// The CAM permission it needs (`CiAction::PERMISSION`).
    pub fn permission(&self) -> &'static str {
        self.permission
    }

    /// Whether a request path (as on the wire, percent-encoded) is this
    /// route's. Escapes of characters that need none (`%65` for `e`) are
    /// accepted, as the emulator accepts them.
    pub fn matches_path(&self, wire_path: &str) -> bool {
        canonical_path(wire_path).is_some_and(|path| path_matches(self.path, &path))
    }

    pub(crate) fn dispatch(
        &self,
        resources: &Resources,
        call: &Call<'_>,
    ) -> Result<String, CiError> {
        (self.dispatch.0)(resources, call)
    }
}

/// The route of action `A`, answered by `handler`.
fn route<A: CiAction + 'static>(handler: Handler<A>) -> Route {
    Route {
        method: A::METHOD,
        path: A::PATH,
        subresource: A::SUBRESOURCE,
        action: A::NAME,
        permission: A::PERMISSION,
        dispatch: Dispatch(Box::new(move |resources, call| {
            if let Some(subresource) = A::SUBRESOURCE
                && !call.query.iter().any(|(name, _)| *name == subresource)
            {
                return Err(invalid_argument(format!(
                    "{} needs the sub-resource `?{subresource}`.",
                    A::NAME
                )));
            }
            // Decoding also validates (size bounds, empty values, time
            // order, path parameters, the body's document and rules).
            let request = A::from_request(call.wire_path, call.query, call.body)
                .map_err(|error| decode_error::<A>(error, call.body))?;
            let mut output = handler(Served {
                resources,
                request,
                now: call.now,
            })?;
            if <A::Output as CiOutput>::from_empty_body().is_some() {
                // Pause, activate, cancel: CI answers an empty 200; the
                // request id is in `x-ci-request-id`.
                return Ok(String::new());
            }
            *output.request_id_mut() = Some(call.request_id.to_owned());
            Ok(output.to_xml())
        })),
    }
}

/// CI's error for a request `A` cannot decode: a missing body is
/// `MissingContent`, a body that is not the action's `<Request>` document
/// `InvalidContent`, anything else (parameters, body fields breaking a
/// rule) `InvalidArgument`.
fn decode_error<A: CiAction>(error: QueryError, body: &[u8]) -> CiError {
    match error {
        QueryError::BadBody(_) if body.trim_ascii().is_empty() => CiError::new(
            StatusCode::BAD_REQUEST,
            "MissingContent",
            format!("{} needs a <Request> body.", A::NAME),
        ),
        QueryError::BadBody(reason) => CiError::new(
            StatusCode::BAD_REQUEST,
            "InvalidContent",
            format!(
                "The request body is not {}'s <Request> document: {}.",
                A::NAME,
                excerpt(&reason, 300)
            ),
        ),
        other => invalid_argument(other.to_string()),
    }
}

/// Every action served: one line each.
fn table() -> Vec<Route> {
    vec![
        route::<ListWorkflowExecutions>(executions::list),
        route::<DescribeWorkflowExecution>(executions::describe),
        route::<ListWorkflows>(workflows::list),
        route::<CreateWorkflow>(workflows::create),
        route::<UpdateWorkflow>(workflows::update),
        route::<ActivateWorkflow>(workflows::activate),
        route::<PauseWorkflow>(workflows::pause),
        route::<DeleteWorkflow>(workflows::delete),
        route::<TriggerWorkflow>(workflows::trigger),
        route::<ListJobs>(jobs::list),
        route::<DescribeJobs>(jobs::describe),
        route::<CreateJobs>(jobs::create),
        route::<CancelJob>(jobs::cancel),
        route::<ListQueues>(queues::list),
    ]
}

static ROUTES: LazyLock<Vec<Route>> = LazyLock::new(table);

/// The emulator's route table: each API action it serves, with its method,
/// path template and action name. Lets a test or a fuzz oracle tell which
/// action (and so which response type) a request reaches.
///
/// ```
/// let routes: Vec<_> = cos_ci_emulator::routes()
///     .iter()
///     .map(|route| (route.method().as_str(), route.path(), route.action()))
///     .collect();
/// assert!(routes.contains(&("GET", "/workflowexecution/{RunId}", "DescribeWorkflowExecution")));
/// ```
pub fn routes() -> &'static [Route] {
    &ROUTES
}

/// The routes for `method` on `wire_path` (several when actions share
/// them and differ by sub-resource: pick one with [`select`] once the
/// query is known), or CI's error: a path no route has is
/// `404 InvalidUrl`; a route's path with another method is
/// `405 MethodNotAllowed`.
pub(crate) fn find(
    method: &Method,
    wire_path: &str,
    decoded_path: &str,
) -> Result<Vec<&'static Route>, CiError> {
    let on_path: Vec<&'static Route> = routes()
        .iter()
        .filter(|route| path_matches(route.path, wire_path))
        .collect();
    let for_method: Vec<&'static Route> = on_path
        .iter()
        .copied()
        .filter(|route| route.method == *method)
        .collect();
    if !for_method.is_empty() {
        return Ok(for_method);
    }
    let Some(first) = on_path.first() else {
        return Err(CiError::new(
            StatusCode::NOT_FOUND,
            "InvalidUrl",
            format!("No API at `{}`.", excerpt(decoded_path, 100)),
        ));
    };
    let mut allowed: Vec<&str> = on_path.iter().map(|route| route.method.as_str()).collect();
    allowed.dedup();
    Err(CiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        format!(
            "`{}` is not allowed on {}; use {}.",
            method,
            first.path,
            allowed.join(" or ")
        ),
    ))
}

/// Among the routes of one method and path, the one for these API query
/// parameters: the route whose sub-resource is present, else the one
/// without a sub-resource, else the first (whose dispatch then refuses the
/// missing sub-resource, after the signature check).
pub(crate) fn select(candidates: &[&'static Route], query: &[(&str, &str)]) -> &'static Route {
    let names = || query.iter().map(|(name, _)| *name);
    candidates
        .iter()
        .copied()
        .find(|route| route.subresource.is_some() && route.matches_query(names()))
        .or_else(|| {
            candidates
                .iter()
                .copied()
                .find(|route| route.subresource.is_none())
        })
        .or_else(|| candidates.first().copied())
        .unwrap_or_else(|| &routes()[0])
}

/// Whether a canonical wire path fits a template. An empty parameter fits
/// none: `/workflowexecution/` is no API (404), not an execution without an id.
fn path_matches(template: &'static str, wire_path: &str) -> bool {
    cos_ci_proto::action::match_path(template, wire_path)
        .is_some_and(|captures| captures.iter().all(|(_, value)| !value.is_empty()))
}

/// The path with every segment decoded and re-encoded with the signature's
/// encoder, which is the form the action decoders match; `None` when a
/// segment is not validly percent-encoded.
pub(crate) fn canonical_path(wire_path: &str) -> Option<String> {
    let segments = wire_path
        .split('/')
        .map(|segment| cos_ci_sign::decode(segment).map(|decoded| cos_ci_sign::encode(&decoded)))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(segments.join("/"))
}

/// `400 InvalidArgument`: a parameter's value breaks a rule.
pub(crate) fn invalid_argument(message: impl Into<String>) -> CiError {
    CiError::new(StatusCode::BAD_REQUEST, "InvalidArgument", message)
}

/// `400 ResourceNotFound`: the resource named does not exist (CI's code
/// for "the resource does not exist"; the emulator's choice for every
/// unknown id, as for run ids).
pub(crate) fn not_found(what: &str, id: &str) -> CiError {
    CiError::new(
        StatusCode::BAD_REQUEST,
        "ResourceNotFound",
        format!("The {what} `{}` does not exist.", excerpt(id, 100)),
    )
}

/// A store of [`Resources`], read. A request that panicked while holding
/// the lock does not take every later request down with it: its store is
/// read as it was left.
pub(crate) fn read<T>(store: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    store.read().unwrap_or_else(PoisonError::into_inner)
}

/// A store of [`Resources`], written (see [`read`] for a poisoned lock).
pub(crate) fn write<T>(store: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    store.write().unwrap_or_else(PoisonError::into_inner)
}

/// The `what` named `id` that `lookup` finds in `store`, cloned out of the
/// read lock; `400 ResourceNotFound` when there is none.
pub(crate) fn find_resource<S, T: Clone>(
    store: &RwLock<S>,
    what: &str,
    id: &str,
    lookup: impl for<'s> FnOnce(&'s S, &str) -> Option<&'s T>,
) -> Result<T, CiError> {
    lookup(&read(store), id)
        .cloned()
        .ok_or_else(|| not_found(what, id))
}
