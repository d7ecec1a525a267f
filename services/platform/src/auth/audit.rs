//! The acting service's append-only audit table: who (subject and roles), what (the RPC),
//! which case, allowed or denied, when. Rows are only ever inserted; the migration makes the
//! database refuse updates and deletes too.

use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::NotSet, ConnectionTrait, DatabaseConnection, Set};
use time::OffsetDateTime;

use super::Caller;

pub mod entry {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "audit_entry")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub at: TimeDateTimeWithTimeZone,
        pub subject: String,
        /// Comma-separated role names.
        pub roles: String,
        /// Comma-separated unit codes the caller acts for.
        pub units: String,
        pub action: String,
        pub case_id: Option<Uuid>,
        pub allowed: bool,
        pub note: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

#[derive(Clone, Debug)]
pub struct AuditLog {
    db: DatabaseConnection,
}

impl AuditLog {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The service's database, where the declared interests are kept too.
    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub async fn record(
        &self,
        caller: &Caller,
        action: &str,
        case: Option<Uuid>,
        allowed: bool,
        note: &str,
    ) -> Result<(), DbErr> {
        Self::record_in(&self.db, caller, action, case, allowed, note).await
    }

    /// Writes the entry through `db`: a transaction, to commit it with what it audits.
    pub async fn record_in<C: ConnectionTrait>(
        db: &C,
        caller: &Caller,
        action: &str,
        case: Option<Uuid>,
        allowed: bool,
        note: &str,
    ) -> Result<(), DbErr> {
        let roles: Vec<&str> = caller.roles.iter().map(|role| role.as_str()).collect();
        entry::Entity::insert(entry::ActiveModel {
            id: NotSet,
            at: Set(OffsetDateTime::now_utc()),
            subject: Set(caller.subject.clone()),
            roles: Set(roles.join(",")),
            units: Set(caller.units.join(",")),
            action: Set(action.to_owned()),
            case_id: Set(case),
            allowed: Set(allowed),
            note: Set(note.to_owned()),
        })
        .exec_without_returning(db)
        .await?;
        Ok(())
    }
}
