//! Personal data at rest: sealed in the database, never in a stored file in plaintext,
//! bound to its row, revealed only to those who must contact the petitioner (audited), and
//! followed by the petitioner with a query code.

use std::path::Path;
use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};
use tonic::Code;
use xinfang_intake::sealed_identity;
use xinfang_intake::store::{accused_person, petition_scope, petitioner};
use xinfang_platform::auth::{Role, audit};
use xinfang_platform::sealing::KeyRing;
use xinfang_proto::intake::v1::{
    FollowPetitionRequest, GetPetitionRequest, ReissueQueryCodeRequest, RevealPetitionerRequest,
    get_petition_request::Key, intake_service_client::IntakeServiceClient,
};
use xinfang_proto::v1 as proto;
use xinfang_testkit::auth;
use xinfang_testkit::{PrivatePostgres, TestDatabase};

use super::support::{IntakeUnderTest, create, eventually, visit};

pub const CANARY_NAME: &str = "甄稀罕";
pub const CANARY_ID: &str = "11010519491231002X";
pub const CANARY_PHONE: &str = "13987654321";
pub const CANARY_ADDRESS: &str = "兴平市金城路九十九号望月楼";
const CANARY_ACCUSED: &str = "贾隐名";
const CANARY_POSITION: &str = "征迁办副主任";

pub fn canary_petition() -> proto::Petition {
    proto::Petition {
        petitioner: Some(proto::PetitionerIdentity {
            kind: proto::PetitionerKind::Person as i32,
            name: CANARY_NAME.into(),
            id_card_number: CANARY_ID.into(),
            phone: CANARY_PHONE.into(),
            address: CANARY_ADDRESS.into(),
        }),
        accused_unit_code: "zhaocun".into(),
        accused_person: Some(proto::AccusedPerson {
            name: CANARY_ACCUSED.into(),
            position: CANARY_POSITION.into(),
            unit_name: "赵村镇".into(),
        }),
        ..visit("举报征迁款被截留")
    }
}

/// Every file under `folder` that holds one of `canaries`, with which.
pub fn files_holding(folder: &Path, canaries: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![folder.to_owned()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            for canary in canaries {
                if bytes
                    .windows(canary.len())
                    .any(|window| window == canary.as_bytes())
                {
                    found.push(format!("{} holds {canary}", path.display()));
                }
            }
        }
    }
    found
}

async fn no_stored_file_holds_the_canary(intake: &IntakeUnderTest, database_files: &Path) {
    let mut client = intake.client.clone();
    let answer = client
        .create_petition(create(canary_petition()))
        .await
        .expect("registered")
        .into_inner();
    // The registration is in the database and its event in the stream.
    let events = intake.published(1).await;
    let code = answer.query_code.replace('-', "");
    let canaries = [
        CANARY_NAME,
        CANARY_ID,
        CANARY_PHONE,
        CANARY_ADDRESS,
        CANARY_ACCUSED,
        CANARY_POSITION,
        code.as_str(),
        answer.query_code.as_str(),
    ];
    let mut leaks = files_holding(database_files, &canaries);
    leaks.extend(files_holding(intake.nats.store(), &canaries));
    assert_eq!(leaks, Vec::<String>::new());
    // The search does read them: what is stored in plaintext is found.
    assert!(
        !files_holding(database_files, &["举报征迁款被截留"]).is_empty(),
        "the petition's title is not found in {}",
        database_files.display()
    );
    // The store is encrypted, so the files show nothing either way: the event itself, as
    // every subscriber reads it, must not hold the identity.
    let event = &events[0];
    let mut readable = event.payload.to_vec();
    readable.extend(format!("{:?}", event.headers).into_bytes());
    assert!(
        readable
            .windows(answer.case_number.len())
            .any(|window| window == answer.case_number.as_bytes()),
        "the event names its case"
    );
    for canary in canaries {
        assert!(
            !readable
                .windows(canary.len())
                .any(|window| window == canary.as_bytes()),
            "the event holds {canary}"
        );
    }
    // And yet the registering clerk can still reach the petitioner.
    let revealed = client
        .reveal_petitioner(RevealPetitionerRequest {
            case_id: answer.case_id,
            reason: "送达受理告知书".into(),
        })
        .await
        .expect("revealed")
        .into_inner();
    assert_eq!(revealed.name, CANARY_NAME);
    assert_eq!(revealed.id_card_number, CANARY_ID);
}

