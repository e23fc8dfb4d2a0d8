//! Authors and topics as editors keep them: adding or correcting one, and
//! merging two that turn out to be the same (an author added twice under
//! two spellings, two topics that grew into one).

use crate::{App, AppError};
use quire_core::domain::{Author, AuthorInput, Topic, TopicInput};
use quire_store::Visibility;

impl App {
    /// Every author, with how many papers name them.
    pub async fn authors(&self) -> Result<Vec<Author>, AppError> {
        Ok(self.store.list_authors(Visibility::All).await?)
    }

    /// Every topic, with how many papers it has.
    pub async fn topics(&self) -> Result<Vec<Topic>, AppError> {
        Ok(self.store.list_topics(Visibility::All).await?)
    }

    /// Adds `author`, or corrects the one with its slug; returns whether
    /// it is new.
    pub async fn save_author(&self, author: &AuthorInput) -> Result<bool, AppError> {
        author.validate().map_err(|m| AppError::invalid("author", m))?;
        Ok(self.store.upsert_author(author).await?)
    }

    /// Adds `topic`, or corrects the one with its slug; returns whether it
    /// is new.
    pub async fn save_topic(&self, topic: &TopicInput) -> Result<bool, AppError> {
        topic.validate().map_err(|m| AppError::invalid("topic", m))?;
        Ok(self.store.upsert_topic(topic).await?)
    }

    /// Makes author `from` one with author `into`: their papers name
    /// `into` (in `from`'s place in the byline, or `into`'s own where both
    /// were named), and `from` is gone. Returns how many papers changed.
    pub async fn merge_authors(&self, from: &str, into: &str) -> Result<u64, AppError> {
        same_check("author", from, into)?;
        Ok(self.store.merge_authors(from, into).await?)
    }

    /// Makes topic `from` one with topic `into`: its papers, its
    /// subscribers and the campaigns sent to it move to `into`, and `from`
    /// is gone. Returns how many papers changed.
    pub async fn merge_topics(&self, from: &str, into: &str) -> Result<u64, AppError> {
        same_check("topic", from, into)?;
        Ok(self.store.merge_topics(from, into).await?)
    }
}

fn same_check(what: &str, from: &str, into: &str) -> Result<(), AppError> {
    if from == into {
        return Err(AppError::invalid(
            "into",
            format!("{from:?} cannot be merged into itself: name the {what} it is to become"),
        ));
    }
    Ok(())
}
