//! Every service refuses a request over 1 MiB before decoding it, not only intake.

use tonic::Code;
use xinfang_proto::routing::v1::ListRoutingDecisionsRequest;
use xinfang_proto::supervision::v1::ListCaseTimelinesRequest;
use xinfang_testkit::{Backend, Stack};

use crate::support;

#[tokio::test]
async fn a_request_over_one_mebibyte_is_out_of_range_in_every_service() {
    let stack = Stack::start(Backend::Sqlite)
        .await
        .expect("the stack starts");
    let huge = "x".repeat(1_200_000);
    let refused = support::routing(&stack)
        .await
        .list_routing_decisions(ListRoutingDecisionsRequest {
            page_token: huge.clone(),
            ..Default::default()
        })
        .await
        .expect_err("too large for routing");
    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
    let refused = support::supervision(&stack)
        .await
        .list_case_timelines(ListCaseTimelinesRequest {
            page_token: huge,
            ..Default::default()
        })
        .await
        .expect_err("too large for supervision");
    assert_eq!(refused.code(), Code::OutOfRange, "{refused:?}");
}
