//! Where the departments' feeds come from: the units of the directory, read from a directory
//! file (the one routing loads at its first start) or from routing itself (the directory as
//! the administrator has changed it since).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use xinfang_platform::department_feeds::{self, Department, DirectoryUnit};
use xinfang_proto::routing::v1::{ListUnitsRequest, routing_service_client::RoutingServiceClient};
use xinfang_proto::v1::UnitKind as ProtoUnitKind;
use xinfang_routing::directory::{Directory, UnitKind};

use crate::connect::{Token, channel};

#[derive(Args, Clone)]
pub struct DepartmentSource {
    /// Give each unit of this directory file a NATS feed of its own case events.
    #[arg(long, conflicts_with = "departments_from_routing")]
    departments_from: Option<PathBuf>,
    /// Give each unit of routing's directory (this gRPC URL, with XINFANG_TOKEN) a feed.
    #[arg(long)]
    departments_from_routing: Option<String>,
    #[command(flatten)]
    token: Token,
}

impl DepartmentSource {
    /// The departments, none when no source is given.
    pub async fn departments(&self) -> anyhow::Result<Vec<Department>> {
        let units = match (&self.departments_from, &self.departments_from_routing) {
            (Some(path), _) => from_file(path)?,
            (None, Some(url)) => from_routing(url, &self.token).await?,
            (None, None) => return Ok(Vec::new()),
        };
        Ok(department_feeds::departments(&units))
    }
}

fn from_file(path: &std::path::Path) -> anyhow::Result<Vec<DirectoryUnit>> {
    let directory =
        Directory::load(path).with_context(|| format!("load the directory {}", path.display()))?;
    Ok(directory
        .units()
        // A retired unit keeps its feed: its open cases still have events.
        .map(|unit| DirectoryUnit {
            code: unit.code.to_string(),
            parent: unit.parent.as_ref().map(ToString::to_string),
            handles_cases: !matches!(unit.kind, UnitKind::Bureau | UnitKind::HigherBureau),
        })
        .collect())
}

async fn from_routing(url: &str, token: &Token) -> anyhow::Result<Vec<DirectoryUnit>> {
    let mut routing = RoutingServiceClient::new(channel(url, "routing", token).await?);
    let mut units = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = routing
            .list_units(ListUnitsRequest {
                page_size: 500,
                page_token,
                include_retired: true,
            })
            .await
            .context("list routing's units")?
            .into_inner();
        units.extend(page.units.into_iter().map(|unit| DirectoryUnit {
            handles_cases: !matches!(
                unit.kind(),
                ProtoUnitKind::Bureau | ProtoUnitKind::HigherBureau
            ),
            parent: Some(unit.parent_code).filter(|parent| !parent.is_empty()),
            code: unit.code,
        }));
        if page.next_page_token.is_empty() {
            return Ok(units);
        }
        page_token = page.next_page_token;
    }
}
