//! Step 6: the SRV clients on the whole sets. srv-proxy in front of both services, and a
//! stock HAProxy beside it on the same zone, with the `server-template` of docs/clients.md.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::Demo;
use crate::haproxy::{RunningHaproxy, HOLD_VALID, RESOLVE_INTERVAL};
use crate::report::{HaproxyReport, TrafficReport};
use crate::traffic::{send_requests, RunningProxy};

/// HAProxy's first resolutions take a second or two; a loaded machine more.
const FILL_DEADLINE: Duration = Duration::from_secs(20);

impl Demo {
    /// Step 6: srv-proxy in front of both services, on their whole sets, and `requests`
    /// requests to `web` (plus a few to `api`) through it.
    pub async fn send_traffic(&mut self) -> Result<TrafficReport> {
        let account = self.account.clone().context("seed the account first")?;
        let dns = self.dns_addr().context("the DNS front is not running")?;
        let names = [Self::whole_set_name("web"), Self::whole_set_name("api")];
        let proxy = RunningProxy::start(dns, &names).await?;
        let web = send_requests(
            proxy.addr_of(&names[0]).context("web route")?,
            self.setup.requests,
        )
        .await;
        let api = send_requests(proxy.addr_of(&names[1]).context("api route")?, 5).await;
        let report = TrafficReport {
            routes: proxy.routes.clone(),
            web,
            api,
            web_tasks: account.web_tasks.iter().map(|t| t.id.clone()).collect(),
            api_task: account.api_task.id.clone(),
        };
        self.proxy = Some(proxy);
        Ok(report)
    }

    /// Starts HAProxy on the whole set of `web`, waits until it has filled a slot per
    /// task, and sends `requests` requests through it.
    pub async fn haproxy(&mut self) -> Result<HaproxyReport> {
        let account = self.account.clone().context("seed the account first")?;
        let dns = self.dns_addr().context("the DNS front is not running")?;
        let srv_name = Self::whole_set_name("web");
        let mut haproxy = RunningHaproxy::start(dns, &srv_name, self.work_dir.path()).await?;
        let wanted = account.web_tasks.len();
        let started = Instant::now();
        let slots = haproxy
            .wait_for_servers(FILL_DEADLINE, |s| s.len() == wanted)
            .await?;
        let filled_after = started.elapsed();
        let spread = send_requests(haproxy.listen, self.setup.requests).await;
        let report = HaproxyReport {
            srv_name,
            listen: haproxy.listen,
            slots,
            filled_after,
            spread,
            web_tasks: account.web_tasks.iter().map(|t| t.id.clone()).collect(),
        };
        self.haproxy = Some(haproxy);
        Ok(report)
    }

    /// After a withdrawal: how long HAProxy took to drop the slot at `task_id`'s name,
    /// if HAProxy runs. Bounded by a resolution interval past HAProxy's hold.
    pub(super) async fn haproxy_drops(&mut self, task_id: &str) -> Result<Option<Duration>> {
        let Some(haproxy) = self.haproxy.as_mut() else {
            return Ok(None);
        };
        let started = Instant::now();
        haproxy
            .wait_for_servers(HOLD_VALID + 2 * RESOLVE_INTERVAL, |slots| {
                slots.iter().all(|s| !s.fqdn.starts_with(task_id))
            })
            .await?;
        Ok(Some(started.elapsed()))
    }
}
