//! Step 7: a task leaves. ECS stops it, its events withdraw it before its server exits,
//! and a late, duplicated RUNNING event must not bring it back.

use anyhow::{Context, Result};

use super::{Demo, FRONT_REFRESH, MAX_SRV_QUERIES};
use crate::account;
use crate::events::{self, Stage};
use crate::report::{DrainReport, LateReport};
use crate::traffic::send_requests;

impl Demo {
    /// Step 7: ECS stops the first web task. Its draining event (desired STOPPED) comes
    /// while its server still runs, and traffic must leave it at once; then its server
    /// exits and the STOPPED event follows.
    pub async fn drain_one(&mut self) -> Result<DrainReport> {
        let account = self.account.clone().context("seed the account first")?;
        let task = account
            .web_tasks
            .first()
            .context("no web task to drain")?
            .clone();
        let port = self.host_port(&task)?;
        account::stop_task(&self.clients, &task.arn).await?;
        let draining = self
            .function()?
            .deliver(&events::bridge_event(
                Stage::Draining,
                &task,
                &account,
                port,
            )?)
            .await?;
        // Once DNS no longer knows the task, new connections avoid it. srv-proxy serves its
        // last answer while one refresh runs beside the traffic (TTL 0 refreshes after every
        // use), so one connection starts the refresh that learns of the drain, and the
        // connections after it avoid the task.
        self.wait_for_dns(&Self::task_name(&task), false).await?;
        let haproxy_dropped_after = self.haproxy_drops(&task.id).await?;

        let web_addr = self.proxy_addr("web")?;
        send_requests(web_addr, 1).await;
        tokio::time::sleep(FRONT_REFRESH * 3).await;
        let before = self.server(&task.id)?.connections();
        let during_drain = send_requests(web_addr, self.setup.requests).await;
        let connections_while_draining = self.server(&task.id)?.connections() - before;

        if let Some(server) = self.servers.remove(&task.id) {
            server.stop().await;
        }
        let stopped = self
            .function()?
            .deliver(&events::bridge_event(
                Stage::Stopped,
                &task,
                &account,
                port,
            )?)
            .await?;
        let records_left = self.records_naming(&task.id).await?;
        Ok(DrainReport {
            task_id: task.id.clone(),
            draining,
            during_drain,
            connections_while_draining,
            stopped,
            haproxy_dropped_after,
            records_left,
            remaining_tasks: account
                .web_tasks
                .iter()
                .skip(1)
                .map(|t| t.id.clone())
                .collect(),
        })
    }

    /// Step 7, continued: the stopped task's RUNNING event arrives again, late (EventBridge
    /// delivers at least once, in any order). ecs-srv must check ECS and not bring it back.
    pub async fn late_running(&mut self) -> Result<LateReport> {
        let account = self.account.clone().context("seed the account first")?;
        let task = account.web_tasks.first().context("no web task")?.clone();
        let event = events::bridge_event(Stage::Running, &task, &account, self.host_port(&task)?)?;
        let invocation = self.function()?.deliver(&event).await?;
        let ecs_status = account::task_status(&self.clients, &task.arn).await?;
        tokio::time::sleep(FRONT_REFRESH * 3).await;
        let records_left = self.records_naming(&task.id).await?;
        let srv_queries = MAX_SRV_QUERIES / 2;
        let mut srv_answers_naming_task = 0;
        for _ in 0..srv_queries {
            let answer = self.dns.srv(&Self::srv_name("web")).await?;
            srv_answers_naming_task += answer
                .iter()
                .filter(|r| r.target.starts_with(task.id.as_str()))
                .count();
        }
        let traffic = send_requests(self.proxy_addr("web")?, self.setup.requests / 3).await;
        Ok(LateReport {
            task_id: task.id,
            invocation,
            ecs_status,
            records_left,
            srv_queries,
            srv_answers_naming_task,
            traffic,
        })
    }
}
