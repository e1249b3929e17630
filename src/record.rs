//! The records of copies: a secret as a target lists it (`Entry`, names and
//! dates, never a value) and what a write did to it (`Action`, `Outcome`).
//! Shared by the targets that make them, the sources that date values from
//! them, the audit trail and the reports.

use crate::secret::Secret;
use anyhow::Result;
use serde::Serialize;

/// A secret as a target lists it: a name and facts about it, never a value.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Entry {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// GitHub organization and user secrets: `all`, `private` or `selected`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// How many repositories may read a `selected` secret (listed with details).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selected_repositories: Option<u64>,
    /// ESC: `fn::secret` or a plain value (unknown for a value ESC computes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<bool>,
    /// Fly.io: the digest it lists of the value (an unkeyed hash of it: kept
    /// out of reports, and out of the ledger but keyed).
    #[serde(skip)]
    pub digest: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
    /// Already current: nothing sent (`sync`).
    Unchanged,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Unchanged => "unchanged",
        }
    }

    pub fn done(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Delete => "deleted",
            Action::Unchanged => "unchanged",
        }
    }

    /// Whether it sends a write.
    pub fn changes(self) -> bool {
        self != Action::Unchanged
    }
}

/// What happened to one secret: the action done, or why it was not.
pub struct Outcome {
    pub name: String,
    pub result: Result<Action>,
}

/// A readable target's entries (names, dates) and values, in its order.
pub type Values = Vec<(Entry, Secret)>;

/// Told each outcome as soon as it is known (progress lines).
pub type Progress<'a> = &'a (dyn Fn(&Outcome) + Sync);

/// The outcomes of a change that is made whole or not at all (one ESC
/// revision, one Fly request, one rewrite of a .env file), in order, each
/// told to `progress`.
pub fn outcomes<'a>(
    results: impl IntoIterator<Item = (&'a str, Result<Action>)>,
    progress: Progress<'_>,
) -> Vec<Outcome> {
    results
        .into_iter()
        .map(|(name, result)| {
            let outcome = Outcome { name: name.to_string(), result };
            progress(&outcome);
            outcome
        })
        .collect()
}
