//! Authors and topics as editors keep them: adding or correcting one, and
//! merging two that turn out to be the same (an author added twice under
//! two spellings, two topics that grew into one).

use crate::accounts::Actor;
use crate::{App, AppError};
use quire_core::domain::Action;
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

impl App {
    /// [`App::save_author`] for `actor`, who must manage bylines; in the
    /// audit log.
    pub async fn save_author_as(&self, actor: &Actor, author: &AuthorInput) -> Result<bool, AppError> {
        actor.require(Action::ManageBylines, "manage authors and topics")?;
        let created = self.save_author(author).await?;
        let detail = if created { "added" } else { "updated" };
        self.audit(actor, "author.save", &author.slug, detail).await?;
        Ok(created)
    }

    /// [`App::save_topic`] for `actor`, who must manage bylines.
    pub async fn save_topic_as(&self, actor: &Actor, topic: &TopicInput) -> Result<bool, AppError> {
        actor.require(Action::ManageBylines, "manage authors and topics")?;
        let created = self.save_topic(topic).await?;
        let detail = if created { "added" } else { "updated" };
        self.audit(actor, "topic.save", &topic.slug, detail).await?;
        Ok(created)
    }

    /// [`App::merge_authors`] for `actor`, who must manage bylines.
    pub async fn merge_authors_as(&self, actor: &Actor, from: &str, into: &str) -> Result<u64, AppError> {
        actor.require(Action::ManageBylines, "manage authors and topics")?;
        let papers = self.merge_authors(from, into).await?;
        self.audit(actor, "author.merge", from, &format!("into {into}")).await?;
        Ok(papers)
    }

    /// [`App::merge_topics`] for `actor`, who must manage bylines.
    pub async fn merge_topics_as(&self, actor: &Actor, from: &str, into: &str) -> Result<u64, AppError> {
        actor.require(Action::ManageBylines, "manage authors and topics")?;
        let papers = self.merge_topics(from, into).await?;
        self.audit(actor, "topic.merge", from, &format!("into {into}")).await?;
        Ok(papers)
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
