//! Receptions and visits down: the roster, the sessions as they happened, and the figures a
//! half-year summary states from them — the seed's "市级党政领导接访下访78次，接待群众922
//! 人次，党政主要领导下访7次".

use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use tonic::Code;
use uuid::Uuid;
use xinfang_platform::auth::Role;
use xinfang_platform::wire;
use xinfang_proto::supervision::v1::{
    self as api, LeaderLevel, ReceptionKind, supervision_service_client::SupervisionServiceClient,
};
use xinfang_testkit::auth::{self, Authed};

use crate::support::{Bureau, Replica};

fn client(replica: &Replica, roles: &[Role]) -> SupervisionServiceClient<Authed> {
    SupervisionServiceClient::new(auth::authed(
        &format!("http://{}", replica.running.grpc_address),
        &auth::token(roles, &[]),
    ))
}

fn leader(id: &str, post: &str, level: LeaderLevel, principal: bool) -> api::AddLeaderRequest {
    api::AddLeaderRequest {
        leader: Some(api::Leader {
            id: id.into(),
            name: format!("{post}（示例）"),
            post: post.into(),
            level: level as i32,
            principal,
        }),
    }
}

fn session(
    leader_id: &str,
    kind: ReceptionKind,
    held_at: OffsetDateTime,
    people: u32,
) -> api::RecordReceptionRequest {
    api::RecordReceptionRequest {
        request_id: Uuid::new_v4().to_string(),
        leader_id: leader_id.into(),
        kind: kind as i32,
        held_at: Some(wire::timestamp(held_at)),
        place: "市信访接待大厅".into(),
        people_received: people,
        case_ids: vec![Uuid::new_v4().to_string()],
    }
}

const CITY: [(&str, &str, bool); 5] = [
    ("city-secretary", "市委书记", true),
    ("city-mayor", "市长", true),
    ("city-executive-deputy-mayor", "常务副市长", false),
    ("city-deputy-mayor", "副市长", false),
    ("city-politics-law", "市委政法委书记", false),
];

#[tokio::test]
async fn the_reception_records_reproduce_the_seeds_three_figures() {
    let bureau = Bureau::new(datetime!(2026-07-10 09:00 +8)).await;
    let replica = bureau.replica().await;
    let mut supervisor = client(&replica, &[Role::Supervisor]);
    let mut desk = client(&replica, &[Role::Registrar]);
    for (id, post, principal) in CITY {
        supervisor
            .add_leader(leader(id, post, LeaderLevel::City, principal))
            .await
            .expect("on the roster");
    }
    supervisor
        .add_leader(leader(
            "zhaocun-secretary",
            "赵村镇党委书记",
            LeaderLevel::Town,
            true,
        ))
        .await
        .expect("a town's leader on the roster");

    // The first half of 2026: 78 sessions of city leaders, 922 people received; 7 of them
    // visits down by the secretary or the mayor, 10 by deputies, the rest duty days and
    // appointments (principal leaders' among them).
    let first_day = datetime!(2026-01-05 09:00 +8);
    for index in 0..78_usize {
        let (leader, kind) = match index {
            0..7 => (CITY[index % 2].0, ReceptionKind::VisitDown),
            7..17 => (CITY[2 + index % 3].0, ReceptionKind::VisitDown),
            _ if index % 2 == 0 => (CITY[index % 5].0, ReceptionKind::Duty),
            _ => (CITY[index % 5].0, ReceptionKind::Appointment),
        };
        let people = 11 + u32::from(index < 64);
        let held_at = first_day + Duration::days(2 * index as i64);
        desk.record_reception(session(leader, kind, held_at, people))
            .await
            .expect("recorded at the desk");
    }
    // Not in the figures: a town leader's visit down, a city session a minute before the
    // half year (China Standard Time), and one at its end.
    for (leader, at) in [
        ("zhaocun-secretary", datetime!(2026-03-03 09:00 +8)),
        ("city-secretary", datetime!(2025-12-31 23:59 +8)),
        ("city-mayor", datetime!(2026-07-01 00:00 +8)),
    ] {
        supervisor
            .record_reception(session(leader, ReceptionKind::VisitDown, at, 40))
            .await
            .expect("recorded");
    }

    let half_year = |level: LeaderLevel, page_size: i32| api::ListReceptionsRequest {
        from: Some(wire::timestamp(datetime!(2026-01-01 00:00 +8))),
        to: Some(wire::timestamp(datetime!(2026-07-01 00:00 +8))),
        level: level as i32,
        page_size,
        ..Default::default()
    };
    let listed = client(&replica, &[Role::Leader])
        .list_receptions(half_year(LeaderLevel::City, 50))
        .await
        .expect("listed")
        .into_inner();
    assert_eq!(
        listed.figures,
        Some(api::ReceptionFigures {
            sessions: 78,
            person_times: 922,
            visits_down_by_principal_leaders: 7,
        })
    );
    // The figures are the period's, whatever the page; the pages hold every session once.
    assert_eq!(listed.receptions.len(), 50);
    let mut seen: Vec<String> = listed.receptions.iter().map(|r| r.id.clone()).collect();
    let mut token = listed.next_page_token;
    while !token.is_empty() {
        let page = supervisor
            .list_receptions(api::ListReceptionsRequest {
                page_token: token,
                ..half_year(LeaderLevel::City, 50)
            })
            .await
            .expect("the next page")
            .into_inner();
        seen.extend(page.receptions.iter().map(|r| r.id.clone()));
        token = page.next_page_token;
    }
    let distinct: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), distinct.len()), (78, 78));
    // The analyst reads the figures alone.
    let figures = client(&replica, &[Role::Analyst])
        .get_reception_figures(api::GetReceptionFiguresRequest {
            from: Some(wire::timestamp(datetime!(2026-01-01 00:00 +8))),
            to: Some(wire::timestamp(datetime!(2026-07-01 00:00 +8))),
            level: LeaderLevel::City as i32,
            ..Default::default()
        })
        .await
        .expect("the figures")
        .into_inner();
    assert_eq!((figures.sessions, figures.person_times), (78, 922));

    let everyone = supervisor
        .list_receptions(half_year(LeaderLevel::Unspecified, 0))
        .await
        .expect("listed")
        .into_inner()
        .figures
        .expect("figures");
    assert_eq!(
        (
            everyone.sessions,
            everyone.person_times,
            everyone.visits_down_by_principal_leaders
        ),
        (79, 962, 8),
        "the town's principal leader's visit down counts when every level is asked for"
    );
}

