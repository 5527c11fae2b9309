//! The one way tests build the publisher's configuration: through its own clap parser, so
//! that every setting gets the default a user gets and a new setting needs no change here.

use clap::Parser;
use ecs_srv::config::Settings;

#[derive(Parser)]
struct ConfigArgs {
    #[command(flatten)]
    config: Settings,
}

/// The defaults for `zone_id`, requests paced at the highest rate allowed (so that pacing
/// costs the suite little time, unless `flags` set the rate), plus `flags` such as
/// `["--srv-sets", "on"]`.
pub fn publisher_config(zone_id: &str, flags: &[&str]) -> Settings {
    let mut argv = vec!["ecs-srv", "--hosted-zone-id", zone_id];
    if !flags.contains(&"--route53-write-rate") {
        argv.extend_from_slice(&["--route53-write-rate", "100"]);
    }
    argv.extend_from_slice(flags);
    ConfigArgs::try_parse_from(argv)
        .unwrap_or_else(|err| panic!("test flags {flags:?} do not parse: {err}"))
        .config
}

/// Where the tests' deployments run: moto's default account in the tests' region.
pub fn scope() -> ecs_srv::plan::naming::Scope {
    ecs_srv::plan::naming::Scope {
        partition: "aws".into(),
        region: super::REGION.into(),
        account: super::ACCOUNT.into(),
    }
}

/// A deployment of `settings` on `clients`, where the tests run (no STS call, so that
/// call counts are the event path's own).
pub async fn deployment(
    settings: Settings,
    clients: ecs_srv::aws::AwsClients,
) -> Result<ecs_srv::run::deployment::Deployment, ecs_srv::run::deployment::StartError> {
    ecs_srv::run::deployment::Deployment::with_scope(settings, clients, scope()).await
}
