//! The legal calendar as data: loading a year's notice recomputes the provisional deadlines
//! with an event per move, and every replica counts with it.

use time::macros::{date, datetime};
use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_proto::subjects;
use xinfang_proto::supervision::v1::{
    self as api, DeadlineMoved, supervision_service_client::SupervisionServiceClient,
};
use xinfang_proto::v1::{CalendarDate, DeadlineKind};
use xinfang_testkit::{auth, eventually, stored_messages};

use crate::support::{Bureau, Replica};

fn administrator(replica: &Replica) -> SupervisionServiceClient<auth::Authed> {
    SupervisionServiceClient::new(auth::authed(
        &format!("http://{}", replica.running.grpc_address),
        &auth::token(&[Role::Administrator], &[]),
    ))
}

fn day(year: i32, month: i32, day: i32) -> Option<CalendarDate> {
    Some(CalendarDate { year, month, day })
}

/// A 2027 notice that makes Tuesday 19 January a rest day.
fn notice_2027() -> api::LoadHolidayNoticeRequest {
    api::LoadHolidayNoticeRequest {
        year: 2027,
        days: vec![api::HolidayDay {
            date: day(2027, 1, 19),
            name: "测试假日".into(),
            off_day: true,
        }],
        source: "国办发明电〔2026〕99号".into(),
    }
}

async fn handling(replica: &Replica, case: uuid::Uuid) -> xinfang_proto::v1::Deadline {
    replica
        .client()
        .get_case_timeline(api::GetCaseTimelineRequest {
            case_id: case.to_string(),
        })
        .await
        .expect("timeline")
        .into_inner()
        .deadlines
        .into_iter()
        .find(|d| d.kind() == DeadlineKind::Handling)
        .expect("a handling clock")
}

#[tokio::test]
async fn loading_a_years_notice_recomputes_provisional_deadlines_on_every_replica() {
    // Accepted on 20 November 2026: 60 days reach 19 January 2027, a year not loaded.
    let bureau = Bureau::new(datetime!(2026-11-20 09:00 +8)).await;
    let first = bureau.replica().await;
    let second = bureau.replica().await;
    let (case, due) = bureau.accepted_case(&first, "610481-2026-000001").await;
    assert_eq!(due, date!(2027 - 01 - 19));
    assert!(handling(&first, case).await.provisional);

    // Refused: not an administrator; no source; a day far from the year.
    let status = first
        .client()
        .load_holiday_notice(notice_2027())
        .await
        .expect_err("a supervisor does not load the calendar");
    assert_eq!(status.code(), Code::PermissionDenied);
    let mut bad = notice_2027();
    bad.source.clear();
    bad.days[0].date = day(2030, 1, 1);
    let status = administrator(&first)
        .load_holiday_notice(bad)
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(handling(&first, case).await.provisional, "nothing changed");

    let loaded = administrator(&first)
        .load_holiday_notice(notice_2027())
        .await
        .expect("loaded")
        .into_inner();
    assert_eq!(loaded.deadlines_moved, 1);
    assert!(
        loaded
            .calendar_version
            .starts_with("notices 2022,2023,2024,2025,2026,2027 #")
    );
    let moved = handling(&first, case).await;
    assert_eq!(moved.due, day(2027, 1, 20));
    assert!(!moved.provisional);
    assert_eq!(moved.calendar_version, loaded.calendar_version);

    let jetstream = async_nats::jetstream::new(bureau.nats.client().await.expect("connect"));
    let moved_events = || async {
        stored_messages(&jetstream, subjects::SUPERVISION_STREAM.name, 1)
            .await
            .into_iter()
            .filter(|message| message.subject.ends_with(".deadline.moved"))
            .filter_map(|message| prost::Message::decode(message.payload.clone()).ok())
            .collect::<Vec<DeadlineMoved>>()
    };
    // Published by the relay after the commit.
    eventually(std::time::Duration::from_secs(20), || async {
        (!moved_events().await.is_empty()).then_some(())
    })
    .await;
    let events = moved_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].from, day(2027, 1, 19));

    // The other replica counts with the new notice too (its calendar refreshed, or its
    // timers recomputing what it counted with the old one): a case it accepts now is not
    // provisional in January.
    bureau.time.set(datetime!(2026-11-21 09:00 +8));
    let (later, _) = bureau.accepted_case(&second, "610481-2026-000002").await;
    let version = loaded.calendar_version.clone();
    eventually(std::time::Duration::from_secs(20), || {
        let version = version.clone();
        let second = &second;
        async move {
            let later = handling(second, later).await;
            (!later.provisional && later.calendar_version == version).then_some(())
        }
    })
    .await;
    let listed = second
        .client()
        .list_holiday_notices(api::ListHolidayNoticesRequest {})
        .await
        .expect("listed")
        .into_inner();
    let sources: Vec<(i32, String)> = listed
        .notices
        .iter()
        .map(|notice| (notice.year, notice.loaded_by.clone()))
        .collect();
    assert_eq!(sources.len(), 6);
    assert_eq!(sources[5].0, 2027);
    first.stop().await;
    second.stop().await;
}
