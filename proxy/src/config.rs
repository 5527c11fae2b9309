//! The command line: every flag, its environment variable, its default and its checks.
//!
//! Every flag has an `SRV_PROXY_*` variable because an ECS container definition passes
//! `environment`, not arguments, most comfortably. Bad values stop the proxy at start with a
//! message that names the flag, rather than failing on the first client.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use hickory_resolver::proto::rr::Name;

use crate::ejection::EjectionPolicy;

/// The address a route listens on when only a port is given: loopback, so that a sidecar is
/// reachable from its own task only.
pub const DEFAULT_LISTEN_IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// srv-proxy: listens locally and forwards each TCP connection to one target of a DNS SRV name,
/// chosen by priority and weight (RFC 2782).
#[derive(Debug, Parser)]
#[command(name = "srv-proxy", version, about, long_about = None, subcommand_negates_reqs = true)]
pub struct Cli {
    /// Without a command, srv-proxy runs the proxy.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// A route, LISTEN=SRVNAME, e.g. 127.0.0.1:8080=_web._tcp._all.web.ecs.internal (a service's
    /// whole SRV set). LISTEN may be a bare port, which binds 127.0.0.1. Repeat the flag (or
    /// separate with commas) for more routes.
    #[arg(
        long = "route",
        env = "SRV_PROXY_ROUTES",
        value_name = "LISTEN=SRVNAME",
        value_delimiter = ',',
        required = true,
        value_parser = parse_route
    )]
    pub routes: Vec<RouteSpec>,

    /// The DNS server to ask, IP or IP:PORT (port 53 when omitted). By default the system's
    /// resolv.conf is used, which in an ECS task is the VPC resolver.
    #[arg(long, env = "SRV_PROXY_DNS", value_name = "IP[:PORT]", value_parser = parse_nameserver)]
    pub dns: Option<SocketAddr>,

    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9901. Off by default.
    #[arg(long, env = "SRV_PROXY_METRICS", value_name = "ADDR", value_parser = parse_listen_addr)]
    pub metrics: Option<SocketAddr>,

    /// Log format on stderr. RUST_LOG sets the level (default: info).
    #[arg(long, env = "SRV_PROXY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// The knobs of every connection.
    #[command(flatten)]
    pub settings: ProxySettings,
}

/// What else the binary can do besides running the proxy.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Asks the proxy running beside it (at its --metrics address) whether it accepts clients
    /// and has a usable answer for every route; exits 0 if so. For a container health check in
    /// an image without a shell: ["CMD", "/srv-proxy", "health"].
    Health(HealthArgs),
}

/// `srv-proxy health`: asks the proxy running beside it whether it is healthy.
#[derive(Clone, Debug, Args)]
pub struct HealthArgs {
    /// The running proxy's --metrics address; an unspecified IP (0.0.0.0, ::) is asked on
    /// loopback.
    #[arg(long, env = "SRV_PROXY_METRICS", value_name = "ADDR", required = true, value_parser = parse_listen_addr)]
    pub metrics: Option<SocketAddr>,

    /// How long the whole probe may take (keep it under the health check's own timeout).
    #[arg(long, env = "SRV_PROXY_HEALTH_TIMEOUT", default_value = "4s", value_parser = parse_duration)]
    pub timeout: Duration,
}

/// The knobs that shape every connection, whatever its route: derived once from the flags and
/// borrowed by every route, never copied field by field.
#[derive(Clone, Debug, Args)]
pub struct ProxySettings {
    /// How long one connect to a target may take before another target is tried.
    #[arg(long, env = "SRV_PROXY_CONNECT_TIMEOUT", default_value = "2s", value_parser = parse_duration)]
    pub connect_timeout: Duration,

    /// How long a connection may stay silent in both directions before it is closed
    /// (1h, as ECS Service Connect uses for TCP).
    #[arg(long, env = "SRV_PROXY_IDLE_TIMEOUT", default_value = "1h", value_parser = parse_duration)]
    pub idle_timeout: Duration,

