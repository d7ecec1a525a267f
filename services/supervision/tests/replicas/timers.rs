//! Durable timers and letters with two replicas: each alarm fires exactly once, with its
//! letter; after a restart none is missed; letter numbers stay gap-free when replicas issue
//! at once.

use std::time::Duration;

use time::macros::datetime;
use uuid::Uuid;
use xinfang_proto::supervision::v1::{self as api, ListCaseTimelinesRequest};
use xinfang_testkit::eventually;

use crate::support::{Bureau, at_nine, settle};

#[tokio::test]
async fn each_alarm_fires_once_across_two_replicas_and_none_is_missed_after_a_restart() {
    let bureau = Bureau::new(datetime!(2026-03-02 09:00 +8)).await;
    let first = bureau.replica().await;
    let second = bureau.replica().await;
    let (case, due) = bureau.accepted_case(&first, "610481-2026-000001").await;
    let (later_case, later_due) = {
        bureau.time.set(datetime!(2026-04-01 09:00 +8));
        bureau.accepted_case(&second, "610481-2026-000002").await
    };

    // Three days before the due day: one reminder letter.
    bureau.time.set(at_nine(due - time::Duration::days(3)));
    eventually(Duration::from_secs(20), || async {
        (!bureau.handling_alarms(case).await.is_empty()).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(
        bureau.handling_alarms(case).await,
        vec![("approaching".to_owned(), "兴信提〔2026〕1号".to_owned())]
    );

    // The day after: overdue, and a warning letter.
    bureau.time.set(at_nine(due + time::Duration::days(1)));
    eventually(Duration::from_secs(20), || async {
        (bureau.handling_alarms(case).await.len() == 2).then_some(())
    })
    .await;
    // Six days late: supervised (督办), with a supervision letter.
    bureau.time.set(at_nine(due + time::Duration::days(6)));
    eventually(Duration::from_secs(20), || async {
        (bureau.handling_alarms(case).await.len() == 3).then_some(())
    })
    .await;
    settle().await;
    assert_eq!(
        bureau.handling_alarms(case).await,
        vec![
            ("approaching".to_owned(), "兴信提〔2026〕1号".to_owned()),
            ("overdue".to_owned(), "兴信警〔2026〕1号".to_owned()),
            ("supervised".to_owned(), "兴信督〔2026〕1号".to_owned()),
        ]
    );
    // The worklists: the late case is overdue; the other is not due within a week.
    let listed = |overdue: bool, due_within_days: u32| {
        let mut client = first.client();
        async move {
            client
                .list_case_timelines(ListCaseTimelinesRequest {
                    overdue,
                    due_within_days,
                    ..Default::default()
                })
                .await
                .expect("listed")
                .into_inner()
                .timelines
                .into_iter()
                .map(|timeline| timeline.case_id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(true, 0).await, vec![case.to_string()]);
    assert!(
        listed(false, 7)
            .await
            .iter()
            .all(|id| *id != later_case.to_string())
    );

    // Both replicas down while the later case's deadline passes; one comes back.
    first.stop().await;
    second.stop().await;
    bureau
        .time
        .set(at_nine(later_due + time::Duration::days(2)));
    let back = bureau.replica().await;
    eventually(Duration::from_secs(20), || async {
        (!bureau.handling_alarms(later_case).await.is_empty()).then_some(())
    })
    .await;
    settle().await;
    // The reminder it slept through is recorded as passed, not sent after the due day.
    assert_eq!(
        bureau.handling_alarms(later_case).await,
        vec![
            ("approaching".to_owned(), String::new()),
            ("overdue".to_owned(), "兴信警〔2026〕2号".to_owned()),
        ]
    );
    let events = bureau.handling_alarm_events(4).await;
    use xinfang_proto::supervision::v1::AlertLevel;
    assert_eq!(
        events,
        vec![
            AlertLevel::Approaching as i32,
            AlertLevel::Overdue as i32,
            AlertLevel::Supervised as i32,
            AlertLevel::Overdue as i32,
        ]
    );
    back.stop().await;
}

#[tokio::test]
async fn letter_numbers_stay_gap_free_when_two_replicas_issue_at_once() {
    let bureau = Bureau::new(datetime!(2026-03-02 09:00 +8)).await;
    let first = bureau.replica().await;
    let second = bureau.replica().await;
    let (case, _) = bureau.accepted_case(&first, "610481-2026-000001").await;
    let mut calls = Vec::new();
    for index in 0..24 {
        let mut client = if index % 2 == 0 {
            first.client()
        } else {
            second.client()
        };
        calls.push(tokio::spawn(async move {
            client
                .issue_letter(api::IssueLetterRequest {
                    request_id: Uuid::now_v7().to_string(),
                    case_id: case.to_string(),
                    kind: api::LetterKind::Supervision.into(),
                    text: String::new(),
                    reply_days: 0,
                })
                .await
                .map(|letter| letter.into_inner().number)
        }));
    }
    let mut numbers = Vec::new();
    for call in calls {
        numbers.push(call.await.expect("joined").expect("issued"));
    }
    numbers.sort_by_key(|number| {
        number
            .trim_start_matches("兴信督〔2026〕")
            .trim_end_matches('号')
            .parse::<u32>()
            .expect("a serial")
    });
    let expected: Vec<String> = (1..=24).map(|n| format!("兴信督〔2026〕{n}号")).collect();
    assert_eq!(numbers, expected);
    let mut stored = bureau.letters().await;
    stored.sort();
    let mut expected_sorted = expected.clone();
    expected_sorted.sort();
    assert_eq!(stored, expected_sorted);
    first.stop().await;
    second.stop().await;
}