#[tokio::test]
async fn no_stored_file_holds_a_canary_identity_on_sqlite() {
    let database = TestDatabase::sqlite().expect("database");
    let file = database
        .url()
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .expect("a path")
        .to_owned();
    let intake = IntakeUnderTest::on(database).await;
    let folder = Path::new(&file).parent().expect("the database's folder");
    no_stored_file_holds_the_canary(&intake, folder).await;
}

#[tokio::test]
async fn no_stored_file_holds_a_canary_identity_on_postgres() {
    let postgres = PrivatePostgres::start().await.expect("a private cluster");
    let database = TestDatabase::postgres_on(&postgres.url())
        .await
        .expect("a database on it");
    let intake = IntakeUnderTest::on(database).await;
    no_stored_file_holds_the_canary(&intake, postgres.folder()).await;
}

#[tokio::test]
async fn an_identity_moved_to_another_row_does_not_open_there() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    let first = client
        .create_petition(create(canary_petition()))
        .await
        .expect("registered")
        .into_inner();
    let second = client
        .create_petition(create(visit("另一件事")))
        .await
        .expect("registered")
        .into_inner();
    let first_row =
        petitioner::Entity::find_by_id(first.case_id.parse::<uuid::Uuid>().expect("id"))
            .one(&intake.db)
            .await
            .expect("read")
            .expect("a petitioner");
    petitioner::Entity::update_many()
        .col_expr(petitioner::Column::Sealed, Expr::value(first_row.sealed))
        .filter(petitioner::Column::CaseId.eq(second.case_id.parse::<uuid::Uuid>().expect("id")))
        .exec(&intake.db)
        .await
        .expect("swapped");

    let shown = client
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseId(second.case_id.clone())),
        })
        .await
        .expect("read")
        .into_inner();
    assert_eq!(shown.petitioner.expect("identity").name, "****");
    let refused = client
        .reveal_petitioner(RevealPetitionerRequest {
            case_id: second.case_id,
            reason: "电话回访".into(),
        })
        .await
        .expect_err("does not open");
    assert_eq!(refused.code(), Code::DataLoss);
}

#[tokio::test]
async fn only_the_registering_clerk_and_a_handler_of_the_responsible_unit_see_the_identity_and_every_ask_is_audited()
 {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut clerk = intake.client.clone();
    let case = clerk
        .create_petition(create(visit("征地补偿")))
        .await
        .expect("registered")
        .into_inner();
    let case_id: uuid::Uuid = case.case_id.parse().expect("id");
    // Routing's decision, as intake learns it: the case is 东城街道's, under the bureau.
    petition_scope::Entity::insert(petition_scope::ActiveModel {
        case_id: Set(case_id),
        unit_code: Set("dongcheng".into()),
        unit_path: Set("/xfj/dongcheng/".into()),
        revision: Set(1),
        held: Set(false),
    })
    .exec_without_returning(&intake.db)
    .await
    .expect("scope");
    let ask = |reason: &str| RevealPetitionerRequest {
        case_id: case.case_id.clone(),
        reason: reason.into(),
    };
    let client_of = |roles: &[Role], units: &[&str]| {
        IntakeServiceClient::new(auth::authed(&intake.grpc_url, &auth::token(roles, units)))
    };

    let revealed = clerk
        .reveal_petitioner(ask("送达受理告知书"))
        .await
        .expect("the registering clerk")
        .into_inner();
    assert_eq!(revealed.phone, super::support::PHONE);
    let handler = client_of(&[Role::UnitHandler], &["dongcheng"])
        .reveal_petitioner(ask("送达处理意见书"))
        .await
        .expect("a handler of the responsible unit")
        .into_inner();
    assert_eq!(handler.address, super::support::ADDRESS);

    for (roles, units) in [
        (&[Role::Registrar][..], &[][..]),
        (&[Role::UnitHandler], &["xfj"]),
        (&[Role::UnitHandler], &["zhaocun"]),
        (&[Role::Supervisor, Role::Leader], &[]),
    ] {
        let refused = client_of(roles, units)
            .reveal_petitioner(ask("想看看"))
            .await
            .expect_err("refused");
        assert_eq!(
            refused.code(),
            Code::PermissionDenied,
            "{roles:?} {units:?}"
        );
    }
    let without_reason = clerk
        .reveal_petitioner(ask("  "))
        .await
        .expect_err("no reason");
    assert_eq!(without_reason.code(), Code::InvalidArgument);

    let reveals: Vec<(bool, String)> = audit::entry::Entity::find()
        .filter(audit::entry::Column::Action.eq("xinfang.intake.v1.IntakeService/RevealPetitioner"))
        .all(&intake.db)
        .await
        .expect("audit")
        .into_iter()
        .map(|entry| (entry.allowed, entry.note))
        .collect();
    // Refused: the other registrar, the bureau's handler, 赵村镇's handler, the
    // supervisor-and-leader (by the policy table), and the ask without a reason.
    assert_eq!(reveals.iter().filter(|(allowed, _)| *allowed).count(), 2);
    assert!(reveals.contains(&(true, "revealed the petitioner: 送达受理告知书".into())));
    assert!(reveals.contains(&(true, "revealed the petitioner: 送达处理意见书".into())));
    assert_eq!(
        reveals.iter().filter(|(allowed, _)| !*allowed).count(),
        5,
        "{reveals:?}"
    );
}

