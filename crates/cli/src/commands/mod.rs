//! One module per subcommand group: its arguments, how they become the
//! action, and how the answer is shown.

pub mod callbacks;
pub mod credentials;
pub mod failures;
pub mod get;
pub mod jobs;
pub mod list;
pub mod queues;
pub mod sign;
pub mod summary;
pub mod topology;
pub mod wait;
pub mod workflows;
