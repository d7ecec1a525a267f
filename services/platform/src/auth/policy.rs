//! The authorisation table: which role may call which RPC, and over which cases. Declared
//! once, as data; the layer and the handlers only look it up.

use std::str::FromStr;

use super::Caller;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 登记员: a clerk registering petitions at the bureau.
    Registrar,
    /// A handler in a responsible unit: sees only the cases routed to its units (and the
    /// units under them: a town sees its villages').
    UnitHandler,
    /// The bureau's supervisor: sees every case.
    Supervisor,
    /// A leader: reads every case and the figures.
    Leader,
    /// An analyst: the figures only, never a case, never an identity.
    Analyst,
    /// An administrator: the directory, rules and calendar — not case contents.
    Administrator,
    /// A registrar at a town's, street's or department's own desk (首接首办): registers
    /// petitions for its unit, and reads its unit's cases like its handlers.
    UnitRegistrar,
    /// Another Xinfang service calling with its own identity.
    Service,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Registrar,
        Role::UnitRegistrar,
        Role::UnitHandler,
        Role::Supervisor,
        Role::Leader,
        Role::Analyst,
        Role::Administrator,
        Role::Service,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Registrar => "registrar",
            Role::UnitHandler => "unit_handler",
            Role::Supervisor => "supervisor",
            Role::Leader => "leader",
            Role::Analyst => "analyst",
            Role::Administrator => "administrator",
            Role::UnitRegistrar => "unit_registrar",
            Role::Service => "service",
        }
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| format!("unknown role {text:?}"))
    }
}

/// Over which cases a role may use an RPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Only cases routed to one of the caller's units or a unit under them.
    OwnUnits,
    /// Every case (or no case is involved).
    All,
}

use Role::*;
use Scope::*;

/// Bureau-wide readers of cases, and the unit handler in its own units.
const CASE_READERS: &[(Role, Scope)] = &[
    (Registrar, All),
    (Supervisor, All),
    (Leader, All),
    (UnitHandler, OwnUnits),
    (UnitRegistrar, OwnUnits),
];

