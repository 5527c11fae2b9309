//! Accounts of their own in moto: credentials assumed through moto's STS into any account
//! id, so that a test sees only its own clusters, queues and zones (ListClusters, moto's
//! substring match of cluster names) whatever the other tests of the binary run.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ecs::config::{Credentials, SharedCredentialsProvider};
use ecs_srv::aws::AwsClients;

use super::{moto, moto_clients};

/// Credentials of an account, assumed through moto's STS.
#[derive(Clone, Debug)]
pub struct Identity {
    pub key: String,
    pub secret: String,
    pub token: String,
}

impl Identity {
    /// Credentials in `account` (moto's STS accepts any role there).
    pub async fn of_account(account: &str) -> Self {
        let role = format!("arn:aws:iam::{account}:role/test-admin");
        let assumed = moto_clients()
            .sts
            .assume_role()
            .role_arn(role)
            .role_session_name("test-setup")
            .send()
            .await
            .expect("AssumeRole");
        let credentials = assumed.credentials().expect("credentials");
        Identity {
            key: credentials.access_key_id().to_owned(),
            secret: credentials.secret_access_key().to_owned(),
            token: credentials.session_token().to_owned(),
        }
    }

    /// Clients of this account in `region`, aimed at moto.
    pub fn clients(&self, region: &str) -> AwsClients {
        let credentials = Credentials::new(
            &self.key,
            &self.secret,
            Some(self.token.clone()),
            None,
            "test-account",
        );
        let sdk = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_owned()))
            .endpoint_url(moto().endpoint())
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        AwsClients::from_sdk_config(&sdk)
    }

    /// The variables that give a process these credentials.
    pub fn environment(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".to_owned(), self.key.clone()),
            ("AWS_SECRET_ACCESS_KEY".to_owned(), self.secret.clone()),
            ("AWS_SESSION_TOKEN".to_owned(), self.token.clone()),
        ]
    }
}
