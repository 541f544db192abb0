//! One module per subcommand: its arguments, how they become the action,
//! and how the answer is shown.

pub mod credentials;
pub mod get;
pub mod list;
pub mod sign;
pub mod summary;
