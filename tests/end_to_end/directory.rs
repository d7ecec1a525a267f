//! The directory lives in routing's database and an administrator maintains it: units are
//! added and retired, category tables published with the time they take effect. A case is
//! routed by the version in effect when it is decided, and its decision keeps that version
//! after the directory changes.

use std::time::Duration;

use tonic::Code;
use xinfang_platform::auth::Role;
use xinfang_proto::routing::v1::{
    AddUnitRequest, GetRoutingDecisionRequest, ListCategoriesRequest, ListCategoryTablesRequest,
    ListUnitsRequest, PublishCategoryTableRequest, RemoveUnitRequest, RetireUnitRequest,
    routing_service_client::RoutingServiceClient,
};
use xinfang_proto::v1::{self as proto, MatterCategory};
use xinfang_testkit::auth::{self, Authed};
use xinfang_testkit::{Backend, Stack, Svc, sample};

use crate::support;

fn administrator(stack: &Stack) -> RoutingServiceClient<Authed> {
    let token = auth::token(&[Role::Administrator], &[]);
    RoutingServiceClient::new(auth::authed(&stack.grpc_url(Svc::Routing), &token))
}

/// Waits for the case's routing decision.
async fn decision_of(stack: &Stack, case_id: &str) -> proto::RoutingDecision {
    let mut routing = support::routing(stack).await;
    let deadline = tokio::time::Instant::now() + support::SETTLE;
    loop {
        if let Ok(found) = routing
            .get_routing_decision(GetRoutingDecisionRequest {
                case_id: case_id.to_owned(),
            })
            .await
        {
            return found.into_inner();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the case was never routed:\n{}",
            stack.log_tails(20)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The table in effect, with housing sent to `housing_unit` instead.
async fn table_sending_housing_to(stack: &Stack, housing_unit: &str) -> Vec<MatterCategory> {
    let mut categories = support::routing(stack)
        .await
        .list_categories(ListCategoriesRequest {})
        .await
        .expect("categories")
        .into_inner()
        .categories;
    for category in &mut categories {
        if category.code == "housing" {
            category.handled_by = housing_unit.to_owned();
        }
    }
    categories
}

fn in_days(days: i64) -> prost_types::Timestamp {
    xinfang_platform::wire::timestamp(time::OffsetDateTime::now_utc() + time::Duration::days(days))
}

#[tokio::test]
async fn a_case_is_routed_by_the_table_in_effect_and_its_decision_keeps_that_version() {
    let stack = Stack::start(Backend::Postgres)
        .await
        .expect("the stack starts");
    let mut intake = support::intake(&stack).await;
    let mut admin = administrator(&stack);

    // Sample 4, a housing matter, goes to 住建局 under the file's table.
    let before = support::submit(&mut intake, sample::create(4)).await;
    let first = decision_of(&stack, &before.case_id).await;
    assert_eq!(first.unit_code, "zhujian");
    assert_eq!(first.directory_version, "xingping-2026-11/2026.1");

    // A clerk does not change the directory.
    let refused = support::routing(&stack)
        .await
        .publish_category_table(PublishCategoryTableRequest {
            version: "2026.2".into(),
            categories: table_sending_housing_to(&stack, "zhujian").await,
            ..Default::default()
        })
        .await
        .expect_err("an administrator's task");
    assert_eq!(refused.code(), Code::PermissionDenied);

    // The administrator adds a unit, and a table that sends housing to it from now on;
    // another, scheduled for next month, is not in effect yet.
    let added = admin
        .add_unit(AddUnitRequest {
            unit: Some(proto::Unit {
                code: "fangguan".into(),
                name: "兴平市房屋管理中心".into(),
                kind: proto::UnitKind::Department.into(),
                ..Default::default()
            }),
            reason: "机构改革，新设房屋管理中心".into(),
        })
        .await
        .expect("added")
        .into_inner();
    assert_eq!(added.revision, 2);
    assert_eq!(added.version, "xingping-2026-11+r2/2026.1");
    let wrong = admin
        .publish_category_table(PublishCategoryTableRequest {
            version: "2026.2".into(),
            categories: table_sending_housing_to(&stack, "no-such-unit").await,
            ..Default::default()
        })
        .await
        .expect_err("a table naming no unit of the directory");
    assert_eq!(wrong.code(), Code::InvalidArgument);
    assert!(
        wrong.message().contains("unknown unit \"no-such-unit\""),
        "{}",
        wrong.message()
    );
    let published = admin
        .publish_category_table(PublishCategoryTableRequest {
            version: "2026.2".into(),
            categories: table_sending_housing_to(&stack, "fangguan").await,
            ..Default::default()
        })
        .await
        .expect("published")
        .into_inner();
    assert!(published.in_effect);
    let scheduled = admin
        .publish_category_table(PublishCategoryTableRequest {
            version: "2026.3".into(),
            effective_at: Some(in_days(30)),
            categories: table_sending_housing_to(&stack, "zhujian").await,
        })
        .await
        .expect("scheduled")
        .into_inner();
    assert!(!scheduled.in_effect);
    let past = admin
        .publish_category_table(PublishCategoryTableRequest {
            version: "2026.4".into(),
            effective_at: Some(in_days(-1)),
            categories: table_sending_housing_to(&stack, "zhujian").await,
        })
        .await
        .expect_err("decisions made keep their table: no back-dating");
    assert_eq!(past.code(), Code::InvalidArgument);

    // A new housing case goes by table 2026.2; the first keeps the versions it used.
    let after = support::submit(&mut intake, sample::create(10)).await;
    let second = decision_of(&stack, &after.case_id).await;
    assert_eq!(second.unit_code, "fangguan");
    assert_eq!(second.unit_name, "兴平市房屋管理中心");
    assert_eq!(second.directory_version, "xingping-2026-11+r2/2026.2");
    assert_eq!(
        decision_of(&stack, &before.case_id).await.directory_version,
        "xingping-2026-11/2026.1"
    );

    // A unit a case went to is never removed; one a table names is not retired.
    let removed = admin
        .remove_unit(RemoveUnitRequest {
            code: "zhujian".into(),
            reason: "录入错误".into(),
        })
        .await
        .expect_err("zhujian has a case");
    assert_eq!(removed.code(), Code::FailedPrecondition);
    let retired = admin
        .retire_unit(RetireUnitRequest {
            code: "zhujian".into(),
            reason: "机构改革".into(),
        })
        .await
        .expect_err("the scheduled table 2026.3 names zhujian");
    assert_eq!(retired.code(), Code::FailedPrecondition);
    assert!(
        retired.message().contains("2026.3"),
        "{}",
        retired.message()
    );

    let tables = admin
        .list_category_tables(ListCategoryTablesRequest {})
        .await
        .expect("tables")
        .into_inner()
        .tables;
    let versions: Vec<(&str, bool)> = tables
        .iter()
        .map(|table| (table.version.as_str(), table.in_effect))
        .collect();
    assert_eq!(
        versions,
        [("2026.3", false), ("2026.2", true), ("2026.1", false)]
    );

    // Routing restarts with the directory its database keeps, not the file's.
    let mut stack = stack;
    stack.restart(Svc::Routing).await.expect("routing restarts");
    let units = support::routing(&stack)
        .await
        .list_units(ListUnitsRequest {
            page_size: 500,
            ..Default::default()
        })
        .await
        .expect("units")
        .into_inner();
    assert_eq!(units.directory_version, "xingping-2026-11+r2/2026.2");
    assert!(units.units.iter().any(|unit| unit.code == "fangguan"));
}
