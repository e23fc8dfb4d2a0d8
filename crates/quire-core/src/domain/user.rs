//! The people who run a site: accounts, their roles with WordPress's
//! meaning, and what each role may do. The checks every account's
//! address, name and password pass before anything is stored. Pure; no I/O.

use serde::Serialize;
use std::fmt;

/// Shortest password taken (NIST SP 800-63B asks for at least 8; a
/// passphrase is better).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password taken: long enough for any passphrase or manager,
/// short enough that hashing it costs what hashing any other does.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// What an account may do, as WordPress means its roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes own drafts and submits them for review; cannot publish.
    Contributor,
    /// Writes and publishes own papers.
    Author,
    /// Every paper, author, topic, comment, subscriber and campaign.
    Editor,
    /// Everything, with accounts and settings.
    Administrator,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Administrator, Role::Editor, Role::Author, Role::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Editor => "editor",
            Role::Author => "author",
            Role::Contributor => "contributor",
        }
    }

    /// The role's name as the admin shows it.
    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Editor => "Editor",
            Role::Author => "Author",
            Role::Contributor => "Contributor",
        }
    }

    /// Whether the role may do `action` (to papers of its own, where the
    /// action concerns a paper: see [`Role::may_on_paper`]).
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::ManageUsers | Action::ChangeSettings | Action::ReadAuditLog => self == Role::Administrator,
            Action::EditOthersPapers
            | Action::PublishOthersPapers
            | Action::ManageBylines
            | Action::Moderate
            | Action::ManageSubscribers
            | Action::SendCampaigns
            | Action::Correct => self >= Role::Editor,
            Action::Publish | Action::UploadImages => self >= Role::Author,
            Action::WriteDrafts => true,
        }
    }

    /// Whether the role may do `action` to a paper, given whether the
    /// paper names the account's author profile (`own`) and whether it
    /// has gone out (published, scheduled or archived): as in WordPress,
    /// a contributor's paper is out of their hands once it has.
    pub fn may_on_paper(self, action: PaperAction, own: bool, gone_out: bool) -> bool {
        if self == Role::Contributor && gone_out && matches!(action, PaperAction::Edit | PaperAction::Submit) {
            return false;
        }
        match action {
            PaperAction::Edit => own || self.may(Action::EditOthersPapers),
            PaperAction::Publish => {
                if own {
                    self.may(Action::Publish)
                } else {
                    self.may(Action::PublishOthersPapers)
                }
            }
            PaperAction::Submit => own || self.may(Action::EditOthersPapers),
            PaperAction::Correct => self.may(Action::Correct),
        }
    }
}

/// Things only some roles may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    ManageUsers,
    ChangeSettings,
    ReadAuditLog,
    EditOthersPapers,
    PublishOthersPapers,
    ManageBylines,
    Moderate,
    ManageSubscribers,
    SendCampaigns,
    Correct,
    Publish,
    UploadImages,
    WriteDrafts,
}

/// What is done to one paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaperAction {
    /// Change its text or fields.
    Edit,
    /// Publish, schedule or unpublish it.
    Publish,
    /// Submit it for review.
    Submit,
    /// Publish a correction of it.
    Correct,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| format!("{s:?} is not a role: use administrator, editor, author or contributor"))
    }
}

/// Checks a new password: at least [`MIN_PASSWORD_CHARS`] characters, at
/// most [`MAX_PASSWORD_BYTES`] bytes, not only spaces, and not the
/// account's own address or name.
pub fn validate_password(password: &str, email: &str, name: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "is {chars} characters long; use at least {MIN_PASSWORD_CHARS} (a few words make a good one)"
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("is longer than {MAX_PASSWORD_BYTES} bytes; use a shorter one"));
    }
    if password.trim().is_empty() {
        return Err("is only spaces; use letters, numbers or words".into());
    }
    let lower = password.trim().to_lowercase();
    if lower == email.trim().to_lowercase() || (!name.trim().is_empty() && lower == name.trim().to_lowercase()) {
        return Err("is the account's own address or name; choose something others cannot guess".into());
    }
    Ok(())
}

/// Checks an account's name: one line, 1 to 100 characters, without the
/// characters that reorder text.
pub fn validate_user_name(raw: &str) -> Result<String, String> {
    let name = super::validate_subscriber_name(raw)?;
    if name.is_empty() {
        return Err("is required: write the name others see in the admin".into());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_mean_what_they_mean_in_wordpress() {
        use Action::*;
        let admin_only = [ManageUsers, ChangeSettings, ReadAuditLog];
        for action in admin_only {
            assert!(Role::Administrator.may(action));
            assert!(!Role::Editor.may(action), "{action:?}");
        }
        for action in [
            EditOthersPapers,
            PublishOthersPapers,
            ManageBylines,
            Moderate,
            ManageSubscribers,
            SendCampaigns,
        ] {
            assert!(Role::Editor.may(action));
            assert!(!Role::Author.may(action), "{action:?}");
        }
        assert!(Role::Author.may(Publish) && !Role::Contributor.may(Publish));
        assert!(Role::Contributor.may(WriteDrafts));

        assert!(Role::Author.may_on_paper(PaperAction::Publish, true, false));
        assert!(!Role::Author.may_on_paper(PaperAction::Publish, false, false));
        assert!(!Role::Author.may_on_paper(PaperAction::Edit, false, false));
        assert!(
            Role::Author.may_on_paper(PaperAction::Edit, true, true),
            "an author edits their published paper"
        );
        assert!(!Role::Contributor.may_on_paper(PaperAction::Publish, true, false));
        assert!(Role::Contributor.may_on_paper(PaperAction::Submit, true, false));
        assert!(Role::Contributor.may_on_paper(PaperAction::Edit, true, false));
        assert!(
            !Role::Contributor.may_on_paper(PaperAction::Edit, true, true),
            "not once it is out"
        );
        assert!(Role::Editor.may_on_paper(PaperAction::Publish, false, true));
        assert!(Role::Editor.may_on_paper(PaperAction::Correct, false, true));
        assert!(!Role::Author.may_on_paper(PaperAction::Correct, true, true));
    }

    #[test]
    fn roles_round_trip_and_refuse_others() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!(" Editor ".parse::<Role>(), Ok(Role::Editor));
        let err = "superuser".parse::<Role>().expect_err("unknown");
        assert!(err.contains("administrator, editor, author or contributor"), "{err}");
    }

    #[test]
    fn passwords_are_long_enough_and_not_the_account_itself() {
        assert!(validate_password("correct horse battery", "ada@example.org", "Ada").is_ok());
        for (bad, says) in [
            ("short", "at least 10"),
            ("          ", "only spaces"),
            ("ada@example.org", "own address"),
            ("Ada Lovelace", "own address or name"),
        ] {
            let err = validate_password(bad, "ada@example.org", "Ada Lovelace").expect_err(bad);
            assert!(err.contains(says), "{bad:?}: {err}");
        }
        let huge = "x".repeat(MAX_PASSWORD_BYTES + 1);
        assert!(
            validate_password(&huge, "a@b.c", "")
                .expect_err("huge")
                .contains("longer than")
        );
        // Characters, not bytes, count towards the minimum.
        assert!(validate_password("ééééééééé", "a@b.c", "").is_err());
        assert!(validate_password("éééééééééé", "a@b.c", "").is_ok());
    }

    #[test]
    fn names_are_required() {
        assert_eq!(validate_user_name(" Ada "), Ok("Ada".into()));
        assert!(validate_user_name("   ").expect_err("empty").contains("required"));
        assert!(validate_user_name("a\nb").is_err());
    }
}