    /// The least time between two DNS lookups of a route's name, whatever the answer's TTL: a
    /// TTL 0 name is asked again at most this often, and every connection still makes its own
    /// weighted pick from the answer in use. 0s asks again for every connection (one lookup in
    /// flight at a time).
    #[arg(long, env = "SRV_PROXY_MIN_TTL", default_value = "1s", value_parser = parse_duration)]
    pub min_ttl: Duration,

    /// Connect retries on other targets after a failed connect, before a fresh DNS resolution.
    #[arg(long, env = "SRV_PROXY_RETRIES", default_value_t = 2)]
    pub retries: u32,

    /// Open client connections allowed across all routes; further clients are closed at once.
    /// Each connection uses two file descriptors, so keep this under half of `ulimit -n`.
    #[arg(long, env = "SRV_PROXY_MAX_CONNECTIONS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Worker threads. Each runs its own single-threaded runtime and accepts on every route, so
    /// a connection stays on one thread; two suit a sidecar, more suit a busy host proxy.
    #[arg(long, env = "SRV_PROXY_WORKERS", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: u16,

    /// After SIGTERM or SIGINT, how long open connections may run on before the proxy exits.
    /// The default stays under the 30s ECS waits before it sends SIGKILL.
    #[arg(long, env = "SRV_PROXY_DRAIN_TIMEOUT", default_value = "25s", value_parser = parse_duration)]
    pub drain_timeout: Duration,

    /// Passive ejection thresholds; fixed, not a flag (tests shorten them).
    #[arg(skip)]
    pub ejection: EjectionPolicy,

    /// A fixed seed for the target picker, for reproducible tests; `None` seeds from the OS.
    #[arg(skip)]
    pub rng_seed: Option<u64>,
}

impl ProxySettings {
    /// The flags' own defaults, whatever the environment says: what a test starts from, so
    /// that a new setting cannot be forgotten there.
    pub fn defaults() -> Self {
        let command = SettingsOnly::command().mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(["srv-proxy"])
            .expect("every setting has a default");
        SettingsOnly::from_arg_matches(&matches)
            .expect("the defaults parse")
            .settings
    }
}

/// The settings alone, to read their defaults.
#[derive(Parser)]
struct SettingsOnly {
    #[command(flatten)]
    settings: ProxySettings,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for CloudWatch Logs Insights and friends.
    Json,
}

/// One `LISTEN=SRVNAME` pair, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The SRV name to forward to.
    pub srv_name: String,
}

impl FromStr for RouteSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse_route(text)
    }
}

/// Parses `LISTEN=SRVNAME`.
pub fn parse_route(text: &str) -> Result<RouteSpec, String> {
    let text = text.trim();
    let Some((listen, srv_name)) = text.split_once('=') else {
        return Err(format!(
            "route {text:?} must look like LISTEN=SRVNAME, e.g. 127.0.0.1:8080=_web._tcp._all.web.ecs.internal"
        ));
    };
    let listen = parse_listen_addr(listen).map_err(|error| format!("route {text:?}: {error}"))?;
    let srv_name = srv_name.trim();
    if srv_name.is_empty() || srv_name.contains(char::is_whitespace) {
        return Err(format!(
            "route {text:?}: the SRV name is empty or has spaces"
        ));
    }
    Name::from_ascii(srv_name)
        .map_err(|error| format!("route {text:?}: {srv_name:?} is not a DNS name: {error}"))?;
    Ok(RouteSpec {
        listen,
        srv_name: srv_name.to_owned(),
    })
}

/// Parses `IP:PORT`, or a bare port that binds [`DEFAULT_LISTEN_IP`].
pub fn parse_listen_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(DEFAULT_LISTEN_IP, port));
    }
    text.parse().map_err(|_| {
        format!("{text:?} is not a listen address: use IP:PORT (e.g. 127.0.0.1:8080, [::1]:8080) or a port")
    })
}

/// Parses `IP:PORT`, or a bare IP (IPv6 with or without brackets) for port 53.
pub fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    let bare = text
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .unwrap_or(text);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    text.parse().map_err(|_| {
        format!(
            "{text:?} is not a nameserver address: use IP or IP:PORT (e.g. 169.254.169.253, \
             127.0.0.1:5353, [fd00::2]:53)"
        )
    })
}

