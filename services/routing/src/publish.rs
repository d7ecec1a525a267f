//! Announcing the directory: at start, when the directory in effect differs from the last
//! one published (and at each administrator's change), routing publishes every unit (`DirectoryPublished`), so other services can
//! check a unit code at once without asking routing. Through the write path, like every
//! state change: the record of what was published and the event commit together.

use prost::Message;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, DatabaseTransaction, DbErr, EntityTrait, QueryOrder};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use uuid::Uuid;
use xinfang_platform::outbox::OutgoingEvent;
use xinfang_platform::write::{Change, Decided};
use xinfang_proto::routing::v1::DirectoryPublished;
use xinfang_proto::subjects;

use crate::directory::Directory;
use crate::route::SERVICE;
use crate::store::publication;

/// Publish this directory unless it was already.
pub struct PublishDirectory {
    pub event: DirectoryPublished,
    /// A digest of the event: a directory edited without a new version is published too.
    pub fingerprint: String,
}

impl PublishDirectory {
    pub fn of(directory: &Directory) -> Self {
        let event = DirectoryPublished {
            version: directory.version.clone(),
            units: directory
                .units()
                .map(crate::directory::Unit::to_proto)
                .collect(),
        };
        let fingerprint = format!("{:x}", Sha256::digest(event.encode_to_vec()));
        Self { event, fingerprint }
    }
}

/// Whether this directory is the last one published.
pub struct Published(bool);

impl Change for PublishDirectory {
    type State = Published;
    /// When it was published; `None` when it had been already.
    type Outcome = Option<OffsetDateTime>;
    type Error = DbErr;

    async fn load(&self, transaction: &DatabaseTransaction) -> Result<Published, DbErr> {
        // The last one published, not any ever: a directory rolled back to an earlier
        // version is announced again.
        let newest = publication::Entity::find()
            .order_by_desc(publication::Column::PublishedAt)
            .one(transaction)
            .await?;
        Ok(Published(newest.is_some_and(|newest| {
            newest.fingerprint == self.fingerprint
        })))
    }

    fn decide(
        &self,
        state: Published,
        now: OffsetDateTime,
    ) -> Result<Decided<Option<OffsetDateTime>>, DbErr> {
        if state.0 {
            return Ok(Decided {
                outcome: None,
                events: Vec::new(),
            });
        }
        Ok(Decided {
            outcome: Some(now),
            events: vec![OutgoingEvent::new(
                subjects::DIRECTORY_PUBLISHED,
                SERVICE,
                // Not about a case.
                Uuid::nil(),
                now,
                &self.event,
            )],
        })
    }

    async fn save(
        &self,
        transaction: &DatabaseTransaction,
        published: &Option<OffsetDateTime>,
    ) -> Result<(), DbErr> {
        let Some(published_at) = *published else {
            return Ok(());
        };
        record(
            transaction,
            &self.fingerprint,
            &self.event.version,
            published_at,
        )
        .await
    }
}

/// Records that this directory was announced, so a restart with it announces nothing.
pub async fn record<C: sea_orm::ConnectionTrait>(
    db: &C,
    fingerprint: &str,
    version: &str,
    published_at: OffsetDateTime,
) -> Result<(), DbErr> {
    // Two replicas starting with a new directory both announce it (intake takes the same
    // units twice); neither fails on the other's row.
    publication::Entity::insert(publication::ActiveModel {
        fingerprint: Set(fingerprint.to_owned()),
        version: Set(version.to_owned()),
        published_at: Set(published_at),
    })
    .on_conflict(
        OnConflict::column(publication::Column::Fingerprint)
            .update_columns([
                publication::Column::Version,
                publication::Column::PublishedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn demo() -> PublishDirectory {
        let directory =
            Directory::parse(include_str!("../directory/xingping.toml")).expect("demo directory");
        PublishDirectory::of(&directory)
    }

    #[test]
    fn a_directory_not_published_before_is_announced_with_every_unit() {
        let publish = demo();
        let now = datetime!(2026-11-25 08:00 UTC);
        let decided = publish.decide(Published(false), now).expect("decided");
        assert_eq!(decided.outcome, Some(now));
        assert_eq!(decided.events.len(), 1);
        assert_eq!(decided.events[0].subject, subjects::DIRECTORY_PUBLISHED);
        assert!(
            publish
                .event
                .units
                .iter()
                .any(|unit| unit.code == "zhaocun")
        );
    }

    #[test]
    fn the_same_directory_is_not_announced_twice() {
        let decided = demo()
            .decide(Published(true), datetime!(2026-11-25 08:00 UTC))
            .expect("decided");
        assert_eq!(decided.outcome, None);
        assert!(decided.events.is_empty());
    }

    #[test]
    fn the_same_file_gives_the_same_fingerprint() {
        assert_eq!(demo().fingerprint, demo().fingerprint);
    }
}
