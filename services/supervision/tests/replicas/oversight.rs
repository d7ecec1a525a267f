//! Leaders' cases, the watch list and inspections: recorded once, each an event, and found
//! by the worklists.

use time::macros::datetime;
use tonic::Code;
use uuid::Uuid;
use xinfang_platform::auth::Role;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{
    self as api, ListCaseTimelinesRequest, supervision_service_client::SupervisionServiceClient,
};
use xinfang_testkit::auth;
use xinfang_testkit::stored_messages;

use crate::support::Bureau;

async fn listed(
    client: &mut SupervisionServiceClient<xinfang_testkit::auth::Authed>,
    request: ListCaseTimelinesRequest,
) -> Vec<String> {
    client
        .list_case_timelines(request)
        .await
        .expect("listed")
        .into_inner()
        .timelines
        .into_iter()
        .map(|timeline| timeline.case_id)
        .collect()
}

#[tokio::test]
async fn a_leaders_case_and_a_key_person_are_found_by_the_worklists_and_announced() {
    let bureau = Bureau::new(datetime!(2026-03-02 09:00 +8)).await;
    let replica = bureau.replica().await;
    let (owned, _) = bureau.accepted_case(&replica, "610481-2026-000001").await;
    let (other, _) = bureau.accepted_case(&replica, "610481-2026-000002").await;
    let mut client = replica.client();

    let leader = "市委副书记 张某";
    let assigned = client
        .assign_leader(api::AssignLeaderRequest {
            case_id: owned.to_string(),
            leader: leader.into(),
            level: api::LeaderLevel::City.into(),
            plan: "三月底前召开协调会".into(),
        })
        .await
        .expect("assigned")
        .into_inner();
    assert_eq!(assigned.level(), api::LeaderLevel::City);
    assert_eq!(assigned.outcome(), api::LeaderOutcome::Unspecified);
    let resolved = client
        .record_leader_outcome(api::RecordLeaderOutcomeRequest {
            case_id: owned.to_string(),
            outcome: api::LeaderOutcome::Resolved.into(),
            note: "补偿款已发放".into(),
        })
        .await
        .expect("recorded")
        .into_inner();
    assert_eq!(resolved.outcome(), api::LeaderOutcome::Resolved);
    let by_leader = listed(
        &mut client,
        ListCaseTimelinesRequest {
            leader: leader.into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(by_leader, vec![owned.to_string()]);
    let timeline = client
        .get_case_timeline(api::GetCaseTimelineRequest {
            case_id: owned.to_string(),
        })
        .await
        .expect("timeline")
        .into_inner();
    assert_eq!(timeline.leader, leader);

    // A key person: one petitioner, referred to by intake's id, owned by a leader and a unit.
    let add = api::AddToWatchListRequest {
        request_id: Uuid::now_v7().to_string(),
        kind: api::WatchKind::KeyPerson.into(),
        group_name: String::new(),
        petitioner_ids: vec![Uuid::now_v7().to_string()],
        case_ids: vec![other.to_string()],
        reason: "多次越级上访".into(),
        leader: leader.into(),
        responsible_unit: "zhaocun".into(),
    };
    let entry = client
        .add_to_watch_list(add.clone())
        .await
        .expect("added")
        .into_inner();
    let again = client
        .add_to_watch_list(add.clone())
        .await
        .expect("a retry is answered")
        .into_inner();
    assert_eq!(again.id, entry.id);
    let watched = ListCaseTimelinesRequest {
        watched: true,
        ..Default::default()
    };
    assert_eq!(
        listed(&mut client, watched.clone()).await,
        vec![other.to_string()]
    );

    let mut two_people = add.clone();
    two_people.request_id = Uuid::now_v7().to_string();
    two_people.petitioner_ids.push(Uuid::now_v7().to_string());
    let status = client
        .add_to_watch_list(two_people)
        .await
        .expect_err("a key person is one person");
    assert_eq!(status.code(), Code::InvalidArgument);

    client
        .remove_from_watch_list(api::RemoveFromWatchListRequest {
            id: entry.id.clone(),
            reason: "问题已化解".into(),
        })
        .await
        .expect("removed");
    assert!(listed(&mut client, watched).await.is_empty());

    let inspection = api::RecordInspectionRequest {
        request_id: Uuid::now_v7().to_string(),
        unit_code: "zhaocun".into(),
        inspected_on: None,
        findings: "积案台账不全".into(),
        case_ids: vec![owned.to_string()],
    };
    client
        .record_inspection(inspection.clone())
        .await
        .expect("recorded");
    client
        .record_inspection(inspection)
        .await
        .expect("a retry is answered");
    let inspections = client
        .list_inspections(api::ListInspectionsRequest {
            unit_code: "zhaocun".into(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .inspections;
    assert_eq!(inspections.len(), 1);

    // A unit handler cannot take a case for a leader.
    let handler = SupervisionServiceClient::new(auth::authed(
        &format!("http://{}", replica.running.grpc_address),
        &auth::token(&[Role::UnitHandler], &["zhaocun"]),
    ));
    let status = handler
        .clone()
        .assign_leader(api::AssignLeaderRequest {
            case_id: owned.to_string(),
            leader: "x".into(),
            level: api::LeaderLevel::Town.into(),
            plan: "x".into(),
        })
        .await
        .expect_err("not a handler's to assign");
    assert_eq!(status.code(), Code::PermissionDenied);

    // Each change announced once: assigned, outcome, added, removed, inspection — and none
    // carries the staff's free text (a plan, a reason, findings may name people).
    let jetstream = async_nats::jetstream::new(bureau.nats.client().await.expect("connect"));
    let announced = stored_messages(&jetstream, subjects::SUPERVISION_STREAM.name, 1).await;
    for message in &announced {
        let payload = String::from_utf8_lossy(&message.payload);
        for written in [
            "三月底前召开协调会",
            "补偿款已发放",
            "多次越级上访",
            "问题已化解",
            "积案台账不全",
        ] {
            assert!(!payload.contains(written), "{}: {written}", message.subject);
        }
    }
    let tails: Vec<String> = announced
        .into_iter()
        .map(|message| message.subject.to_string())
        .filter(|subject| {
            [".leader.", ".watch.", ".inspection."]
                .iter()
                .any(|part| subject.contains(part))
        })
        .collect();
    assert_eq!(
        tails,
        [
            "leader.assigned",
            "leader.outcome",
            "watch.added",
            "watch.removed",
            "inspection.recorded"
        ]
        .map(|tail| format!("xinfang.v1.supervision.unit.zhaocun.{tail}"))
    );
    replica.stop().await;
}
