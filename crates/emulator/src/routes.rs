//! Routing: the table of API actions served, built from each action's own
//! declaration in `cos-ci-proto` (`CiAction::METHOD`, `PATH`, `NAME`,
//! `from_request`, and its `Output` written with `to_xml`). Adding an
//! action to the emulator is one line in [`table`] and a handler that
//! returns `Result<A::Output, CiError>`.

use std::fmt;
use std::sync::{LazyLock, RwLock};

use http::{Method, StatusCode};

use cos_ci_proto::query::excerpt;
use cos_ci_proto::{
    CiAction, CiOutput, DescribeWorkflowExecution, ListWorkflowExecutions, XmlDocument,
};

use crate::executions;
use crate::response::CiError;
use crate::store::ExecutionStore;

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
}

/// A request as a route sees it: authenticated, its path in canonical wire
/// form (see [`canonical_path`]), its API parameters decoded.
pub(crate) struct Call<'a> {
    pub(crate) wire_path: &'a str,
    pub(crate) query: &'a [(&'a str, &'a str)],
    pub(crate) body: &'a [u8],
    pub(crate) request_id: &'a str,
}

/// A route's handler: the decoded, validated action in; its output (the
/// request id is filled in by the route) or CI's error out.
pub(crate) type Handler<A> = fn(&Resources, A) -> Result<<A as CiAction>::Output, CiError>;

type Dispatch = Box<dyn Fn(&Resources, &Call<'_>) -> Result<String, CiError> + Send + Sync>;

/// One API action the emulator serves: its method, path template and name
/// as the action declares them.
pub struct Route {
    method: Method,
    path: &'static str,
    action: &'static str,
    permission: &'static str,
    dispatch: Dispatch,
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("action", &self.action)
            .finish_non_exhaustive()
    }
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
        (self.dispatch)(resources, call)
    }
}

/// The route of action `A`, answered by `handler`.
fn route<A: CiAction + 'static>(handler: Handler<A>) -> Route {
    Route {
        method: A::METHOD,
        path: A::PATH,
        action: A::NAME,
        permission: A::PERMISSION,
        dispatch: Box::new(move |resources, call| {
            // Decoding also validates (size bounds, empty values, time
            // order, path parameters).
            let action = A::from_request(call.wire_path, call.query, call.body)
                .map_err(|error| invalid_argument(error.to_string()))?;
            let mut output = handler(resources, action)?;
            *output.request_id_mut() = Some(call.request_id.to_owned());
            Ok(output.to_xml())
        }),
    }
}

/// Every action served: one line each.
fn table() -> Vec<Route> {
    vec![
        route::<ListWorkflowExecutions>(executions::list),
        route::<DescribeWorkflowExecution>(executions::describe),
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

/// The route for `method` on `wire_path`, or CI's error: a path no route
/// has is `404 InvalidUrl`; a route's path with another method is
/// `405 MethodNotAllowed`.
pub(crate) fn find(
    method: &Method,
    wire_path: &str,
    decoded_path: &str,
) -> Result<&'static Route, CiError> {
    let on_path: Vec<&'static Route> = routes()
        .iter()
        .filter(|route| path_matches(route.path, wire_path))
        .collect();
    if let Some(route) = on_path.iter().find(|route| route.method == *method) {
        return Ok(route);
    }
    let Some(first) = on_path.first() else {
        return Err(CiError::new(
            StatusCode::NOT_FOUND,
            "InvalidUrl",
            format!("No API at `{}`.", excerpt(decoded_path, 100)),
        ));
    };
    let allowed: Vec<&str> = on_path.iter().map(|route| route.method.as_str()).collect();
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
