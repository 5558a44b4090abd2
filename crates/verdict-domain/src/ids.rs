//! Typed identifiers. Octane exposes every id as a string on the wire but they
//! are 64-bit integers in storage; newtypes keep a workspace id from being
//! passed where a task id is expected.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// An Octane shared space: the outermost tenant.
    SharedSpaceId
);
id_type!(
    /// An Octane workspace (a Test Center project maps to one).
    WorkspaceId
);
id_type!(
    /// A queued test-results task; positive, global, never reused.
    TaskId
);
id_type!(
    /// A user account (people and API keys both authenticate as a user).
    UserId
);