/// RPC full name → who may call it. An RPC not listed is refused to everyone.
pub const POLICY: &[(&str, &[(Role, Scope)])] = &[
    (
        "xinfang.intake.v1.IntakeService/CreatePetition",
        &[
            (Registrar, All),
            (Supervisor, All),
            (UnitRegistrar, OwnUnits),
        ],
    ),
    ("xinfang.intake.v1.IntakeService/GetPetition", CASE_READERS),
    (
        "xinfang.intake.v1.IntakeService/ListPetitions",
        CASE_READERS,
    ),
    (
        "xinfang.intake.v1.IntakeService/ReconcileCaseNumbers",
        &[(Supervisor, All), (Administrator, All)],
    ),
    (
        // Those who must contact the petitioner; the handler narrows it further: the clerk
        // who registered the petition, a handler of the unit it is routed to.
        "xinfang.intake.v1.IntakeService/RevealPetitioner",
        &[
            (Registrar, All),
            (UnitRegistrar, OwnUnits),
            (UnitHandler, OwnUnits),
        ],
    ),
    (
        // The same callers as the petitioner's identity, on the same terms.
        "xinfang.intake.v1.IntakeService/RevealRepresentatives",
        &[
            (Registrar, All),
            (UnitRegistrar, OwnUnits),
            (UnitHandler, OwnUnits),
        ],
    ),
    (
        // The public portal and the console call as a service, for the petitioner.
        "xinfang.intake.v1.IntakeService/FollowPetition",
        &[(Registrar, All), (Supervisor, All), (Service, All)],
    ),
    (
        "xinfang.intake.v1.IntakeService/ReissueQueryCode",
        &[(Registrar, All), (Supervisor, All)],
    ),
    (
        // The bureau's clerks, who route by hand: linking is routing a petition into a case.
        "xinfang.intake.v1.IntakeService/LinkUpstream",
        &[(Registrar, All), (Supervisor, All)],
    ),
    (
        // The bureau's clerks correct what the bureau registered and routes.
        "xinfang.intake.v1.IntakeService/CorrectPetition",
        &[(Registrar, All), (Supervisor, All)],
    ),
    (
        "xinfang.intake.v1.IntakeService/ListCorrections",
        &[(Registrar, All), (Supervisor, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/GetRoutingDecision",
        CASE_READERS,
    ),
    (
        "xinfang.routing.v1.RoutingService/ListRoutingDecisions",
        CASE_READERS,
    ),
    (
        "xinfang.routing.v1.RoutingService/ListCategories",
        &[
            (Registrar, All),
            (UnitRegistrar, All),
            (UnitHandler, All),
            (Supervisor, All),
            (Leader, All),
            (Analyst, All),
            (Administrator, All),
            (Service, All),
        ],
    ),
    (
        "xinfang.routing.v1.RoutingService/ListTriage",
        &[(Registrar, All), (Supervisor, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/RouteCase",
        &[(Registrar, All), (Supervisor, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/ListUnits",
        &[
            (Registrar, All),
            (UnitRegistrar, All),
            (UnitHandler, All),
            (Supervisor, All),
            (Leader, All),
            (Analyst, All),
            (Administrator, All),
            (Service, All),
        ],
    ),
    (
        "xinfang.routing.v1.RoutingService/AddUnit",
        &[(Administrator, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/RenameUnit",
        &[(Administrator, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/MoveUnit",
        &[(Administrator, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/RetireUnit",
        &[(Administrator, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/RemoveUnit",
        &[(Administrator, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/PublishCategoryTable",
        &[(Administrator, All)],
    ),
    (
        "xinfang.routing.v1.RoutingService/ListCategoryTables",
        &[(Administrator, All), (Supervisor, All), (Leader, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/GetCaseTimeline",
        // Routing asks where a case stands before it moves one.
        &[
            (Registrar, All),
            (Supervisor, All),
            (Leader, All),
            (UnitHandler, OwnUnits),
            (UnitRegistrar, OwnUnits),
            (Service, All),
        ],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListCaseTimelines",
        CASE_READERS,
    ),
    (
        "xinfang.supervision.v1.SupervisionService/RecordCaseAction",
        &[(UnitHandler, OwnUnits), (Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/LoadHolidayNotice",
        &[(Administrator, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListHolidayNotices",
        &[
            (Administrator, All),
            (Supervisor, All),
            (Leader, All),
            (Registrar, All),
            (UnitHandler, All),
        ],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/IssueLetter",
        &[(Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/RecordLetterReply",
        &[(UnitHandler, OwnUnits), (Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/RecordUpstreamLetter",
        &[(Registrar, All), (Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListLetters",
        CASE_READERS,
    ),
    (
        "xinfang.supervision.v1.SupervisionService/AssignLeader",
        &[(Supervisor, All), (Leader, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/RecordLeaderOutcome",
        &[(Supervisor, All), (Leader, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListLeaderCases",
        CASE_READERS,
    ),
    (
        "xinfang.supervision.v1.SupervisionService/AddToWatchList",
        &[(Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/RemoveFromWatchList",
        &[(Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListWatchList",
        &[(Supervisor, All), (Leader, All), (UnitHandler, OwnUnits)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/RecordInspection",
        &[(Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListInspections",
        &[(Supervisor, All), (Leader, All), (UnitHandler, OwnUnits)],
    ),
    // The roster: kept by the bureau's supervisor or an administrator; read by those who
    // record sessions and those who read the figures.
    (
        "xinfang.supervision.v1.SupervisionService/AddLeader",
        &[(Supervisor, All), (Administrator, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListLeaders",
        &[
            (Supervisor, All),
            (Registrar, All),
            (Leader, All),
            (Administrator, All),
        ],
    ),
    // Sessions are recorded at the reception desk (the registrar who took the petitions)
    // or by the supervisor. They name the cases taken, so not the analyst's.
    (
        "xinfang.supervision.v1.SupervisionService/RecordReception",
        &[(Supervisor, All), (Registrar, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListReceptions",
        &[(Supervisor, All), (Registrar, All), (Leader, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/GetReceptionFigures",
        &[(Supervisor, All), (Leader, All), (Analyst, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/DeclareRecusal",
        &[(Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/WithdrawRecusal",
        &[(Supervisor, All)],
    ),
    (
        "xinfang.supervision.v1.SupervisionService/ListRecusals",
        &[(Supervisor, All), (Leader, All)],
    ),
    (
        "xinfang.statistics.v1.StatisticsService/GetOverview",
        &[(Supervisor, All), (Leader, All), (Analyst, All)],
    ),
    // A unit handler reads the figures of its own units' cases only.
    (
        "xinfang.statistics.v1.StatisticsService/GetFigures",
        &[
            (Supervisor, All),
            (Leader, All),
            (Analyst, All),
            (UnitHandler, OwnUnits),
        ],
    ),
    (
        "xinfang.statistics.v1.StatisticsService/GetWorkFigures",
        &[(Supervisor, All), (Leader, All), (Analyst, All)],
    ),
    // Reports state figures, never a case: a unit handler's covers its own units.
    (
        "xinfang.statistics.v1.StatisticsService/GetReport",
        &[
            (Supervisor, All),
            (Leader, All),
            (Analyst, All),
            (UnitHandler, OwnUnits),
        ],
    ),
];

/// The widest scope any of the caller's roles has on `rpc`; `None` when none may call it.
pub fn decide(rpc: &str, caller: &Caller) -> Option<Scope> {
    let (_, grants) = POLICY.iter().find(|(name, _)| *name == rpc)?;
    grants
        .iter()
        .filter(|(role, _)| caller.roles.contains(role))
        .map(|(_, scope)| *scope)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(roles: &[Role]) -> Caller {
        Caller {
            subject: "someone".into(),
            roles: roles.to_vec(),
            units: vec!["zhaocun".into()],
        }
    }

    #[test]
    fn the_widest_of_several_roles_wins() {
        let rpc = "xinfang.intake.v1.IntakeService/GetPetition";
        assert_eq!(decide(rpc, &caller(&[UnitHandler])), Some(OwnUnits));
        assert_eq!(decide(rpc, &caller(&[UnitHandler, Leader])), Some(All));
    }

    #[test]
    fn only_registrars_and_the_unit_handler_may_ask_for_a_petitioners_identity() {
        for rpc in [
            "xinfang.intake.v1.IntakeService/RevealPetitioner",
            "xinfang.intake.v1.IntakeService/RevealRepresentatives",
        ] {
            let allowed: Vec<Role> = Role::ALL
                .into_iter()
                .filter(|role| decide(rpc, &caller(&[*role])).is_some())
                .collect();
            assert_eq!(allowed, [Registrar, UnitRegistrar, UnitHandler], "{rpc}");
            assert_eq!(decide(rpc, &caller(&[UnitHandler])), Some(OwnUnits));
        }
    }

    #[test]
    fn an_rpc_not_in_the_table_is_refused_to_everyone() {
        let everyone = caller(&Role::ALL);
        assert_eq!(
            decide("xinfang.intake.v1.IntakeService/DeletePetition", &everyone),
            None
        );
    }

    #[test]
    fn the_analyst_reads_figures_and_no_case() {
        let analyst = caller(&[Analyst]);
        for (rpc, _) in POLICY {
            let allowed = decide(rpc, &analyst).is_some();
            let figures_or_directory = rpc.ends_with("/GetOverview")
                || rpc.ends_with("/GetFigures")
                || rpc.ends_with("/GetWorkFigures")
                || rpc.ends_with("/GetReport")
                || rpc.ends_with("/GetReceptionFigures")
                || rpc.ends_with("/ListUnits")
                || rpc.ends_with("/ListCategories");
            assert_eq!(allowed, figures_or_directory, "{rpc}");
        }
    }

    #[test]
    fn a_service_identity_reads_where_a_case_stands_and_changes_nothing() {
        let service = caller(&[Service]);
        let allowed: Vec<&str> = POLICY
            .iter()
            .map(|(rpc, _)| *rpc)
            .filter(|rpc| decide(rpc, &service).is_some())
            .collect();
        assert_eq!(
            allowed,
            [
                "xinfang.intake.v1.IntakeService/FollowPetition",
                "xinfang.routing.v1.RoutingService/ListCategories",
                "xinfang.routing.v1.RoutingService/ListUnits",
                "xinfang.supervision.v1.SupervisionService/GetCaseTimeline",
            ]
        );
    }

    #[test]
    fn roles_are_read_by_their_claim_names() {
        assert_eq!("unit_handler".parse::<Role>(), Ok(UnitHandler));
        assert!("root".parse::<Role>().is_err());
    }
}