/// Parses durations such as `2s`, `500ms`, `1h` or `1m30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|error| {
        format!("{text:?} is not a duration ({error}); use forms like 2s, 500ms, 1h")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_and_defaults_parse() {
        let cli = Cli::try_parse_from([
            "srv-proxy",
            "--route",
            "8080=_web._tcp.web.ecs.internal",
            "--route",
            "[::1]:9090=_db._tcp.db.ecs.internal,127.0.0.2:7070=_x._tcp.x.internal",
            "--connect-timeout",
            "500ms",
        ])
        .expect("valid flags");
        assert_eq!(cli.routes.len(), 3);
        assert_eq!(
            cli.routes[0].listen,
            "127.0.0.1:8080".parse::<SocketAddr>().expect("addr")
        );
        assert_eq!(
            cli.routes[1].listen,
            "[::1]:9090".parse::<SocketAddr>().expect("addr")
        );
        assert_eq!(cli.settings.connect_timeout, Duration::from_millis(500));
        assert_eq!(cli.settings.idle_timeout, Duration::from_secs(3600));
        assert_eq!(cli.settings.retries, 2);
        assert_eq!(cli.dns, None);
        assert_eq!(cli.metrics, None);
        assert_eq!(cli.log_format, LogFormat::Text);
        assert!(cli.command.is_none());
    }

    #[test]
    fn health_needs_no_route_but_the_metrics_address() {
        let cli = Cli::try_parse_from(["srv-proxy", "health", "--metrics", "9901"]).expect("flags");
        let Some(Command::Health(args)) = cli.command else {
            panic!("the health command");
        };
        assert_eq!(args.metrics, Some("127.0.0.1:9901".parse().expect("addr")));
        assert_eq!(args.timeout, Duration::from_secs(4));
    }

    #[test]
    fn bad_values_are_rejected_with_the_reason() {
        for bad in [
            vec!["--route", "8080"],
            vec!["--route", "nohost:80=_a._tcp.b"],
            vec!["--route", "8080=_a._tcp.b", "--connect-timeout", "soon"],
            vec!["--route", "8080=_a._tcp.b", "--dns", "resolver"],
            vec!["--route", "8080=_a._tcp.b", "--log-format", "xml"],
            vec!["--route", "8080=_a._tcp.b", "--max-connections", "0"],
            vec![],
        ] {
            let args = std::iter::once("srv-proxy").chain(bad.iter().copied());
            assert!(Cli::try_parse_from(args).is_err(), "{bad:?} should fail");
        }
        let error = parse_route("8080").expect_err("no SRV name");
        assert!(error.contains("LISTEN=SRVNAME"), "{error}");
    }

    #[test]
    fn dns_takes_an_ip_or_an_ip_and_port() {
        for (given, meant) in [
            ("10.0.0.2", "10.0.0.2:53"),
            ("127.0.0.1:5353", "127.0.0.1:5353"),
            ("fd00::2", "[fd00::2]:53"),
            ("[fd00::2]", "[fd00::2]:53"),
            ("[fd00::2]:5353", "[fd00::2]:5353"),
        ] {
            let cli =
                Cli::try_parse_from(["srv-proxy", "--route", "8080=_a._tcp.b", "--dns", given])
                    .unwrap_or_else(|error| panic!("--dns {given}: {error}"));
            assert_eq!(cli.dns, Some(meant.parse().expect("addr")), "--dns {given}");
        }
        let error = parse_nameserver("resolver.internal").expect_err("a name, not an IP");
        assert!(error.contains("IP or IP:PORT"), "{error}");
    }

    #[test]
    fn the_settings_defaults_are_the_flags_defaults() {
        let cli = Cli::try_parse_from(["srv-proxy", "--route", "8080=_a._tcp.b"]).expect("flags");
        let defaults = ProxySettings::defaults();
        assert_eq!(format!("{:?}", cli.settings), format!("{defaults:?}"));
        assert_eq!(defaults.max_connections, 4096);
        assert_eq!(defaults.drain_timeout, Duration::from_secs(25));
        assert_eq!(defaults.min_ttl, Duration::from_secs(1));
    }
}