#[tokio::test]
async fn rows_stored_in_plaintext_are_sealed_in_the_background_and_read_the_same() {
    let intake = IntakeUnderTest::on_sqlite().await;
    let mut client = intake.client.clone();
    let case = client
        .create_petition(create(proto::Petition {
            accused_unit_code: "zhaocun".into(),
            accused_person: Some(proto::AccusedPerson {
                name: CANARY_ACCUSED.into(),
                position: CANARY_POSITION.into(),
                unit_name: String::new(),
            }),
            ..visit("旧数据")
        }))
        .await
        .expect("registered")
        .into_inner();
    let case_id: uuid::Uuid = case.case_id.parse().expect("id");
    accused_person::Entity::update_many()
        .col_expr(
            accused_person::Column::PlaintextName,
            Expr::value(CANARY_ACCUSED),
        )
        .col_expr(
            accused_person::Column::PlaintextPosition,
            Expr::value(CANARY_POSITION),
        )
        .col_expr(accused_person::Column::Sealed, Expr::value(None::<Vec<u8>>))
        .col_expr(accused_person::Column::KeyVersion, Expr::value(None::<i32>))
        .filter(accused_person::Column::CaseId.eq(case_id))
        .exec(&intake.db)
        .await
        .expect("made plaintext");
    // As a row from before sealing was stored.
    petitioner::Entity::update_many()
        .col_expr(
            petitioner::Column::PlaintextName,
            Expr::value(super::support::NAME),
        )
        .col_expr(
            petitioner::Column::PlaintextIdCardNumber,
            Expr::value(super::support::ID_CARD),
        )
        .col_expr(
            petitioner::Column::PlaintextPhone,
            Expr::value(super::support::PHONE),
        )
        .col_expr(
            petitioner::Column::PlaintextAddress,
            Expr::value(super::support::ADDRESS),
        )
        .col_expr(petitioner::Column::Sealed, Expr::value(None::<Vec<u8>>))
        .col_expr(petitioner::Column::KeyVersion, Expr::value(None::<i32>))
        .col_expr(
            petitioner::Column::IdCardLookup,
            Expr::value(None::<Vec<u8>>),
        )
        .filter(petitioner::Column::CaseId.eq(case_id))
        .exec(&intake.db)
        .await
        .expect("made plaintext");

    let sealed = eventually(Duration::from_secs(10), || async {
        petitioner::Entity::find_by_id(case_id)
            .one(&intake.db)
            .await
            .expect("read")
            .filter(|row| row.sealed.is_some())
    })
    .await;
    assert_eq!(sealed.plaintext_name, "");
    assert_eq!(sealed.plaintext_id_card_number, None);
    assert_eq!(sealed.plaintext_phone, None);
    assert_eq!(sealed.plaintext_address, None);
    let accused = eventually(Duration::from_secs(10), || async {
        accused_person::Entity::find_by_id(case_id)
            .one(&intake.db)
            .await
            .expect("read")
            .filter(|row| row.sealed.is_some())
    })
    .await;
    assert_eq!(
        (
            accused.plaintext_name.as_str(),
            accused.plaintext_position.as_deref()
        ),
        ("", None)
    );
    assert_eq!(sealed.key_version, Some(1));
    let keys = KeyRing::load(&intake.identity_keys, false).expect("keys");
    assert_eq!(
        sealed.id_card_lookup,
        Some(keys.lookup(sealed_identity::ID_CARD, super::support::ID_CARD))
    );
    let shown = client
        .get_petition(GetPetitionRequest {
            key: Some(Key::CaseId(case.case_id)),
        })
        .await
        .expect("read")
        .into_inner()
        .petitioner
        .expect("identity");
    assert_eq!(shown.name, "张*");
    assert_eq!(shown.id_card_number, "610481********1233");
}

