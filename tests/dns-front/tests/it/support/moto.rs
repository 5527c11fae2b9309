//! The test binary's moto server, started once by `moto-launcher` (the workspace's one
//! launcher) from the venv of the checkout the tests run in, and Route 53 clients aimed at
//! it. Each test writes its own zone, so the tests share the server.

use std::sync::OnceLock;

use aws_sdk_route53::config::{Credentials, Region};
use moto_launcher::{MotoServer, Workspace};

/// A handle on the binary's moto server.
#[derive(Clone, Copy, Debug)]
pub struct Moto {
    server: &'static MotoServer,
}

impl Moto {
    /// The binary's moto, started on first use; a test fails with the way to install moto
    /// when it cannot start. Never a skip.
    pub fn shared() -> Moto {
        static SERVER: OnceLock<MotoServer> = OnceLock::new();
        let server = SERVER.get_or_init(|| {
            let workspace = Workspace::find().unwrap_or_else(|error| panic!("{error}"));
            MotoServer::start(&workspace).unwrap_or_else(|error| panic!("{error}"))
        });
        Moto { server }
    }

    /// A Route 53 client for this server, with dummy credentials.
    pub async fn route53(&self) -> aws_sdk_route53::Client {
        let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(self.endpoint())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "testing",
                "testing",
                None,
                None,
                "moto-test",
            ))
            .load()
            .await;
        aws_sdk_route53::Client::new(&config)
    }

    /// The URL to pass as AWS_ENDPOINT_URL to a child process.
    pub fn endpoint(&self) -> &'static str {
        self.server.endpoint()
    }
}
