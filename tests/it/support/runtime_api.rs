//! The Lambda runtime API on loopback, and the real `ecs-srv` binary served by it: the
//! function as Lambda runs it. The binary long-polls for the next invocation, runs it and
//! posts a response or an error, as it does in Lambda; the test queues invocations and
//! reads each answer, and the process lives on between them.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::Notify;

use super::http::{read_request, write_response};

/// What the function answered to one invocation.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// `POST /runtime/invocation/{id}/response`.
    Response(Value),
    /// `POST /runtime/invocation/{id}/error`: the invocation failed.
    Error(Value),
}

#[derive(Default)]
struct State {
    waiting: Mutex<VecDeque<(String, Value)>>,
    answers: Mutex<HashMap<String, Answer>>,
    invoked: Notify,
    answered: Notify,
}

/// A runtime API serving invocations to one function process.
pub struct RuntimeApi {
    pub address: SocketAddr,
    state: Arc<State>,
    next_id: Mutex<u64>,
}

impl RuntimeApi {
    /// Serves on 127.0.0.1 at a port of the system's choosing.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let state = Arc::new(State::default());
        let serving = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(BufReader::new(stream), Arc::clone(&serving)));
            }
        });
        RuntimeApi {
            address,
            state,
            next_id: Mutex::new(0),
        }
    }

    /// Queues one invocation to `function` and waits for its answer (at most `within`);
    /// on no answer, panics with what the function printed.
    pub async fn invoke(&self, function: &Function, event: Value, within: Duration) -> Answer {
        let id = {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            format!("request-{next}")
        };
        self.state
            .waiting
            .lock()
            .unwrap()
            .push_back((id.clone(), event));
        self.state.invoked.notify_waiters();
        self.state.invoked.notify_one();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let answered = self.state.answered.notified();
            if let Some(answer) = self.state.answers.lock().unwrap().remove(&id) {
                return answer;
            }
            if tokio::time::timeout_at(deadline, answered).await.is_err() {
                panic!(
                    "the function did not answer {id} within {within:?}; it printed:\n{}\n{}",
                    function.stdout.lock().unwrap().join("\n"),
                    function.stderr.lock().unwrap().join("\n")
                );
            }
        }
    }
}

async fn serve(mut stream: BufReader<tokio::net::TcpStream>, state: Arc<State>) {
    while let Some(request) = read_request(&mut stream).await {
        let path = request.path.trim_start_matches("/2018-06-01/runtime/");
        if request.method == "GET" && path == "invocation/next" {
            let (id, event) = next_invocation(&state).await;
            let deadline = SystemTime::now() + Duration::from_secs(120);
            let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
            let headers = [
                ("Lambda-Runtime-Aws-Request-Id", id),
                ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
                (
                    "Lambda-Runtime-Invoked-Function-Arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:ecs-srv-test".to_owned(),
                ),
                (
                    "Lambda-Runtime-Trace-Id",
                    "Root=1-00000000-000000000000000000000000".to_owned(),
                ),
                ("Content-Type", "application/json".to_owned()),
            ];
            let body = event.to_string();
            if write_response(&mut stream, 200, &headers, body.as_bytes())
                .await
                .is_err()
            {
                return;
            }
            continue;
        }
        let answer = |body: &[u8]| serde_json::from_slice(body).unwrap_or(Value::Null);
        let recorded = match path
            .strip_prefix("invocation/")
            .and_then(|p| p.rsplit_once('/'))
        {
            Some((id, "response")) => {
                Some((id.to_owned(), Answer::Response(answer(&request.body))))
            }
            Some((id, "error")) => Some((id.to_owned(), Answer::Error(answer(&request.body)))),
            _ => None,
        };
        if let Some((id, answer)) = recorded {
            state.answers.lock().unwrap().insert(id, answer);
            state.answered.notify_waiters();
        }
        if write_response(&mut stream, 202, &[], b"{}").await.is_err() {
            return;
        }
    }
}

async fn next_invocation(state: &State) -> (String, Value) {
    loop {
        let invoked = state.invoked.notified();
        if let Some(next) = state.waiting.lock().unwrap().pop_front() {
            return next;
        }
        invoked.await;
    }
}

/// The real `ecs-srv` binary, served by a [`RuntimeApi`], with exactly the environment
/// given (nothing of this process's), its output collected line by line.
pub struct Function {
    child: Child,
    pub stdout: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Function {
    /// Starts the binary with `environment` plus the runtime API's address.
    pub fn start(api: &RuntimeApi, environment: &[(String, String)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ecs-srv"));
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address.to_string())
            // What Lambda sets beside the function's own variables.
            .env("AWS_LAMBDA_FUNCTION_NAME", "ecs-srv-test")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ecs-srv-test")
            .env(
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/12/07/[$LATEST]0123456789abcdef",
            )
            // The function's own variables last: they may name the function.
            .envs(environment.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("the ecs-srv binary starts");
        let stdout = collect(child.stdout.take().expect("piped"));
        let stderr = collect(child.stderr.take().expect("piped"));
        Function {
            child,
            stdout,
            stderr,
        }
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// The metric lines it printed (CloudWatch's embedded metric format).
    pub fn metric_lines(&self) -> Vec<Value> {
        self.stdout
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line.get("_aws").is_some())
            .collect()
    }

    /// Log lines at error level (JSON logs).
    pub fn error_lines(&self) -> Vec<Value> {
        self.stderr
            .lock()
            .unwrap()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line["level"] == "ERROR")
            .collect()
    }
}

fn collect(stream: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream).lines();
        while let Ok(Some(line)) = reader.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    lines
}