#[tokio::test]
async fn a_session_is_recorded_once_and_a_wrong_one_names_every_wrong_field() {
    let bureau = Bureau::new(datetime!(2026-05-10 09:00 +8)).await;
    let replica = bureau.replica().await;
    let mut supervisor = client(&replica, &[Role::Supervisor]);
    supervisor
        .add_leader(leader("city-mayor", "市长", LeaderLevel::City, true))
        .await
        .expect("on the roster");
    // The same leader again is a retry; another under the same id is refused.
    supervisor
        .add_leader(leader("city-mayor", "市长", LeaderLevel::City, true))
        .await
        .expect("a retry");
    let taken = supervisor
        .add_leader(leader("city-mayor", "副市长", LeaderLevel::City, false))
        .await
        .expect_err("the id is taken");
    assert_eq!(taken.code(), Code::AlreadyExists);

    let once = session(
        "city-mayor",
        ReceptionKind::Duty,
        datetime!(2026-05-08 09:00 +8),
        9,
    );
    let first = supervisor
        .record_reception(once.clone())
        .await
        .expect("recorded")
        .into_inner();
    let again = supervisor
        .record_reception(once.clone())
        .await
        .expect("a retry")
        .into_inner();
    assert_eq!(first.id, again.id);
    // The same session entered again at another desk counts once.
    let entered_twice = supervisor
        .record_reception(api::RecordReceptionRequest {
            request_id: Uuid::new_v4().to_string(),
            ..once
        })
        .await
        .expect_err("the same session");
    assert_eq!(entered_twice.code(), Code::AlreadyExists);
    let unknown_level = supervisor
        .list_receptions(api::ListReceptionsRequest {
            level: 99,
            ..Default::default()
        })
        .await
        .expect_err("an unknown level");
    assert_eq!(unknown_level.code(), Code::InvalidArgument);

    let wrong = supervisor
        .record_reception(api::RecordReceptionRequest {
            request_id: "r-1".into(),
            leader_id: "nobody".into(),
            kind: 0,
            held_at: Some(wire::timestamp(datetime!(2026-06-01 09:00 +8))),
            place: " ".into(),
            people_received: 20_000,
            case_ids: vec!["case".into()],
        })
        .await
        .expect_err("refused");
    assert_eq!(wrong.code(), Code::InvalidArgument);
    for field in [
        "request_id",
        "leader_id",
        "kind",
        "held_at",
        "place",
        "people_received",
        "case_ids[0]",
    ] {
        assert!(
            wrong.message().contains(&format!("{field}:")),
            "{field} not named: {}",
            wrong.message()
        );
    }
    let figures = supervisor
        .list_receptions(api::ListReceptionsRequest::default())
        .await
        .expect("listed")
        .into_inner()
        .figures
        .expect("figures");
    assert_eq!((figures.sessions, figures.person_times), (1, 9));

    // Figures of receptions name cases: not the analyst's; a unit handler's neither.
    for role in [Role::Analyst, Role::UnitHandler] {
        let refused = client(&replica, &[role])
            .list_receptions(api::ListReceptionsRequest::default())
            .await
            .expect_err("refused");
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}");
    }
}