#[tokio::test]
async fn after_a_key_rotation_every_row_is_sealed_again_under_the_new_key() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut client = intake.client.clone();
    for title in ["一", "二", "三"] {
        client
            .create_petition(create(canary_petition_titled(title)))
            .await
            .expect("registered");
    }
    let old = KeyRing::load(&intake.identity_keys, false).expect("keys");
    assert_eq!(
        KeyRing::rotate_file(&intake.identity_keys).expect("rotated"),
        2
    );
    let new = KeyRing::load(&intake.identity_keys, false).expect("keys");

    // What a restarted intake's re-sealer does on its first pass.
    let done = xinfang_intake::reseal::reseal_pending(&intake.db, &new)
        .await
        .expect("re-sealed");
    assert_eq!((done.petitioners, done.accused), (3, 3));
    for row in petitioner::Entity::find()
        .all(&intake.db)
        .await
        .expect("read")
    {
        assert_eq!(row.key_version, Some(2));
        let record = sealed_identity::open_petitioner(&new, &row).expect("opens");
        assert_eq!(record.name, CANARY_NAME);
        // The old ring alone no longer opens it.
        assert!(sealed_identity::open_petitioner(&old, &row).is_err());
    }
    let again = xinfang_intake::reseal::reseal_pending(&intake.db, &new)
        .await
        .expect("nothing left");
    assert_eq!(again, Default::default());
}

fn canary_petition_titled(title: &str) -> proto::Petition {
    proto::Petition {
        title: title.into(),
        ..canary_petition()
    }
}

#[tokio::test]
async fn a_petitioner_follows_the_case_with_its_number_and_query_code_and_nothing_else() {
    let intake = IntakeUnderTest::on_postgres().await;
    let mut clerk = intake.client.clone();
    let request = create(visit("拖欠工资"));
    let case = clerk
        .create_petition(request.clone())
        .await
        .expect("registered")
        .into_inner();
    assert_eq!(case.query_code.len(), 14, "{}", case.query_code);
    let mut portal = IntakeServiceClient::new(auth::authed(
        &intake.grpc_url,
        &auth::sign(&auth::service_claims("portal")),
    ));
    let follow = |number: &str, code: &str| FollowPetitionRequest {
        case_number: number.into(),
        query_code: code.into(),
    };
    let followed = portal
        .follow_petition(follow(&case.case_number, &case.query_code.to_lowercase()))
        .await
        .expect("followed")
        .into_inner();
    assert_eq!(followed.case_id, case.case_id);
    assert_eq!(followed.title, "拖欠工资");

    let other = format!("{}-000999", &case.case_number[..11]);
    let wrong_code = portal
        .follow_petition(follow(&case.case_number, "2222-2222-2222"))
        .await
        .expect_err("wrong code");
    let unknown_case = portal
        .follow_petition(follow(&other, &case.query_code))
        .await
        .expect_err("unknown case");
    assert_eq!(wrong_code.code(), Code::NotFound);
    assert_eq!(
        (unknown_case.code(), unknown_case.message()),
        (Code::NotFound, wrong_code.message())
    );
    let malformed = portal
        .follow_petition(follow(&case.case_number, "123"))
        .await
        .expect_err("malformed");
    assert_eq!(malformed.code(), Code::InvalidArgument);

    // The clerk's retry (its first answer lost) gets a new code; the first stops working.
    let retried = clerk
        .create_petition(request)
        .await
        .expect("a retry")
        .into_inner();
    assert_eq!(retried.case_id, case.case_id);
    assert_ne!(retried.query_code, case.query_code);
    assert_eq!(
        portal
            .follow_petition(follow(&case.case_number, &case.query_code))
            .await
            .expect_err("the old code")
            .code(),
        Code::NotFound
    );
    let reissued = clerk
        .reissue_query_code(ReissueQueryCodeRequest {
            case_id: case.case_id.clone(),
            reason: "信访人遗失查询码，已当面核对身份".into(),
        })
        .await
        .expect("reissued")
        .into_inner();
    portal
        .follow_petition(follow(&case.case_number, &reissued.query_code))
        .await
        .expect("the new code works");
    assert!(
        portal
            .follow_petition(follow(&case.case_number, &retried.query_code))
            .await
            .is_err()
    );
    // No stored column holds the code.
    let stored = xinfang_intake::store::petition::Entity::find()
        .all(&intake.db)
        .await
        .expect("read");
    assert!(
        stored
            .iter()
            .all(|row| row.query_code_hash.as_ref().is_some_and(|h| h.len() == 32))
    );
}
